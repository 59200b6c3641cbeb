// The interpreter in real time: asks the generator, runs its operations on their threads
// (concurrently, one at a time per thread), tells it every completion, sleeps when it waits.
// What an operation does (a client call, a fault) is the caller's `invoke`.

import type { Value } from "../../checker/history.js";
import { Scheduler } from "./scheduler.js";
import type { Generator, Op, Thread } from "./types.js";

export interface Completed {
  type: "ok" | "fail" | "info";
  value?: Value;
}

export interface InterpretOptions {
  threads: readonly Thread[];
  seed: number;
  /** Runs one operation; must not throw (a throw is taken as info, with its message). */
  invoke(op: Op): Promise<Completed>;
  log(message: string): void;
  /** Aborted: no operation starts after it; those in flight are awaited. */
  signal: AbortSignal;
  /** Ms since the test began. Default: since interpret() was called. */
  now?: () => number;
}

/** Runs the generator until it is done or the signal aborts; resolves when nothing is in flight. */
export async function interpret(gen: Generator, o: InterpretOptions): Promise<void> {
  const start = performance.now();
  const now = o.now ?? (() => performance.now() - start);
  const scheduler = new Scheduler(gen, o.threads, o.seed, o.log);
  const completions: { op: Op; result: Completed }[] = [];
  const inFlight = new Set<Promise<void>>();
  let wake: (() => void) | undefined;
  const drain = () => {
    for (let c = completions.shift(); c !== undefined; c = completions.shift()) {
      scheduler.complete(now(), c.op, c.result.type, c.result.value);
    }
  };
  const onAbort = () => wake?.();
  // Operations that complete at once (an in-memory client) would never let a timer run: yield
  // to the event loop now and then.
  let sinceYield = 0;
  o.signal.addEventListener("abort", onAbort);
  try {
    for (;;) {
      drain();
      if (o.signal.aborted) break;
      const d = scheduler.next(now());
      if (d.kind === "done") break;
      if (d.kind === "run") {
        if (++sinceYield >= 64) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const done: Promise<void> = o
          .invoke(d.op)
          .catch((err: unknown): Completed => ({ type: "info", value: String(err) }))
          .then((result) => {
            completions.push({ op: d.op, result });
            inFlight.delete(done);
            wake?.();
          });
        inFlight.add(done);
        continue;
      }
      await new Promise<void>((resolve) => {
        if (completions.length > 0) return resolve();
        const timer =
          d.until === undefined ? undefined : setTimeout(resolve, Math.max(0, d.until - now()));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
    await Promise.all(inFlight);
    drain();
  } finally {
    o.signal.removeEventListener("abort", onAbort);
  }
}
