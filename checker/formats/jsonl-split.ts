// A big jsonl file read by two threads: this one reads its first half while a worker thread
// (jsonl-split-worker.ts) reads the second, then this one pairs the worker's events after its
// own, in file order, as if it had read them itself.
//
// Reading the bytes is most of the time of checking a big history, and a line does not depend
// on the lines before it; pairing does, but it is quick on event columns. The parse stays
// synchronous (readHistoryFile is): this thread waits for the worker on a shared flag
// (Atomics.wait) and takes its message with receiveMessageOnPort. A worker that has not started
// by the time this thread has read its half, or gives up (a line it does not take), costs
// nothing but its start: this thread then reads the second half itself, so the result is
// always the one reading alone gives.

import { readSync } from "node:fs";
import { availableParallelism } from "node:os";
import { MessageChannel, type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import type { Scalar } from "../compact.js";
import { spawnWorker } from "../spawn-worker.js";
import { type CompactBuilder, CompactReading, type EventColumns } from "./jsonl-compact.js";
import { fileSource } from "./jsonl-scan.js";

/** Files from this size on are read by two threads (below, starting a worker costs more). */
export const SPLIT_BYTES = 64 << 20;
export const STARTED = 1;
export const DONE = 2;

/** The worker's data. */
export interface SplitSetup {
  fd: number;
  from: number;
  to: number;
  /** An Int32Array's buffer: 0, then STARTED, then DONE (after the message is posted). */
  flag: SharedArrayBuffer;
  port: MessagePort;
}

/** What the worker read: its events, with its own tables; or that it gave up. */
export type SplitPart =
  | { ok: false }
  | {
      ok: true;
      events: EventColumns;
      keys: readonly string[];
      values: readonly Scalar[];
      /** Lines in its half. */
      lines: number;
    };

/**
 * The compact history of the file's bytes [from, size), read by two threads when it is big and
 * there are two cores; undefined when it is not a compact history (as readCompact). Throws the
 * HistoryError of a bad line, as readCompact does. `minBytes`: the size from which it splits.
 */
export function readCompactSplit(
  fd: number,
  from: number,
  size: number,
  file: string,
  minBytes = SPLIT_BYTES,
): CompactBuilder | undefined {
  // Two lines an operation, of ~100 bytes in our histories (a guess on the high side is cheap).
  const reading = new CompactReading(file, (size - from) / 128);
  const mid =
    size - from >= minBytes && availableParallelism() > 1
      ? lineStart(fd, from + Math.floor((size - from) / 2), size)
      : size;
  if (mid >= size) return reading.feed(fileSource(fd, from, size)) ? reading.done() : undefined;
  const flag = new SharedArrayBuffer(4);
  const { port1, port2 } = new MessageChannel();
  const setup: SplitSetup = { fd, from: mid, to: size, flag, port: port2 };
  let worker: ReturnType<typeof spawnWorker> | undefined;
  try {
    // None of this process's flags: `-e CODE` would run CODE again in the worker.
    worker = spawnWorker(import.meta.url, "jsonl-split-worker", {
      workerData: setup,
      transferList: [port2],
      execArgv: [],
    });
    worker.unref();
    // A worker that fails says so in an event after this thread is done with it: not an error.
    worker.on("error", () => {});
  } catch {
    worker = undefined;
  }
  try {
    const started = performance.now();
    if (!reading.feed(fileSource(fd, from, mid))) return undefined;
    // The worker's half takes about as long as this one: far longer, it died (out of memory,
    // say) without a word, and this thread reads that half itself.
    const limit = 5_000 + 4 * (performance.now() - started);
    const part = worker ? waitFor(flag, port1, limit) : undefined;
    if (part?.ok === true) {
      return reading.events(part.events, part.keys, part.values, part.lines)
        ? reading.done()
        : undefined;
    }
    return reading.feed(fileSource(fd, mid, size)) ? reading.done() : undefined;
  } finally {
    port1.close();
    void worker?.terminate();
  }
}

/** The worker's message; undefined if it has not started yet, or does not end within `limitMs`. */
function waitFor(
  flag: SharedArrayBuffer,
  port: MessagePort,
  limitMs: number,
): SplitPart | undefined {
  const state = new Int32Array(flag);
  // Not started while this thread read its half (it starts in tens of milliseconds): waiting
  // for it could only be slower than reading that half here.
  if (Atomics.load(state, 0) === 0) return undefined;
  if (Atomics.load(state, 0) === STARTED) Atomics.wait(state, 0, STARTED, limitMs);
  if (Atomics.load(state, 0) !== DONE) return undefined;
  return receiveMessageOnPort(port)?.message as SplitPart | undefined;
}

/** The start of the first line at or after `at` (just past a newline); `size` if none. */
function lineStart(fd: number, at: number, size: number): number {
  const buf = Buffer.allocUnsafe(1 << 16);
  for (let pos = at - 1; pos < size; ) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    const nl = buf.subarray(0, n).indexOf(0x0a);
    if (nl >= 0) return pos + nl + 1;
    pos += n;
  }
  return size;
}
