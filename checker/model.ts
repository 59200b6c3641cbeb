// The model contract and the history types of the checker.
//
// A model is a record of pure functions, as in Porcupine: the search calls `step` with the
// state before an operation and gets back whether the operation's output is legal in that
// state, and the state after it. Nothing here may keep state between calls.

/** The output of an operation whose result is not known (`info`, a timeout, no return at all). */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

/** One completed (or never completed) operation of a history. Times are any monotonic unit. */
export interface Operation<I, O> {
  /** The process (client) that ran it; used to draw the visualization's rows. */
  clientId: number;
  input: I;
  /** When the call was made. */
  call: number;
  /**
   * What it returned. UNKNOWN for an indeterminate operation: the model must accept UNKNOWN in
   * every state (the operation may have taken effect or not; linearizing it last is "not yet").
   */
  output: O | Unknown;
  /** When it returned; Infinity for an operation that never returned (`info`). */
  return: number;
}

export interface StepResult<S> {
  ok: boolean;
  state: S;
}

export interface Model<S, I, O> {
  /** A short name, used in reports (`cas-register`, `kv`, `set`). */
  name: string;
  init(): S;
  /**
   * Whether `output` is a legal result of `input` in `state`, and the state after it.
   * With output UNKNOWN it must answer ok and the state as if the operation took effect.
   */
  step(state: S, input: I, output: O | Unknown): StepResult<S>;
  /** Exact equality of states; the search compares cached states with it after a hash match. */
  equal(a: S, b: S): boolean;
  /** A 32-bit integer hash of a state, consistent with `equal`. */
  hash(state: S): number;
  /**
   * P-compositionality: split a history into independent sub-histories (per key, say) that are
   * linearizable each on its own iff the whole is. Returned operations may be projections
   * (new inputs and outputs) of the originals; `origin` maps each back to its index in the input.
   */
  partition?(history: readonly Operation<I, O>[]): Partition<I, O>[];
  /**
   * Optional: whether an operation never changes the state (a read). An indeterminate read
   * constrains nothing, so the search leaves it out; a big win on histories full of timeouts.
   */
  readOnly?(input: I): boolean;
  describeOperation(input: I, output: O | Unknown): string;
  describeState(state: S): string;
}

export interface Partition<I, O> {
  /** A name for reports, e.g. the key (`k7`) or the element of a set. */
  label: string;
  ops: Operation<I, O>[];
  /** For each op of this partition, the index of the operation of the whole history it came from. */
  origin: number[];
}

export type CheckResult = "ok" | "illegal" | "unknown";

/** What the search found in one partition; the visualization draws it. */
export interface PartitionInfo<I, O> {
  label: string;
  result: CheckResult;
  /** This partition's operations (projections, for a model whose partitions project). */
  ops: Operation<I, O>[];
  /** For each of `ops`, its index in the history given to the checker. */
  origin: number[];
  /**
   * Verbose mode only: linearizations found, each a sequence of indices into this partition's
   * ops, longest first. For a legal partition, one complete linearization.
   */
  linearizations: number[][];
  /**
   * Verbose mode only, for an illegal partition: after the longest partial linearization,
   * the operations (partition indices) that were candidates to come next but could not.
   */
  stuck: number[];
  /**
   * Why an `unknown` partition has no verdict, when the search of that partition itself gave
   * up (its cache reached its bound); absent when the check as a whole stopped (timeout, grace).
   */
  reason?: string;
}

export interface CheckOptions {
  /** Seconds; after this the verdict is `unknown`. 0 or absent: no limit. */
  timeout?: number;
  /** Check every partition even after one is illegal, and keep partial linearizations. */
  verbose?: boolean;
  /**
   * The most 32-bit words one partition's cache may take (default: cache.ts's MAX_ARENA_WORDS).
   * A partition whose search needs more is left `unknown`, with the reason; the others go on.
   */
  cacheWords?: number;
}

export interface CheckOutcome<I, O> {
  result: CheckResult;
  /**
   * The partitions, illegal first. In verbose mode all of them; otherwise, for an illegal
   * history, only the illegal ones found (the search stops at the first).
   */
  partitions: PartitionInfo<I, O>[];
  /** How many partitions the history has. */
  partitionCount: number;
  /**
   * Set when some partitions were left unfinished: the timeout passed, memory ran short, or
   * (full report of an illegal history) the grace time after the first illegal one ran out.
   * Those partitions are reported `unknown`.
   */
  gaveUp?: "timeout" | "memory" | "grace";
  /** Number of operations checked. */
  ops: number;
  durationMs: number;
}
