// Streams history.jsonl (the README's "History format") while the test runs.
//
// Flush policy (measured with bench:harness, 32 workers against an in-memory backend on this
// 2-vCPU machine kind): "line", one synchronous append (fs.writeSync) per line, before the
// recorder counts the operation, drove ~70,000 ops/s; "turn", lines batched per event-loop turn
// and written with one writeSync at the end of the turn (setImmediate, or at 64 KiB), ~130,000.
// Both are far above the 20,000 ops/s target and above what HTTP clients reach, so the default
// is "line": a harness crash (an exception that kills the process) loses nothing already
// recorded, since written lines sit in the kernel's page cache and survive the process. (No
// fsync: a machine crash ends the run anyway.) "turn" remains for bench comparisons; it could
// lose the lines of the current turn.

import { closeSync, openSync, writeSync } from "node:fs";
import type { Value } from "../checker/history.js";

export type FlushPolicy = "turn" | "line";

export interface HistoryEvent {
  process: number | "nemesis";
  type: "invoke" | "ok" | "fail" | "info";
  f: string;
  key?: string;
  value?: Value;
  /** invoke: the node the operation went to (the report's operations per node; not checked). */
  node?: string;
  /** fail/info: why (not part of the checked format; the checker ignores it). */
  error?: string;
}

const BATCH_BYTES = 64 * 1024;

export class HistoryWriter {
  private readonly fd: number;
  private readonly start = process.hrtime.bigint();
  private index = 0;
  private batch: string[] = [];
  private batchBytes = 0;
  private scheduled = false;
  private closed = false;

  constructor(
    readonly file: string,
    private readonly policy: FlushPolicy = "line",
  ) {
    this.fd = openSync(file, "a");
  }

  /** Nanoseconds since the writer (the test) started, from the monotonic clock. */
  now(): number {
    return Number(process.hrtime.bigint() - this.start);
  }

  /** How many events were written. */
  get count(): number {
    return this.index;
  }

  /** Appends one event, stamped with its index and `time` (now, unless given). */
  write(event: HistoryEvent, time = this.now()): void {
    if (this.closed) return;
    const line: { [field: string]: Value } = {
      index: this.index++,
      time,
      process: event.process,
      type: event.type,
      f: event.f,
    };
    if (event.key !== undefined) line.key = event.key;
    if (event.value !== undefined) line.value = event.value;
    if (event.node !== undefined) line.node = event.node;
    if (event.error !== undefined) line.error = event.error;
    const text = `${JSON.stringify(line)}\n`;
    if (this.policy === "line") {
      writeSync(this.fd, text);
      return;
    }
    this.batch.push(text);
    this.batchBytes += text.length;
    if (this.batchBytes >= BATCH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushSoon);
    }
  }

  private readonly flushSoon = () => {
    this.scheduled = false;
    this.flush();
  };

  /** Writes what is queued, synchronously. */
  flush(): void {
    if (this.batch.length === 0) return;
    const text = this.batch.join("");
    this.batch = [];
    this.batchBytes = 0;
    writeSync(this.fd, text);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }
}
