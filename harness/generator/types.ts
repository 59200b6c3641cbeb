// A generator, as Jepsen's: a pure value that, asked with a context (the time, the threads and
// which of them are free, the run's random streams), says what to do next, and that is told
// every event. A schedule is therefore data: it can be printed, simulated, replayed.

import type { Value } from "../../checker/history.js";
import type { Stream } from "../../contracts/random.js";

/** Who runs an operation: a client worker (0..concurrency-1) or the nemesis. */
export type Thread = number | "nemesis";

/** What a generator asks for: plain data, as in the history. */
export interface Op {
  f: string;
  key?: string;
  value?: Value;
  /** Not before this time (ms since the test began). */
  time: number;
  /** The thread that runs it: one of the context's free threads. */
  thread: Thread;
  /** A client operation for this node (its index), not the thread's own: the final phase's. */
  node?: number;
}

/** An operation as a generator writes it; time and thread are filled in where absent. */
export type OpTemplate = Omit<Op, "time" | "thread"> & { time?: number; thread?: Thread };

export interface Context {
  /** Ms since the test began. */
  time: number;
  /** The threads this generator may use (routing combinators narrow them). */
  threads: readonly Thread[];
  /** Those of `threads` with nothing in flight, in order. */
  free: readonly Thread[];
  /** The run's stream of this name (the same stream each time: generators carry it on). */
  stream(name: string): Stream;
}

/** What the interpreter tells generators: an operation began, or how it ended. */
export interface Event {
  type: "invoke" | "ok" | "fail" | "info";
  time: number;
  thread: Thread;
  /** The operation, the same object the generator gave. */
  op: Op;
  /** ok: what it returned; fail/info: why. */
  value?: Value;
}

export type Step =
  /** Do this (at op.time); the generator after it is `next`. */
  | { kind: "op"; op: Op; next: Generator }
  /** Nothing now: ask `next` again after the next event, or at `until` if given. */
  | { kind: "pending"; next: Generator; until?: number }
  /** Write this line to the run's log, then ask `next`. */
  | { kind: "log"; message: string; next: Generator }
  /** Nothing more, ever. */
  | { kind: "done" };

/**
 * op() is pure: asked twice with the same context it answers the same, so an interpreter that
 * does not take an operation (its time has not come and an event arrived first) may ask again.
 * An interpreter adopts `next` of a pending or log step at once, and of an op step once it
 * runs the operation.
 */
export interface Generator {
  op(ctx: Context): Step;
  update(ctx: Context, event: Event): Generator;
}
