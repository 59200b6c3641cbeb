// An append-only log of JSON records on disk. A record counts as written only once it has been
// fsynced: consensus may not send a promise or an accept before the state behind it is durable.
//
// Frame: [u32 BE length][u32 BE crc32 of the JSON bytes][JSON bytes].
// Recovery keeps the longest valid prefix. A crash can only tear the last, unsynced batch, so the
// first bad frame (short header, short body, CRC mismatch, unparsable JSON) starts the torn tail;
// it and everything after it are truncated away before new appends land behind them.
import { constants as fsConstants } from "node:fs";
import { type FileHandle, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";

const LOG_FILE = "log";
const TEMP_FILE = "log.rewrite";
const HEADER_BYTES = 8;
/**
 * A length above this is corruption, not a record (the transport's frame limit is 64 MiB). The
 * writer refuses a larger record, so recovery never cuts a record that was really written.
 */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export class RecordTooLargeError extends Error {
  override readonly name = "RecordTooLargeError";
}

export interface DurableLogStats {
  /** append() calls. */
  appends: number;
  /** Records in those calls. */
  records: number;
  /** fsync/fdatasync calls, on the log, a rewrite's temp file and the directory. */
  fsyncs: number;
  /** Bytes written, frames included. */
  bytes: number;
  rewrites: number;
}

export interface OpenedLog {
  log: DurableLog;
  /** The records on disk, in append order. */
  records: unknown[];
  /** Bytes of torn or corrupt tail cut off while opening (0 after a clean shutdown). */
  truncatedBytes: number;
}

interface Op {
  kind: "append" | "rewrite";
  data: Buffer;
  done: Settle;
}

interface Settle {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function encodeRecord(record: unknown, maxRecordBytes = MAX_RECORD_BYTES): Buffer {
  const json = JSON.stringify(record);
  if (json === undefined) throw new TypeError("a log record must be JSON-serializable");
  const body = Buffer.from(json, "utf8");
  if (body.length > maxRecordBytes) {
    const kind = (record as { type?: unknown })?.type;
    throw new RecordTooLargeError(
      `a log record${typeof kind === "string" ? ` (${kind})` : ""} of ${body.length} bytes ` +
        `exceeds the ${maxRecordBytes}-byte limit that recovery enforces: refused, not written`,
    );
  }
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.writeUInt32BE(crc32(body), 4);
  body.copy(frame, HEADER_BYTES);
  return frame;
}

/** Parses frames until the first bad one; `validBytes` is where the torn tail begins. */
export function decodeRecords(
  data: Buffer,
  maxRecordBytes = MAX_RECORD_BYTES,
): { records: unknown[]; validBytes: number } {
  const records: unknown[] = [];
  let at = 0;
  while (data.length - at >= HEADER_BYTES) {
    const length = data.readUInt32BE(at);
    const end = at + HEADER_BYTES + length;
    if (length > maxRecordBytes || end > data.length) break;
    const body = data.subarray(at + HEADER_BYTES, end);
    if (crc32(body) !== data.readUInt32BE(at + 4)) break;
    try {
      records.push(JSON.parse(body.toString("utf8")));
    } catch {
      break;
    }
    at = end;
  }
  return { records, validBytes: at };
}

export class DurableLog {
  private readonly queue: Op[] = [];
  private flushing = false;
  /** Settles when every sync issued so far has completed; rejects if one failed. */
  private chain: Promise<void> = Promise.resolve();
  private written: Promise<void> = Promise.resolve();
  private failure: unknown;
  private closed = false;
  private readonly counters: DurableLogStats = {
    appends: 0,
    records: 0,
    fsyncs: 0,
    bytes: 0,
    rewrites: 0,
  };

  private constructor(
    private readonly dir: string,
    private handle: FileHandle,
    private readonly maxRecordBytes: number,
  ) {}

  /** `maxRecordBytes`: the limit both reading and writing enforce (tests make it small). */
  static async open(dir: string, { maxRecordBytes = MAX_RECORD_BYTES } = {}): Promise<OpenedLog> {
    await mkdir(dir, { recursive: true });
    // A rewrite that crashed before its rename left only garbage: the old log is still whole.
    await rm(join(dir, TEMP_FILE), { force: true });
    const path = join(dir, LOG_FILE);
    let data: Buffer;
    let existed = true;
    try {
      data = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      data = Buffer.alloc(0);
      existed = false;
    }
    const { records, validBytes } = decodeRecords(data, maxRecordBytes);
    const handle = await open(path, "a");
    const log = new DurableLog(dir, handle, maxRecordBytes);
    try {
      if (validBytes < data.length) {
        await handle.truncate(validBytes);
        await log.fsync(handle);
      }
      if (!existed) await log.syncDir();
    } catch (error) {
      await handle.close();
      throw error;
    }
    return { log, records, truncatedBytes: data.length - validBytes };
  }

  /**
   * Appends records; resolves once they are on disk. Calls made while a write is in flight are
   * batched into the next single write and fsync (group commit). Records land in call order.
   * After a failed write the log refuses further appends: what is on disk is no longer known.
   */
  append(records: readonly unknown[]): Promise<void> {
    return this.submit("append", records);
  }

  /**
   * Atomically replaces the whole log with `records` (after a snapshot made older entries
   * redundant). Appends issued before this call are written first; later ones land after it.
   */
  rewrite(records: readonly unknown[]): Promise<void> {
    return this.submit("rewrite", records);
  }

  stats(): DurableLogStats {
    return { ...this.counters };
  }

  /** Waits for queued writes, then closes the file. Later calls reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    const drained = this.enqueue("append", Buffer.alloc(0)).catch(() => {});
    this.closed = true;
    await drained;
    await this.handle.close();
  }

  /** Encodes `records` (a non-JSON record rejects, nothing queued) and queues them. */
  private submit(kind: Op["kind"], records: readonly unknown[]): Promise<void> {
    let data: Buffer;
    try {
      data = Buffer.concat(records.map((r) => encodeRecord(r, this.maxRecordBytes)));
    } catch (error) {
      return Promise.reject(error);
    }
    if (kind === "append") {
      this.counters.appends++;
      this.counters.records += records.length;
    }
    return this.enqueue(kind, data);
  }

  private enqueue(kind: Op["kind"], data: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the durable log is closed"));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind, data, done: { resolve, reject } });
      if (!this.flushing) {
        this.flushing = true;
        // Deferred so that every append issued in the same turn shares the first fsync too.
        queueMicrotask(() => void this.flush());
      }
    });
  }

  /**
   * Writes are issued one at a time, in order; each batch's fdatasync may overlap the next
   * batch's write (at most two syncs in flight). A batch resolves once its own sync and every
   * earlier one have completed, so completions stay in order: fdatasync makes everything written
   * to the file before it was called durable, whichever sync returns first. Overlapping the
   * sync of one batch with the write of the next roughly halves the time an append waits.
   */
  private async flush(): Promise<void> {
    while (this.queue.length > 0 && this.failure === undefined) {
      const head = this.queue[0]!;
      if (head.kind === "rewrite") {
        // A rewrite replaces the file: every earlier append must be durable first.
        await this.chain.catch(() => {});
        if (this.failure !== undefined) break;
        this.queue.shift();
        try {
          await this.replace(head.data);
        } catch (error) {
          this.fail(error, [head]);
          break;
        }
        head.done.resolve();
        continue;
      }
      const batch = this.takeAppends();
      const data = Buffer.concat(batch.map((op) => op.data));
      let sync: Promise<void>;
      try {
        sync = data.length === 0 ? Promise.resolve() : this.writeAndSync(data);
        if (data.length > 0) await this.written;
      } catch (error) {
        this.fail(error, batch);
        break;
      }
      const prev = this.chain;
      const mine = prev.then(
        () => sync,
        (error: unknown) => {
          sync.catch(() => {});
          throw error;
        },
      );
      this.chain = mine;
      mine.then(
        () => {
          for (const op of batch) op.done.resolve();
        },
        (error: unknown) => this.fail(error, batch),
      );
      // At most two syncs in flight: the next write waits for the previous sync.
      await prev.catch(() => {});
    }
    if (this.failure !== undefined) this.fail(this.failure, []);
    this.flushing = false;
  }

  /** After a failed write or sync, nothing later may be reported durable. */
  private fail(error: unknown, batch: Op[]): void {
    this.failure ??= error;
    for (const op of [...batch, ...this.queue.splice(0)]) op.done.reject(this.failure);
  }

  private takeAppends(): Op[] {
    let n = 0;
    while (n < this.queue.length && this.queue[n]!.kind === "append") n++;
    return this.queue.splice(0, n);
  }

  /**
   * Starts writing `data`; `this.written` settles when the write is done, the returned promise
   * when the fdatasync issued right after it is done.
   */
  private writeAndSync(data: Buffer): Promise<void> {
    const handle = this.handle;
    const written = writeAll(handle, data).then(() => {
      this.counters.bytes += data.length;
    });
    this.written = written;
    // fdatasync still flushes the file size, which is all an append changes besides the data.
    const synced = written.then(() => this.fsync(handle, true));
    synced.catch(() => {});
    return synced;
  }

  private async replace(data: Buffer): Promise<void> {
    const temp = join(this.dir, TEMP_FILE);
    const file = await open(temp, "w");
    try {
      await writeAll(file, data);
      await this.fsync(file);
    } finally {
      await file.close();
    }
    this.counters.bytes += data.length;
    await rename(temp, join(this.dir, LOG_FILE));
    // Without the directory fsync a crash could bring back the old log after the rename.
    await this.syncDir();
    const fresh = await open(join(this.dir, LOG_FILE), "a");
    const old = this.handle;
    this.handle = fresh;
    await old.close();
    this.counters.rewrites++;
  }

  private async fsync(handle: FileHandle, dataOnly = false): Promise<void> {
    await (dataOnly ? handle.datasync() : handle.sync());
    this.counters.fsyncs++;
  }

  private async syncDir(): Promise<void> {
    const dir = await open(this.dir, fsConstants.O_RDONLY);
    try {
      await this.fsync(dir);
    } finally {
      await dir.close();
    }
  }
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let at = 0;
  while (at < data.length) {
    const { bytesWritten } = await handle.write(data, at, data.length - at);
    at += bytesWritten;
  }
}
