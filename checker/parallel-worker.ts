// A worker thread of checkInParallel (parallel.ts): it rebuilds the model from its name,
// searches the partitions it is sent in round-robin slices, as the main thread does, and posts
// each verdict back. It runs until the main thread terminates it.

import { parentPort, workerData } from "node:worker_threads";
import { CompactHistory } from "./compact.js";
import { prepareCompact } from "./compact-check.js";
import { modelFor } from "./models/index.js";
import {
  CHUNK_MS,
  decodeOp,
  type FromWorker,
  type ToWorker,
  type WorkerSetup,
} from "./parallel.js";
import { heapNearlyFull, opsSource, RoundRobin, type SearchSource } from "./scheduler.js";

const port = parentPort;
if (!port) throw new Error("parallel-worker.ts runs as a worker thread (see parallel.ts)");
const setup = workerData as WorkerSetup;
const model = modelFor(setup.spec.name, { initial: setup.spec.initial });
const searches = new RoundRobin(setup.verbose, setup.cacheWords);
let running = false;

const post = (message: FromWorker) => port.postMessage(message);

/**
 * A partition's search: a compact one's as the main thread searches it (one key: one
 * partition, its operations in the same order, so verdicts' indices mean the same).
 */
function sourceOf(p: ToWorker["partitions"][number]): SearchSource {
  if ("ops" in p) return opsSource(model, p.ops.map(decodeOp));
  const prepared = prepareCompact(CompactHistory.of(p.compact), setup.spec.initial);
  const source = prepared?.sources[0];
  if (prepared?.sources.length !== 1 || !source) {
    // The main thread made it compact with the same initial value: not reached.
    return opsSource(model, CompactHistory.of(p.compact).ops());
  }
  return source;
}

port.on("message", (message: ToWorker) => {
  for (const p of message.partitions) searches.add(p.index, sourceOf(p));
  if (!running) {
    running = true;
    setImmediate(work);
  }
});

/** Searches for a while, then lets messages in (more partitions) and goes on. */
function work(): void {
  const until = performance.now() + CHUNK_MS;
  while (searches.pending > 0 && performance.now() < until) {
    const slice = searches.runSlice();
    if (!slice) break;
    if (slice.found) {
      post({ type: "found", index: slice.index, found: slice.found });
      // The main thread stops the check at the first illegal partition unless verbose.
      if (slice.found.result === "illegal" && !setup.verbose) searches.clear();
    }
    if (heapNearlyFull()) {
      post({ type: "memory" });
      searches.clear();
    }
  }
  if (searches.pending > 0) setImmediate(work);
  else running = false;
}
