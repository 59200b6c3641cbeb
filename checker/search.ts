// The search of one partition: Wing & Gong's backtracking with Lowe's cache, as in Porcupine.
//
// The history becomes a doubly linked list of call and return entries in time order. The
// search walks it from the head: at a call it tries to linearize that operation now (the model
// must accept it, and the pair (linearized set, state) must be new, else this branch was already
// explored); at a return it is stuck, since that operation should have been linearized before
// its return, so it undoes the most recent choice and tries the next candidate. Linearizing an
// operation lifts its two entries out of the list (dancing links), so the head is always the
// earliest pending event.
//
// The search runs in slices (`run(budget)`), so that the caller can interleave partitions as
// Porcupine's goroutines do: an easy illegal partition is then found before a hard one ends.

import { Bitset } from "./bitset.js";
import { LinearizationCache } from "./cache.js";
import type { Model, Operation } from "./model.js";
import { UNKNOWN } from "./model.js";

export interface SearchResult {
  /** `unknown`: the search gave up (its cache reached its bound), said in `reason`. */
  result: "ok" | "illegal" | "unknown";
  /** Indices into the partition's ops; longest first (verbose, or one complete one when ok). */
  linearizations: number[][];
  /** Illegal, verbose: the candidates that could not come next after the longest prefix. */
  stuck: number[];
  reason?: string;
}

export interface SearchOptions {
  /** Keep partial linearizations and the stuck operations, for the visualization. */
  verbose: boolean;
  /** The cache's bound in 32-bit words (LinearizationCache's `maxWords`). */
  cacheWords?: number;
}

const NIL = -1;

/**
 * A partition's operations as the search takes them, one array a field: the operations it
 * searches (an indeterminate read is left out: the model accepts it in every state and it
 * changes none) and, for each, its index among the partition's operations.
 */
export interface SearchColumns<I, O> {
  included: Int32Array;
  calls: Float64Array;
  returns: Float64Array;
  /** An array, or a typed array when inputs are numbers (a compact history's op indices). */
  inputs: ArrayLike<I>;
  outputs: (O | typeof UNKNOWN)[];
}

/**
 * The columns of a partition's operations. One pass over them, each read once: in a big
 * history they lie all over the heap, and every pass over them was a cache miss per operation
 * (three passes were most of the cost of a partition of 8,400 operations among a thousand).
 */
export function columnsOf<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
): SearchColumns<I, O> {
  const included = new Int32Array(ops.length);
  const calls = new Float64Array(ops.length);
  const returns = new Float64Array(ops.length);
  const inputs: I[] = [];
  const outputs: (O | typeof UNKNOWN)[] = [];
  let n = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Operation<I, O>;
    const output = op.output;
    if (output === UNKNOWN && model.readOnly?.(op.input)) continue;
    included[n] = i;
    calls[n] = op.call;
    returns[n] = op.return;
    inputs.push(op.input);
    outputs.push(output);
    n++;
  }
  return n === ops.length
    ? { included, calls, returns, inputs, outputs }
    : {
        included: included.slice(0, n),
        calls: calls.slice(0, n),
        returns: returns.slice(0, n),
        inputs,
        outputs,
      };
}

export class PartitionSearch<S, I, O> {
  /** Local op index -> index into the partition's ops (indeterminate reads are left out). */
  private readonly included: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly opOf: Int32Array; // entry -> local op index
  private readonly isCall: Uint8Array;
  private readonly match: Int32Array; // call entry -> its return entry
  private readonly head: number;
  private readonly inputs: ArrayLike<I>;
  private readonly outputs: (O | typeof UNKNOWN)[];
  private readonly bits: Bitset;
  /**
   * Made at the first backtrack (at once in verbose mode). Until the search backtracks, every
   * step adds an operation to the linearized set, so no pair can be met twice and the cache
   * would only be written: an easy partition (most keys of a big history) never needs one.
   * Afterwards, a pair met again that was not stored then is a branch that failed: searching
   * it again fails again, so the verdict and the linearization found are the same; only the
   * cache's bound is reached later, if at all.
   */
  private cache: LinearizationCache<S> | undefined;
  private readonly cacheWords: number | undefined;
  private readonly stackEntry: number[] = [];
  private readonly stackState: S[] = [];
  private readonly partial: PartialTracker | undefined;
  private state: S;
  private entry: number;
  /** Per op: 1 if its output is unknown (tried after the others at every point). */
  private readonly indeterminate: Uint8Array;
  /**
   * Per op: its bit in the linearized set. Known operations first, in call order, then the
   * indeterminate ones from the next word on, so that the cache stores a set in a few words
   * (bitset.ts): an `info` write pending for ever would otherwise leave a hole in the ones.
   */
  private readonly bitOf: Int32Array;
  /**
   * Whether the scan is in its second pass: every operation with a known output was tried at
   * this point, and now the indeterminate ones are (see `run`).
   */
  private late = false;
  /**
   * Once every operation with a known output is linearized, the rest (all indeterminate) can
   * follow in call order: the model accepts them in any state, and call order respects time.
   */
  private definiteLeft = 0;

