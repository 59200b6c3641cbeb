// The interpreter in simulated time: what a generator would do, with each operation's outcome
// and duration drawn by the caller. For tests of generators and for showing a schedule before
// running it; deterministic for a seed.

import type { Value } from "../../checker/history.js";
import { Streams } from "../../contracts/random.js";
import { Scheduler } from "./scheduler.js";
import type { Event, Generator, Op, Thread } from "./types.js";

export interface SimulatedOutcome {
  type: "ok" | "fail" | "info";
  /** How long the operation takes. */
  ms: number;
  value?: Value;
}

export interface SimulateOptions {
  threads: readonly Thread[];
  seed: number;
  /** How an operation ends; `random` is the simulation's own stream ("simulate"). */
  outcome(op: Op, random: () => number): SimulatedOutcome;
  /** Stop after this many operations (a guard for endless generators). Default 1,000,000. */
  maxOps?: number;
}

export interface Simulation {
  events: Event[];
  logs: { time: number; message: string }[];
  /** The simulated time at the end. */
  end: number;
}

export function simulate(gen: Generator, o: SimulateOptions): Simulation {
  const events: Event[] = [];
  const logs: Simulation["logs"] = [];
  let now = 0;
  const scheduler = new Scheduler(gen, o.threads, o.seed, (message) =>
    logs.push({ time: now, message }),
  );
  const random = new Streams(o.seed).random("simulate");
  const inFlight: { at: number; op: Op; outcome: SimulatedOutcome }[] = [];
  const maxOps = o.maxOps ?? 1_000_000;
  let ops = 0;
  const completeNext = () => {
    inFlight.sort((a, b) => a.at - b.at);
    const c = inFlight.shift();
    if (c === undefined) return;
    now = Math.max(now, c.at);
    const event: Event = { type: c.outcome.type, time: now, thread: c.op.thread, op: c.op };
    if (c.outcome.value !== undefined) event.value = c.outcome.value;
    events.push(event);
    scheduler.complete(now, c.op, c.outcome.type, c.outcome.value);
  };
  for (;;) {
    const d = scheduler.next(now);
    if (d.kind === "done") break;
    if (d.kind === "run") {
      events.push({ type: "invoke", time: now, thread: d.op.thread, op: d.op });
      const outcome = o.outcome(d.op, random);
      inFlight.push({ at: now + outcome.ms, op: d.op, outcome });
      if (++ops >= maxOps) break;
      continue;
    }
    const soonest = Math.min(...inFlight.map((c) => c.at));
    if (d.until !== undefined && d.until < soonest) now = d.until;
    else completeNext();
  }
  while (inFlight.length > 0) completeNext();
  return { events, logs, end: now };
}
