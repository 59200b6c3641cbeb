// The client workers: `concurrency` loops, each bound to one node (worker i -> node i mod n),
// each doing one operation at a time, as Jepsen's workers do.
//
// Rate: Jepsen's stagger. Each worker waits a random time in [0, 2 * concurrency / rate)
// seconds before each operation: a mean of concurrency / rate, so the workers together make
// `rate` operations per second (less when operations are slower than that).
//
// Process ids: worker i starts as process i. After an `info` the old process may still be in
// flight, so the worker continues as process + concurrency, with a new client (a new client
// id for the node's deduplication).

import { setMaxListeners } from "node:events";
import type { Recorder } from "./recorder.js";
import type { Client, Completion, Invocation, Workload } from "./types.js";

export interface WorkerOptions {
  concurrency: number;
  /** Total operations per second; Infinity for as fast as they go. */
  rate: number;
  opTimeoutMs: number;
  workload: Workload;
  /** A new client for this worker process (worker i's node is the caller's choice). */
  client(worker: number, process: number): Client;
  recorder: Recorder;
  random: () => number;
  /** When to stop starting operations (performance.now() ms). */
  deadline: number;
  /** Stop now: no new operations, and operations in flight are abandoned (recorded info). */
  stop: AbortSignal;
}

export async function runWorkers(options: WorkerOptions): Promise<void> {
  // Every worker's operation in flight listens to the stop signal.
  setMaxListeners(0, options.stop);
  const workers: Promise<void>[] = [];
  for (let i = 0; i < options.concurrency; i++) workers.push(worker(i, options));
  await Promise.all(workers);
}

async function worker(index: number, o: WorkerOptions): Promise<void> {
  const staggerMs = Number.isFinite(o.rate) && o.rate > 0 ? (2000 * o.concurrency) / o.rate : 0;
  let process = index;
  let client = o.client(index, process);
  let sinceYield = 0;
  try {
    while (!o.stop.aborted) {
      if (staggerMs > 0) {
        const wait = o.random() * staggerMs;
        if (performance.now() + wait >= o.deadline) break;
        await sleep(wait, o.stop);
        if (o.stop.aborted) break;
      } else {
        if (performance.now() >= o.deadline) break;
        // Unlimited rate against a client that answers at once: yield to the event loop now
        // and then, so that timers, signals and the history's flush still run.
        if (++sinceYield >= 64) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
      const op = o.workload.next(index);
      const c = await invokeOnce(client, op, process, o);
      if (c.type === "info") {
        await client.close();
        process += o.concurrency;
        client = o.client(index, process);
      }
    }
  } finally {
    await client.close();
  }
}

/** One operation, recorded: invoke, then exactly one completion, whatever the client does. */
export async function invokeOnce(
  client: Client,
  op: Invocation,
  process: number,
  o: { recorder: Recorder; opTimeoutMs: number; stop?: AbortSignal },
): Promise<Completion> {
  const at = o.recorder.invoke(process, op);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), o.opTimeoutMs);
  const onStop = () => controller.abort();
  o.stop?.addEventListener("abort", onStop, { once: true });
  let c: Completion;
  try {
    c = await client.invoke(op, controller.signal);
  } catch (err) {
    // Clients must not throw; one that does has left the outcome unknown.
    c = { type: "info", error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
    o.stop?.removeEventListener("abort", onStop);
  }
  o.recorder.complete(process, op, c, at);
  return c;
}

/** Waits `ms`, or less if the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
