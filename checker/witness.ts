// The minimal witness of an illegal partition: a small sub-history that is still not
// linearizable, found by delta debugging (Zeller's ddmin) over its operations.
//
// Every candidate keeps its operations as they were recorded (the same call, return, input and
// output: only whole operations leave), so a witness is a real sub-history, not a new one. Each
// candidate is one search of one partition (search.ts) with a step budget, and the shrinking as
// a whole has a time limit: a candidate whose search runs out of steps counts as "not shown
// illegal" and is not taken, so whatever is returned has been proved illegal, and shrinking is
// bounded on hard partitions. Pure: no I/O (only the clock, for the time limit and the figure).

import type { Model, Operation } from "./model.js";
import { UNKNOWN } from "./model.js";
import { columnsOf, PartitionSearch } from "./search.js";

export interface WitnessOptions {
  /** Search steps per candidate; past them the candidate counts as not illegal. */
  stepsPerCheck?: number;
  /** Milliseconds for the whole shrinking; past them the smallest illegal set so far is returned. */
  timeLimitMs?: number;
  /**
   * The operations (indices into the operations given) that operation `i` cannot be kept
   * without: for a read, the writes that could have left the value it returned. Without them a
   * sub-history is illegal for a reason the history never had (a read of a value nobody wrote),
   * so a candidate always carries what its operations need (witness-needs.ts has them for the
   * built-in models). Default: nothing, every operation stands alone.
   */
  needs?: (i: number) => readonly number[];
}

export interface Witness<I, O> {
  /** The witness's operations, in call order (the given objects, unchanged). */
  ops: Operation<I, O>[];
  /** For each of `ops`, its index in the operations given. */
  origin: number[];
  /** Searches run (candidates checked), the first one (the whole partition) included. */
  checks: number;
  ms: number;
  /**
   * Proved 1-minimal: removing any single operation (with the operations that need it) makes
   * it linearizable, each such removal searched to the end. False when the time limit or a
   * step budget stopped the proof.
   */
  minimal: boolean;
}

export const WITNESS_DEFAULTS = { stepsPerCheck: 100_000, timeLimitMs: 10_000 } as const;

type Verdict = "illegal" | "ok" | "undecided";
type Indices = readonly number[];

/**
 * Shrinks the operations of ONE partition (they must not need partitioning: one key, one
 * element) to a small sub-history that is still not linearizable under `model`. Undefined when
 * the operations given are not proved illegal within one step budget (linearizable, or too hard).
 */
export function findWitness<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  options: WitnessOptions = {},
): Witness<I, O> | undefined {
  const started = performance.now();
  const steps = options.stepsPerCheck ?? WITNESS_DEFAULTS.stepsPerCheck;
  const deadline = started + (options.timeLimitMs ?? WITNESS_DEFAULTS.timeLimitMs);
  const deps = new Dependencies(ops.length, options.needs ?? (() => []));
  let checks = 0;
  const verdictOf = (candidate: Indices): Verdict => {
    checks++;
    const sub = candidate.map((i) => opAt(ops, i));
    const found = new PartitionSearch(model, columnsOf(model, sub), { verbose: false }).run(steps);
    return found === undefined || found.result === "unknown" ? "undecided" : found.result;
  };
  // Candidates are sets of indices into `ops`, kept in call order so that ddmin's chunks are
  // spans of time: a violation is usually local, and a span holds it whole.
  const byCall = (a: number, b: number) => opAt(ops, a).call - opAt(ops, b).call || a - b;
  const all = ops.map((_, i) => i).sort(byCall);
  if (verdictOf(all) !== "illegal") return undefined;

  let current: Indices = all;
  /** A smaller illegal set than `current` made of `part` and what it needs, if there is one. */
  const shrinkTo = (part: Indices): Indices | undefined => {
    if (performance.now() >= deadline) return undefined;
    const closed = deps.upward(part).sort(byCall);
    if (closed.length >= current.length) return undefined;
    return verdictOf(closed) === "illegal" ? closed : undefined;
  };
  // Indeterminate operations only widen what the history allows, as a rule: try without all
  // of them at once first, so that those kept are the ones the violation needs.
  const definite = deps.downward(current.filter((i) => opAt(ops, i).output !== UNKNOWN));
  current = shrinkTo(definite) ?? current;
  current = ddmin(current, (part) => {
    const smaller = shrinkTo(part);
    if (smaller) current = smaller;
    return smaller;
  });
  const proved = oneMinimal(current, ops, deps, verdictOf, deadline);
  return {
    ops: proved.kept.map((i) => opAt(ops, i)),
    origin: [...proved.kept],
    checks,
    ms: performance.now() - started,
    minimal: proved.minimal,
  };
}

