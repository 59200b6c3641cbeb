// What both interpreters (real time: interpret.ts; simulated: simulate.ts) share: the
// generator in force, the busy threads, and the rules of Jepsen's interpreter: log steps are
// written at once, waits are adopted, an operation timed in the future is held until its time
// and given up if an event comes first (the generator is then asked again).

import type { Value } from "../../checker/history.js";
import { type Stream, Streams } from "../../contracts/random.js";
import type { Context, Event, Generator, Op, Thread } from "./types.js";

export type Decision =
  /** Run this operation now: its thread is busy and the generator has seen its invoke. */
  | { kind: "run"; op: Op }
  /** Nothing before this time (undefined: before the next completion). */
  | { kind: "wait"; until: number | undefined }
  | { kind: "done" };

/** How many steps without an operation or a wait before a generator is called looping. */
const MAX_SPINS = 10_000;

export class Scheduler {
  private gen: Generator;
  private readonly busy = new Set<Thread>();
  private readonly streams: Streams;
  private readonly cache = new Map<string, Stream>();
  /** An operation whose time has not come, asked for by `gen` (given up if an event comes first). */
  private held: { op: Op; next: Generator } | undefined;

  constructor(
    gen: Generator,
    private readonly threads: readonly Thread[],
    seed: number,
    private readonly log: (message: string) => void,
  ) {
    this.gen = gen;
    this.streams = new Streams(seed);
  }

  private context(time: number): Context {
    return {
      time,
      threads: this.threads,
      free: this.threads.filter((t) => !this.busy.has(t)),
      stream: (name) => {
        let s = this.cache.get(name);
        if (s === undefined) {
          s = this.streams.stream(name);
          this.cache.set(name, s);
        }
        return s;
      },
    };
  }

  /** Whether any operation is in flight. */
  get running(): boolean {
    return this.busy.size > 0;
  }

  next(now: number): Decision {
    if (this.held && now >= this.held.op.time) return this.run(this.held.op, this.held.next, now);
    for (let spins = 0; spins < MAX_SPINS; spins++) {
      const step = this.gen.op(this.context(now));
      switch (step.kind) {
        case "log":
          this.log(step.message);
          this.gen = step.next;
          continue;
        case "done":
          return this.busy.size === 0 ? { kind: "done" } : { kind: "wait", until: undefined };
        case "pending":
          this.gen = step.next;
          if (step.until !== undefined && step.until <= now) continue;
          if (step.until === undefined && this.busy.size === 0) {
            throw new Error("the generator waits for an event, but no operation is in flight");
          }
          return { kind: "wait", until: step.until };
        case "op":
          if (!this.threads.includes(step.op.thread) || this.busy.has(step.op.thread)) {
            throw new Error(
              `the generator gave an operation to thread ${step.op.thread}, which is not free`,
            );
          }
          if (step.op.time > now) {
            this.held = { op: step.op, next: step.next };
            return { kind: "wait", until: step.op.time };
          }
          return this.run(step.op, step.next, now);
      }
    }
    throw new Error(`the generator made ${MAX_SPINS} steps without an operation or a wait`);
  }

  private run(op: Op, next: Generator, now: number): Decision {
    this.held = undefined;
    this.busy.add(op.thread);
    const event: Event = { type: "invoke", time: now, thread: op.thread, op };
    this.gen = next.update(this.context(now), event);
    return { kind: "run", op };
  }

  /** An operation ended: its thread is free, and the generator is told (a held one is given up). */
  complete(now: number, op: Op, type: "ok" | "fail" | "info", value?: Value): void {
    this.held = undefined;
    this.busy.delete(op.thread);
    const event: Event = { type, time: now, thread: op.thread, op };
    if (value !== undefined) event.value = value;
    this.gen = this.gen.update(this.context(now), event);
  }
}
