// The search of one partition: Wing & Gong's backtracking with Lowe's cache, as in Porcupine.
//
// The history becomes a doubly linked list of call and return entries in time order. The
// search walks it from the head: at a call it tries to linearize that operation now (the model
// must accept it, and the pair (linearized set, state) must be new, else this branch was already
// explored); at a return it is stuck, since that operation should have been linearized before
// its return, so it undoes the most recent choice and tries the next candidate. Linearizing an
// operation lifts its two entries out of the list (dancing links), so the head is always the
// earliest pending event.

import { Bitset } from "./bitset.js";
import type { CheckResult, Model, Operation } from "./model.js";
import { UNKNOWN } from "./model.js";

export interface SearchOptions {
  /** performance.now() value after which the search gives up with `unknown`. */
  deadline: number;
  /** Keep partial linearizations and the stuck operations, for the visualization. */
  verbose: boolean;
  /** Operations left out of the search (indeterminate reads: they constrain nothing). */
  skip?: (index: number) => boolean;
}

export interface SearchResult {
  result: CheckResult;
  /** Indices into the partition's ops; longest first (verbose, or one complete one when ok). */
  linearizations: number[][];
  /** Illegal, verbose: the candidates that could not come next after the longest prefix. */
  stuck: number[];
}

const NIL = -1;

export function searchPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  options: SearchOptions,
): SearchResult {
  const included: number[] = [];
  for (let i = 0; i < ops.length; i++) if (!options.skip?.(i)) included.push(i);
  const n = included.length;
  if (n === 0) return { result: "ok", linearizations: [[]], stuck: [] };

  // Entries in time order; at equal times calls come first, so operations whose intervals
  // touch are concurrent (either may be linearized first).
  const order = new Int32Array(2 * n);
  for (let k = 0; k < 2 * n; k++) order[k] = k;
  const time = (e: number) => {
    const op = ops[included[e >> 1] as number] as Operation<I, O>;
    return e & 1 ? op.return : op.call;
  };
  order.sort((a, b) => time(a) - time(b) || (a & 1) - (b & 1) || a - b);

  const size = 2 * n;
  const head = size;
  const next = new Int32Array(size + 1);
  const prev = new Int32Array(size + 1);
  const opOf = new Int32Array(size); // entry -> local op index (0..n-1)
  const isCall = new Uint8Array(size);
  const match = new Int32Array(size); // call entry -> its return entry
  const callEntry = new Int32Array(n);
  for (let pos = 0; pos < size; pos++) {
    const e = order[pos] as number;
    opOf[pos] = e >> 1;
    if ((e & 1) === 0) {
      isCall[pos] = 1;
      callEntry[e >> 1] = pos;
    } else {
      match[callEntry[e >> 1] as number] = pos;
    }
    next[pos] = pos + 1 < size ? pos + 1 : NIL;
    prev[pos] = pos === 0 ? head : pos - 1;
  }
  next[head] = 0;
  prev[head] = NIL;

  const lift = (e: number) => {
    next[prev[e] as number] = next[e] as number;
    prev[next[e] as number] = prev[e] as number;
    const m = match[e] as number;
    next[prev[m] as number] = next[m] as number;
    if (next[m] !== NIL) prev[next[m] as number] = prev[m] as number;
  };
  const unlift = (e: number) => {
    const m = match[e] as number;
    next[prev[m] as number] = m;
    if (next[m] !== NIL) prev[next[m] as number] = m;
    next[prev[e] as number] = e;
    prev[next[e] as number] = e;
  };

  const inputs: I[] = included.map((i) => (ops[i] as Operation<I, O>).input);
  const outputs: (O | typeof UNKNOWN)[] = included.map((i) => (ops[i] as Operation<I, O>).output);
  // Once every operation with a known output is linearized, the rest (all indeterminate) can
  // follow in call order: the model accepts them in any state, and call order respects time.
  let definiteLeft = 0;
  for (const out of outputs) if (out !== UNKNOWN) definiteLeft++;

  const bits = new Bitset(n);
  const cache = new Map<number, { words: Uint32Array; state: S }[]>();
  const stackEntry: number[] = [];
  const stackState: S[] = [];
  let state = model.init();
  let entry = next[head] as number;
  let iterations = 0;

  const partial = options.verbose ? new PartialTracker(n) : undefined;
  const toGlobal = (local: number[]) => local.map((l) => included[l] as number);

  while (next[head] !== NIL && definiteLeft > 0) {
    if ((++iterations & 1023) === 0 && performance.now() > options.deadline) {
      return { result: "unknown", linearizations: [], stuck: [] };
    }
    if (isCall[entry]) {
      const op = opOf[entry] as number;
      const stepped = model.step(state, inputs[op] as I, outputs[op] as O | typeof UNKNOWN);
      if (stepped.ok) {
        const hash =
          (bits.hashWithToggled(op) ^ Math.imul(model.hash(stepped.state), 0x9e3779b1)) | 0;
        let bucket = cache.get(hash);
        let seen = false;
        if (bucket) {
          for (const c of bucket) {
            if (bits.equalsWithToggled(c.words, op) && model.equal(c.state, stepped.state)) {
              seen = true;
              break;
            }
          }
        } else {
          bucket = [];
          cache.set(hash, bucket);
        }
        if (!seen) {
          bucket.push({ words: bits.copyWithToggled(op), state: stepped.state });
          stackEntry.push(entry);
          stackState.push(state);
          state = stepped.state;
          bits.toggle(op);
          lift(entry);
          if (outputs[op] !== UNKNOWN) definiteLeft--;
          entry = next[head] as number;
          continue;
        }
      }
      entry = next[entry] as number;
    } else {
      partial?.record(stackEntry, opOf, () => stuckAt(entry, next, head, opOf));
      if (stackEntry.length === 0) {
        return {
          result: "illegal",
          linearizations: partial ? partial.linearizations().map(toGlobal) : [],
          stuck: partial ? toGlobal(partial.stuck) : [],
        };
      }
      const top = stackEntry.pop() as number;
      state = stackState.pop() as S;
      const op = opOf[top] as number;
      bits.toggle(op);
      unlift(top);
      if (outputs[op] !== UNKNOWN) definiteLeft++;
      entry = next[top] as number;
    }
  }

  const complete = stackEntry.map((e) => opOf[e] as number);
  for (let e = next[head] as number; e !== NIL; e = next[e] as number) {
    if (isCall[e]) complete.push(opOf[e] as number);
  }
  return { result: "ok", linearizations: [toGlobal(complete)], stuck: [] };
}

/** The calls pending before the return entry `blocked`, and the op of that return. */
function stuckAt(blocked: number, next: Int32Array, head: number, opOf: Int32Array): number[] {
  const stuck: number[] = [];
  for (let e = next[head] as number; e !== blocked && e !== NIL; e = next[e] as number) {
    stuck.push(opOf[e] as number);
  }
  const blockedOp = opOf[blocked] as number;
  if (!stuck.includes(blockedOp)) stuck.push(blockedOp);
  return stuck;
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