/**
 * Zeller's ddmin: the smallest set found by trying chunks and their complements at ever finer
 * granularity. `shrink(part)` gives a smaller illegal set built on `part`, or undefined.
 */
function ddmin(start: Indices, shrink: (part: Indices) => Indices | undefined): Indices {
  let c = start;
  let n = 2;
  while (c.length >= 2) {
    const chunks = split(c, n);
    let next: Indices | undefined;
    for (const chunk of chunks) {
      next = shrink(chunk);
      if (next) break;
    }
    if (next) {
      c = next;
      n = 2;
      continue;
    }
    // With two chunks a complement is the other chunk, already tried.
    for (let k = 0; n > 2 && k < chunks.length && !next; k++) {
      next = shrink(chunks.filter((_, j) => j !== k).flat());
    }
    if (next) {
      c = next;
      n = Math.max(n - 1, 2);
      continue;
    }
    if (n >= c.length) break;
    n = Math.min(2 * n, c.length);
  }
  return c;
}

/** `c` cut into `n` chunks of nearly equal length, in order. */
function split(c: Indices, n: number): number[][] {
  const chunks: number[][] = [];
  let from = 0;
  for (let k = 0; k < n; k++) {
    const to = from + Math.floor((c.length - from) / (n - k));
    chunks.push(c.slice(from, to));
    from = to;
  }
  return chunks.filter((chunk) => chunk.length > 0);
}

/**
 * One pass that makes the set 1-minimal and proves it: each operation in turn (indeterminate
 * ones first: they are kept only if the violation needs them) is removed, with the operations
 * that need it, if the rest is still illegal; the set is minimal once every such removal was
 * searched to the end and found ok. A removal that leaves it illegal restarts the pass.
 */
function oneMinimal<I, O>(
  start: Indices,
  ops: readonly Operation<I, O>[],
  deps: Dependencies,
  verdictOf: (c: Indices) => Verdict,
  deadline: number,
): { kept: Indices; minimal: boolean } {
  const unknownFirst = (a: number, b: number) =>
    Number(opAt(ops, b).output === UNKNOWN) - Number(opAt(ops, a).output === UNKNOWN);
  let c = start;
  for (;;) {
    let smaller: Indices | undefined;
    let minimal = true;
    for (const drop of [...c].sort(unknownFirst)) {
      if (performance.now() >= deadline) return { kept: c, minimal: false };
      const rest = withoutOne(c, drop, deps);
      const verdict = verdictOf(rest);
      if (verdict === "illegal") {
        smaller = rest;
        break;
      }
      if (verdict === "undecided") minimal = false;
    }
    if (!smaller) return { kept: c, minimal };
    c = smaller;
  }
}

/** `c` without operation `drop` and without the operations that (in turn) need it. */
export function withoutOne(c: Indices, drop: number, deps: Dependencies): number[] {
  return deps.downward(c.filter((i) => i !== drop));
}

/** What each operation needs, and the two closures a candidate can take. */
export class Dependencies {
  private readonly memo: (readonly number[] | undefined)[];

  constructor(
    size: number,
    private readonly needs: (i: number) => readonly number[],
  ) {
    this.memo = new Array(size);
  }

  of(i: number): readonly number[] {
    let n = this.memo[i];
    if (n === undefined) {
      n = this.needs(i);
      this.memo[i] = n;
    }
    return n;
  }

  /** The smallest superset of `c` that holds what each of its operations needs. */
  upward(c: Indices): number[] {
    const kept = new Set(c);
    const todo = [...c];
    for (let i = todo.pop(); i !== undefined; i = todo.pop()) {
      for (const j of this.of(i)) {
        if (!kept.has(j)) {
          kept.add(j);
          todo.push(j);
        }
      }
    }
    return [...kept];
  }

  /** The largest subset of `c` whose operations have all they need within it (order kept). */
  downward(c: Indices): number[] {
    let kept = [...c];
    for (;;) {
      const set = new Set(kept);
      const next = kept.filter((i) => this.of(i).every((j) => set.has(j)));
      if (next.length === kept.length) return kept;
      kept = next;
    }
  }
}

function opAt<I, O>(ops: readonly Operation<I, O>[], i: number): Operation<I, O> {
  return ops[i] as Operation<I, O>;
}