  constructor(
    private readonly model: Model<S, I, O>,
    columns: SearchColumns<I, O>,
    options: SearchOptions,
  ) {
    const { calls, returns } = columns;
    this.included = columns.included;
    this.inputs = columns.inputs;
    this.outputs = columns.outputs;
    const n = this.included.length;
    const size = 2 * n;
    // Entries in time order; at equal times calls come first, so operations whose intervals
    // touch are concurrent (either may be linearized first).
    const order = entryOrder(calls, returns);

    this.head = size;
    this.next = new Int32Array(size + 1);
    this.prev = new Int32Array(size + 1);
    this.opOf = new Int32Array(size);
    this.isCall = new Uint8Array(size);
    this.match = new Int32Array(size);
    const callEntry = new Int32Array(n);
    for (let pos = 0; pos < size; pos++) {
      const e = order[pos] as number;
      this.opOf[pos] = e >> 1;
      if ((e & 1) === 0) {
        this.isCall[pos] = 1;
        callEntry[e >> 1] = pos;
      } else {
        this.match[callEntry[e >> 1] as number] = pos;
      }
      this.next[pos] = pos + 1 < size ? pos + 1 : NIL;
      this.prev[pos] = pos === 0 ? this.head : pos - 1;
    }
    this.next[this.head] = size > 0 ? 0 : NIL;
    this.prev[this.head] = NIL;

    this.indeterminate = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (this.outputs[i] === UNKNOWN) this.indeterminate[i] = 1;
      else this.definiteLeft++;
    }
    this.bitOf = new Int32Array(n);
    const headWords = (this.definiteLeft + 31) >>> 5;
    let known = 0;
    let unknown = headWords * 32;
    for (let i = 0; i < n; i++) this.bitOf[i] = this.indeterminate[i] ? unknown++ : known++;
    this.bits = new Bitset(unknown, headWords);
    this.cacheWords = options.cacheWords;
    // Verbose mode records partial linearizations at every backtrack: it keeps the search as
    // it was, with its cache from the first step.
    if (options.verbose) this.cache = this.newCache();
    this.partial = options.verbose ? new PartialTracker(n) : undefined;
    this.state = model.init();
    this.entry = this.next[this.head] as number;
  }

  /**
   * Searches for at most `budget` steps; the verdict, or undefined when not done yet.
   *
   * At each point the candidates (the calls before the first pending return) are tried in two
   * passes: those with a known output first, then the indeterminate ones. Porcupine tries them
   * in time order, and an `info` write, pending for ever at the head of the list, then comes
   * first at every point: each one multiplies the branches explored before the right one (a
   * 10,000,000-op history took minutes). The same candidates are tried at every point, so the
   * verdict is the same; only the order differs.
   */
  run(budget: number): SearchResult | undefined {
    const { model, next, head, isCall, opOf, inputs, outputs, bits, indeterminate, bitOf } = this;
    let { state, entry, late, cache } = this;
    for (let steps = 0; next[head] !== NIL && this.definiteLeft > 0; steps++) {
      if (steps === budget) {
        this.state = state;
        this.entry = entry;
        this.late = late;
        return undefined;
      }
      if (isCall[entry]) {
        const op = opOf[entry] as number;
        if ((indeterminate[op] === 1) !== late) {
          entry = next[entry] as number;
          continue;
        }
        const stepped = model.step(state, inputs[op] as I, outputs[op] as O | typeof UNKNOWN);
        if (stepped.ok) {
          bits.toggle(bitOf[op] as number);
          if (
            cache === undefined ||
            cache.addIfAbsent(
              (bits.hash ^ Math.imul(model.hash(stepped.state), 0x9e3779b1)) | 0,
              bits,
              stepped.state,
            )
          ) {
            this.stackEntry.push(entry);
            this.stackState.push(state);
            state = stepped.state;
            this.lift(entry);
            if (!late) this.definiteLeft--;
            entry = next[head] as number;
            late = false;
            continue;
          }
          bits.toggle(bitOf[op] as number);
        }
        entry = next[entry] as number;
      } else if (!late) {
        // Every candidate with a known output failed here: now the indeterminate ones.
        late = true;
        entry = next[head] as number;
      } else {
        this.partial?.record(this.stackEntry, opOf, () => this.stuckAt(entry));
        if (this.stackEntry.length === 0) return this.illegal();
        if (cache === undefined) {
          cache = this.newCache();
          this.cache = cache;
        }
        const top = this.stackEntry.pop() as number;
        state = this.stackState.pop() as S;
        const op = opOf[top] as number;
        bits.toggle(bitOf[op] as number);
        this.unlift(top);
        late = indeterminate[op] === 1;
        if (!late) this.definiteLeft++;
        entry = next[top] as number;
      }
    }
    return this.legal();
  }

  private newCache(): LinearizationCache<S> {
    const { model } = this;
    return new LinearizationCache<S>(
      this.bitOf.length,
      (a, b) => model.equal(a, b),
      this.cacheWords,
    );
  }

  /** Frees what the search holds for the next one (its cache's arena); it is not run again. */
  dispose(): void {
    this.cache?.release();
  }

  private legal(): SearchResult {
    const complete = this.stackEntry.map((e) => this.opOf[e] as number);
    for (let e = this.next[this.head] as number; e !== NIL; e = this.next[e] as number) {
      if (this.isCall[e]) complete.push(this.opOf[e] as number);
    }
    return { result: "ok", linearizations: [this.toOps(complete)], stuck: [] };
  }

  private illegal(): SearchResult {
    const p = this.partial;
    return {
      result: "illegal",
      linearizations: p ? p.linearizations().map((l) => this.toOps(l)) : [],
      stuck: p ? this.toOps(p.stuck) : [],
    };
  }

  private toOps(local: number[]): number[] {
    return local.map((l) => this.included[l] as number);
  }

  private lift(e: number): void {
    const { next, prev } = this;
    next[prev[e] as number] = next[e] as number;
    prev[next[e] as number] = prev[e] as number;
    const m = this.match[e] as number;
    next[prev[m] as number] = next[m] as number;
    if (next[m] !== NIL) prev[next[m] as number] = prev[m] as number;
  }

  private unlift(e: number): void {
    const { next, prev } = this;
    const m = this.match[e] as number;
    next[prev[m] as number] = m;
    if (next[m] !== NIL) prev[next[m] as number] = m;
    next[prev[e] as number] = e;
    prev[next[e] as number] = e;
  }

  /** The calls pending before the return entry `blocked`, and the op of that return. */
  private stuckAt(blocked: number): number[] {
    const stuck: number[] = [];
    for (
      let e = this.next[this.head] as number;
      e !== blocked && e !== NIL;
      e = this.next[e] as number
    ) {
      stuck.push(this.opOf[e] as number);
    }
    const blockedOp = this.opOf[blocked] as number;
    if (!stuck.includes(blockedOp)) stuck.push(blockedOp);
    return stuck;
  }
}

