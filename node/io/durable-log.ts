// An append-only log of JSON records on disk. A record counts as written only once it has been
// fsynced: consensus may not send a promise or an accept before the state behind it is durable.
//
// On disk the log is a sequence of segment files (log-segments.ts) of CRC-checked frames
// (log-records.ts). Recovery replays the segments in order and keeps the newest one's longest
// valid prefix: a crash can only tear the last, unsynced batch, so the first bad frame there
// starts the torn tail; it is truncated away before new appends land behind it.
//
// Compaction rewrites nothing. The caller starts a new segment with records that make every
// older one redundant (startSegment); once they are durable the older files are deleted in the
// background while appends go on into the new segment. A rewrite of the whole file used to block
// the event loop for as long as encoding it took, and every append queued behind it waited for it.
import { constants as fsConstants } from "node:fs";
import { type FileHandle, mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { encodeRecord, MAX_RECORD_BYTES } from "./log-records.js";
import { listSegments, readSegments, segmentName } from "./log-segments.js";

export {
  decodeRecords,
  encodeRecord,
  MAX_RECORD_BYTES,
  RecordTooLargeError,
} from "./log-records.js";
export { CorruptLogError } from "./log-segments.js";

/** The previous version's rewrite temp file: left by a crash before its rename, only garbage. */
const LEGACY_TEMP = "log.rewrite";

export interface DurableLogStats {
  /** append() and startSegment() calls. */
  appends: number;
  /** Records in those calls. */
  records: number;
  /** fsync/fdatasync calls, on the segment files and the directory. */
  fsyncs: number;
  /** Bytes written, frames included. */
  bytes: number;
  /**
   * Compactions done: a new segment made durable and the older ones deleted. (The name is the
   * single-file log's, which rewrote itself; the count means the same.)
   */
  rewrites: number;
  /** Segment files on disk now. */
  segments: number;
  /** Bytes in those files: what a recovery would read. */
  diskBytes: number;
}

export interface OpenOptions {
  /** The limit both reading and writing enforce (tests make it small). */
  maxRecordBytes?: number;
  /** Deletes an obsolete segment file (tests hold it up, to see appends go on meanwhile). */
  removeFile?: (path: string) => Promise<void>;
}

export interface OpenedLog {
  log: DurableLog;
  /** The records on disk, in append order. */
  records: unknown[];
  /** Bytes of torn or corrupt tail cut off while opening (0 after a clean shutdown). */
  truncatedBytes: number;
}

interface Op {
  kind: "append" | "segment";
  data: Buffer;
  done: Settle;
}

interface Settle {
  resolve: () => void;
  reject: (error: unknown) => void;
}

const removeWithRm = (path: string) => rm(path, { force: true });

export class DurableLog {
  private readonly queue: Op[] = [];
  private flushing = false;
  /** Settles when every sync issued so far has completed; rejects if one failed. */
  private chain: Promise<void> = Promise.resolve();
  private written: Promise<void> = Promise.resolve();
  /** Deletions of obsolete segments, one after another, off the append path. */
  private cleaning: Promise<void> = Promise.resolve();
  private failure: unknown;
  private closed = false;
  private readonly counters = { appends: 0, records: 0, fsyncs: 0, bytes: 0, rewrites: 0 };

  private constructor(
    private readonly dir: string,
    private handle: FileHandle,
    /** The segment appends go to: the newest. */
    private segment: number,
    /** Bytes of every segment on disk, by number. */
    private readonly sizes: Map<number, number>,
    private readonly maxRecordBytes: number,
    private readonly removeFile: (path: string) => Promise<void>,
  ) {}

  static async open(dir: string, options: OpenOptions = {}): Promise<OpenedLog> {
    const maxRecordBytes = options.maxRecordBytes ?? MAX_RECORD_BYTES;
    await mkdir(dir, { recursive: true });
    await rm(join(dir, LEGACY_TEMP), { force: true });
    const numbers = await listSegments(dir);
    const fresh = numbers.length === 0;
    // Older segments that a crashed compaction did not delete yet stay until the next one: the
    // newest may have lost the records that made them redundant to the crash.
    const read = fresh ? [] : await readSegments(dir, numbers, maxRecordBytes);
    const newest = fresh ? 0 : numbers.at(-1)!;
    const sizes = new Map<number, number>(read.map((s) => [s.n, s.validBytes]));
    if (fresh) sizes.set(newest, 0);
    const handle = await open(join(dir, segmentName(newest)), "a");
    const log = new DurableLog(
      dir,
      handle,
      newest,
      sizes,
      maxRecordBytes,
      options.removeFile ?? removeWithRm,
    );
    const tail = read.at(-1);
    const truncatedBytes = tail === undefined ? 0 : tail.bytes - tail.validBytes;
    try {
      if (tail !== undefined && truncatedBytes > 0) {
        await handle.truncate(tail.validBytes);
        await log.fsync(handle);
      }
      if (fresh) await log.syncDir();
    } catch (error) {
      await handle.close();
      throw error;
    }
    return { log, records: read.flatMap((s) => s.records), truncatedBytes };
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
   * Appends `records` as the first of a new segment file; resolves once they are durable, and
   * from then on every older segment is deleted in the background. The caller vouches that
   * replaying `records` and what follows recovers what replaying everything before them (and
   * then them) does. Appends issued before this call land in the older segments, later ones
   * behind `records`, without waiting for the deletion.
   */
  startSegment(records: readonly unknown[]): Promise<void> {
    return this.submit("segment", records);
  }

  stats(): DurableLogStats {
    let diskBytes = 0;
    for (const bytes of this.sizes.values()) diskBytes += bytes;
    return { ...this.counters, segments: this.sizes.size, diskBytes };
  }

  /** Waits for queued writes and deletions, then closes the file. Later calls reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    const drained = this.enqueue("append", Buffer.alloc(0)).catch(() => {});
    this.closed = true;
    await drained;
    await this.cleaning;
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
    this.counters.appends++;
    this.counters.records += records.length;
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
      const switching = this.queue[0]!.kind === "segment";
      if (switching) {
        // A new segment is created only once every write to the current one is durable, so a
        // crash can tear only the newest segment: recovery may trust the older ones whole.
        await this.chain.catch(() => {});
        if (this.failure !== undefined) break;
        try {
          await this.switchSegment();
        } catch (error) {
          this.fail(error, this.queue.splice(0, 1));
          break;
        }
      }
      // Appends behind a new segment's first records share their write.
      const batch = switching ? [this.queue.shift()!, ...this.takeAppends()] : this.takeAppends();
      const data = Buffer.concat(batch.map((op) => op.data));
      const segment = this.segment;
      let sync: Promise<void>;
      try {
        sync = data.length === 0 ? Promise.resolve() : this.writeAndSync(data, switching);
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
          if (switching) this.dropBefore(segment);
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

  /** Creates the next segment file and directs appends to it (every earlier sync is done). */
  private async switchSegment(): Promise<void> {
    const next = this.segment + 1;
    // "ax": a file already there under the next number means this process is not alone here.
    const fresh = await open(join(this.dir, segmentName(next)), "ax");
    const old = this.handle;
    this.handle = fresh;
    this.segment = next;
    this.sizes.set(next, 0);
    await old.close();
  }

  /**
   * Starts writing `data`; `this.written` settles when the write is done, the returned promise
   * when the fdatasync issued right after it is done (and, for a new segment's first write, the
   * directory's fsync, which makes the new file's name durable).
   */
  private writeAndSync(data: Buffer, newFile: boolean): Promise<void> {
    const handle = this.handle;
    const segment = this.segment;
    const written = writeAll(handle, data).then(() => {
      this.counters.bytes += data.length;
      this.sizes.set(segment, (this.sizes.get(segment) ?? 0) + data.length);
    });
    this.written = written;
    // fdatasync still flushes the file size, which is all an append changes besides the data.
    const synced = written.then(async () => {
      await Promise.all([this.fsync(handle, true), newFile ? this.syncDir() : undefined]);
    });
    synced.catch(() => {});
    return synced;
  }

  /**
   * Deletes the segments older than `segment`, whose first records are durable now, oldest
   * first (a crash midway leaves a suffix of the sequence, which replays the same).
   */
  private dropBefore(segment: number): void {
    this.cleaning = this.cleaning
      .then(async () => {
        const doomed = [...this.sizes.keys()].filter((n) => n < segment).sort((a, b) => a - b);
        for (const n of doomed) {
          await this.removeFile(join(this.dir, segmentName(n)));
          this.sizes.delete(n);
        }
        // Not needed for safety (a deleted segment that comes back replays harmlessly), but for
        // the space to stay reclaimed after a crash.
        await this.syncDir();
        this.counters.rewrites++;
      })
      .catch(() => {
        // Whatever was not deleted stays on disk: recovery replays it harmlessly and the next
        // compaction tries again.
      });
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
