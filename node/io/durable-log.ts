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
import { crc32 } from "./crc32.js";

const LOG_FILE = "log";
const TEMP_FILE = "log.rewrite";
const HEADER_BYTES = 8;
/** A length above this is corruption, not a record (the transport's frame limit is 64 MiB). */
const MAX_RECORD_BYTES = 256 * 1024 * 1024;

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

type Op =
  | { kind: "append"; data: Buffer; done: Settle }
  | { kind: "rewrite"; data: Buffer; done: Settle };

interface Settle {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function encodeRecord(record: unknown): Buffer {
  const json = JSON.stringify(record);
  if (json === undefined) throw new TypeError("a log record must be JSON-serializable");
  const body = Buffer.from(json, "utf8");
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.writeUInt32BE(crc32(body), 4);
  body.copy(frame, HEADER_BYTES);
  return frame;
}

/** Parses frames until the first bad one; `validBytes` is where the torn tail begins. */
export function decodeRecords(data: Buffer): { records: unknown[]; validBytes: number } {
  const records: unknown[] = [];
  let at = 0;
  while (data.length - at >= HEADER_BYTES) {
    const length = data.readUInt32BE(at);
    const end = at + HEADER_BYTES + length;
    if (length > MAX_RECORD_BYTES || end > data.length) break;
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
  ) {}

  static async open(dir: string): Promise<OpenedLog> {
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
    const { records, validBytes } = decodeRecords(data);
    const handle = await open(path, "a");
    const log = new DurableLog(dir, handle);
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
    let data: Buffer;
    try {
      data = Buffer.concat(records.map(encodeRecord));
    } catch (error) {
      return Promise.reject(error);
    }
    this.counters.appends++;
    this.counters.records += records.length;
    return this.enqueue("append", data);
  }

  /**
   * Atomically replaces the whole log with `records` (after a snapshot made older entries
   * redundant). Appends issued before this call are written first; later ones land after it.
   */
  rewrite(records: readonly unknown[]): Promise<void> {
    let data: Buffer;
    try {
      data = Buffer.concat(records.map(encodeRecord));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue("rewrite", data);
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

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const batch = head.kind === "rewrite" ? this.queue.splice(0, 1) : this.takeAppends();
      try {
        if (head.kind === "rewrite") await this.replace(head.data);
        else await this.write(Buffer.concat(batch.map((op) => op.data)));
      } catch (error) {
        this.failure = error;
        for (const op of [...batch, ...this.queue.splice(0)]) op.done.reject(error);
        break;
      }
      for (const op of batch) op.done.resolve();
    }
    this.flushing = false;
  }

  private takeAppends(): Op[] {
    let n = 0;
    while (n < this.queue.length && this.queue[n]!.kind === "append") n++;
    return this.queue.splice(0, n);
  }

  private async write(data: Buffer): Promise<void> {
    if (data.length === 0) return;
    await writeAll(this.handle, data);
    this.counters.bytes += data.length;
    await this.fsync(this.handle, true);
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
    // fdatasync still flushes the file size, which is all an append changes besides the data.
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
