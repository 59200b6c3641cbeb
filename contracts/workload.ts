// The Workload contract: what clients do and which model checks it (workloads/ implements it,
// the harness runs it). Operations are plain data, as in the history.

import type { ModelName, Value } from "./value.js";

/** One operation a client is asked to do: plain data, as in the history. */
export interface Invocation {
  f: "read" | "write" | "cas" | "add" | "read-all";
  key?: string;
  value?: Value;
}

export interface WorkloadOptions {
  keys: number;
  /** "uniform" or "zipfian" key choice (kv). */
  distribution: "uniform" | "zipfian";
  random: () => number;
  /**
   * The worker this copy of the workload serves, of how many: each worker has its own copy
   * and stream, so what one does never depends on when the others asked (set: worker w adds
   * w, w + count, w + 2 count, ...). Absent: one copy for every worker.
   */
  worker?: { index: number; count: number };
}

/** What clients do, and how the history is checked. */
export interface Workload {
  readonly name: "register" | "kv" | "set";
  readonly model: ModelName;
  /** The next operation of a worker. */
  next(worker: number): Invocation;
  /** Operations of the final phase, run against every node after faults are healed. */
  final(): Invocation[];
  /**
   * Optional: operations run once before the workers start, retried until ok and not recorded
   * in the history (the set workload creates its key, holding an empty array).
   */
  setup?(): Invocation[];
}