/**
 * The entries (2·op for a call, 2·op + 1 for a return) in time order: by time, calls before
 * returns, then by operation. Calls and returns are each sorted, then merged.
 */
export function entryOrder(calls: Float64Array, returns: Float64Array): Int32Array {
  const n = calls.length;
  const byCall = sortedIndices(calls);
  const byReturn = sortedIndices(returns);
  const order = new Int32Array(2 * n);
  let i = 0;
  let j = 0;
  for (let k = 0; k < 2 * n; k++) {
    if (
      j >= n ||
      (i < n &&
        (calls[byCall[i] as number] as number) <= (returns[byReturn[j] as number] as number))
    ) {
      order[k] = 2 * (byCall[i++] as number);
    } else {
      order[k] = 2 * (byReturn[j++] as number) + 1;
    }
  }
  return order;
}

/** Packed sort keys: time·2^INDEX_BITS + index, exact while both fit in a double's 53 bits. */
const INDEX_BITS = 2 ** 21;
const TIME_RANGE = 2 ** 31;

/** The indices of `t` by value, ties by index; +Infinity (an op that never returned) last. */
function sortedIndices(t: Float64Array): Int32Array {
  const n = t.length;
  const idx = new Int32Array(n);
  let sorted = true;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let integers = true;
  let finite = 0;
  for (let i = 0; i < n; i++) {
    idx[i] = i;
    const v = t[i] as number;
    if (i > 0 && v < (t[i - 1] as number)) sorted = false;
    if (v === Number.POSITIVE_INFINITY) continue;
    finite++;
    if (v < min) min = v;
    if (v > max) max = v;
    if (!Number.isInteger(v)) integers = false;
  }
  if (sorted) return idx;
  // The finite times first, in index order, then the infinite ones (last, in index order): an
  // operation that never returned, in the middle, would make every later one move past it.
  let k = 0;
  for (let i = 0; i < n; i++) if (t[i] !== Number.POSITIVE_INFINITY) idx[k++] = i;
  for (let i = 0; i < n; i++) if (t[i] === Number.POSITIVE_INFINITY) idx[k++] = i;
  if (insertionSorted(t, idx, finite)) return idx;
  for (let i = 0; i < n; i++) idx[i] = i;
  if (integers && n <= INDEX_BITS && max - min < TIME_RANGE) {
    // A native numeric sort of packed keys: several times faster than a comparator.
    const keys = new Float64Array(finite);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const v = t[i] as number;
      if (v !== Number.POSITIVE_INFINITY) keys[k++] = (v - min) * INDEX_BITS + i;
    }
    keys.sort();
    for (k = 0; k < finite; k++) {
      const key = keys[k] as number;
      idx[k] = key - Math.floor(key / INDEX_BITS) * INDEX_BITS;
    }
    for (let i = 0; i < n; i++) if (t[i] === Number.POSITIVE_INFINITY) idx[k++] = i;
    return idx;
  }
  return idx.sort((a, b) => (t[a] as number) - (t[b] as number) || a - b);
}

/**
 * Sorts `idx[0, count)` (indices in increasing order on entry) by `t`, ties by index, by
 * insertion, unless that takes more than a few moves an element: false then, and `idx` is left
 * in some order. The returns of a partition are nearly in call order (operations of a key rarely
 * overlap), and sorting them by insertion is linear where the packed sort was a fifth of a big
 * history's set-up (and a 10,000,000-op history's times are too far apart to pack).
 */
function insertionSorted(t: Float64Array, idx: Int32Array, count: number): boolean {
  let budget = 8 * count + 64;
  for (let i = 1; i < count; i++) {
    const x = idx[i] as number;
    const v = t[x] as number;
    let j = i - 1;
    // Stable: only strictly greater times move (idx holds indices in order, so ties stay so).
    while (j >= 0 && (t[idx[j] as number] as number) > v) {
      idx[j + 1] = idx[j] as number;
      j--;
      if (--budget < 0) return false;
    }
    idx[j + 1] = x;
  }
  return true;
}

/**
 * Porcupine's partial linearizations: for each operation, the longest linearizable prefix seen
 * that contains it. Kept only in verbose mode (it costs O(prefix) per backtrack).
 */
class PartialTracker {
  private readonly longest: (number[] | undefined)[];
  private best = -1;
  stuck: number[] = [];

  constructor(n: number) {
    this.longest = new Array(n);
  }

  record(stack: readonly number[], opOf: Int32Array, stuck: () => number[]): void {
    let seq: number[] | undefined;
    for (const e of stack) {
      const op = opOf[e] as number;
      const current = this.longest[op];
      if (current === undefined || stack.length > current.length) {
        seq ??= stack.map((s) => opOf[s] as number);
        this.longest[op] = seq;
      }
    }
    if (stack.length > this.best) {
      this.best = stack.length;
      this.stuck = stuck();
    }
  }

  /** The distinct prefixes, longest first (at most 32: enough to draw, bounded to keep small). */
  linearizations(): number[][] {
    const distinct = [...new Set(this.longest.filter((l): l is number[] => l !== undefined))];
    distinct.sort((a, b) => b.length - a.length);
    return distinct.slice(0, 32);
  }
}
