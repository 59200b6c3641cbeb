// The scheduling shared by the single-threaded check (check.ts), the parallel one
// (parallel.ts) and its worker threads (parallel-worker.ts).
//
// `RoundRobin` searches a set of partitions in slices, one after the other and round again, as
// Porcupine's goroutines run side by side: an illegal partition that is quick to refute is found
// even when another partition would take the search a very long time. `CheckRun` is one check
// of a whole history: its partitions, the verdicts gathered so far, and when to give up.

import { getHeapStatistics } from "node:v8";
import { CacheFull } from "./cache.js";
import type {
  CheckOptions,
  CheckOutcome,
  CheckResult,
  Model,
  Operation,
  Partition,
  PartitionInfo,
} from "./model.js";
import { PartitionSearch, type SearchResult } from "./search.js";

/** Steps a partition searches before the next one gets its turn. */
export const SLICE = 20_000;
/**
 * A partition's first turn is longer, this many steps per operation (an easy search takes a
 * few), so that an easy partition ends in its first turn and frees its cache before the next
 * starts: with a 10,000,000-op history's thousand partitions of 8,000 operations, each cache
 * ~8 MB, searches left half done side by side took more memory than the history.
 */
const FIRST_TURN_STEPS_PER_OP = 20;
/**
 * In a full report, how long the other partitions may run once one is found illegal: twice as
 * long as the check took to find it, within these bounds. The verdict is known by then; what
 * is left is usually a partition too hard to end at all (c50-bad's four legal keys run for
 * minutes), and a fixed 3 s made such a report cost 3 s whatever the history.
 */
const FULL_REPORT_GRACE_MS = { min: 500, max: 3_000, perElapsed: 2 } as const;
/** Share of the heap limit past which the search stops with `unknown` instead of crashing. */
const HEAP_LIMIT_SHARE = 0.85;

/** Whether this thread's heap is nearly full (each worker thread has a heap of its own). */
export function heapNearlyFull(): boolean {
  const heap = getHeapStatistics();
  return heap.used_heap_size > heap.heap_size_limit * HEAP_LIMIT_SHARE;
}

/** One slice's outcome: the partition searched, and its verdict when it finished. */
export interface Slice {
  index: number;
  found: SearchResult | undefined;
}

/**
 * Partitions searched in turn, a slice each. Partitions are known by an index (the caller's:
 * the partition's place in the whole history), so that they can move between threads.
 */
export class RoundRobin<S, I, O> {
  /** Partitions waiting for their next slice, in turn order (a queue: `head` is its front). */
  private queue: number[] = [];
  private head = 0;
  private readonly ops = new Map<number, readonly Operation<I, O>[]>();
  /** Searches are created when first run, so that easy partitions finish (and free their
   * memory) before the next one starts. */
  private readonly searches = new Map<number, PartitionSearch<S, I, O>>();
  private readonly slices = new Map<number, number>();

  constructor(
    private readonly model: Model<S, I, O>,
    private readonly verbose: boolean,
    private readonly cacheWords?: number,
  ) {}

  /** How many partitions are unfinished here. */
  get pending(): number {
    return this.ops.size;
  }

  add(index: number, ops: readonly Operation<I, O>[]): void {
    this.ops.set(index, ops);
    this.queue.push(index);
  }

  /** Takes a partition away (its search is dropped); false if it is not here. */
  remove(index: number): boolean {
    if (!this.ops.delete(index)) return false;
    this.searches.get(index)?.dispose();
    this.searches.delete(index);
    this.slices.delete(index);
    return true;
  }

  /** Drops every partition. */
  clear(): void {
    for (const search of this.searches.values()) search.dispose();
    this.ops.clear();
    this.searches.clear();
    this.slices.clear();
    this.queue = [];
    this.head = 0;
  }

  /** Runs one slice of the next partition in turn; undefined when there is none. */
  runSlice(): Slice | undefined {
    let index: number | undefined;
    // Removed partitions leave their index in the queue; skip them.
    while (this.head < this.queue.length) {
      const i = this.queue[this.head++] as number;
      if (this.ops.has(i)) {
        index = i;
        break;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (index === undefined) return undefined;
    const found = this.slice(index);
    if (found) {
      this.remove(index);
    } else {
      this.slices.set(index, (this.slices.get(index) ?? 0) + 1);
      this.queue.push(index);
    }
    return { index, found };
  }

  /**
   * The unfinished partitions that look hard: searched for at least two slices, and at least
   * `stepsPerOp` steps per operation (an easy search takes a few steps per operation). The
   * most searched first.
   */
  hard(stepsPerOp: number): number[] {
    const hard: [index: number, slices: number][] = [];
    for (const [index, slices] of this.slices) {
      const n = (this.ops.get(index) as readonly Operation<I, O>[]).length;
      if (slices >= 2 && slices * SLICE >= stepsPerOp * n) hard.push([index, slices]);
    }
    return hard.sort((a, b) => b[1] - a[1]).map(([index]) => index);
  }

  /**
   * One slice of a partition's search. A search whose cache fills gives that partition
   * `unknown` (its cache is freed as it is removed), and the other partitions go on.
   */
  private slice(index: number): SearchResult | undefined {
    try {
      const first = !this.slices.has(index);
      const ops = (this.ops.get(index) as readonly Operation<I, O>[]).length;
      return this.search(index).run(first ? Math.max(SLICE, FIRST_TURN_STEPS_PER_OP * ops) : SLICE);
    } catch (err) {
      if (!(err instanceof CacheFull)) throw err;
      return { result: "unknown", linearizations: [], stuck: [], reason: err.message };
    }
  }

  private search(index: number): PartitionSearch<S, I, O> {
    let search = this.searches.get(index);
    if (!search) {
      const ops = this.ops.get(index) as readonly Operation<I, O>[];
      const { verbose, cacheWords } = this;
      search = new PartitionSearch(this.model, ops, { verbose, cacheWords });
      this.searches.set(index, search);
    }
    return search;
  }
}

/**
 * One check of a history: validates and partitions it, searches partitions in this thread
 * (`local`), gathers verdicts (from here or elsewhere: `record`), decides when to give up.
 */
export class CheckRun<S, I, O> {
  readonly started = performance.now();
  readonly verbose: boolean;
  readonly partitions: Partition<I, O>[];
  readonly local: RoundRobin<S, I, O>;
  private readonly infos: PartitionInfo<I, O>[];
  result: CheckResult = "ok";
  /** Partitions whose own search gave up (`unknown` with a reason). */
  private undecided = 0;
  /** When to stop: the timeout, or the end of a full report's grace time. */
  private stopAt: number;
  gaveUp: CheckOutcome<I, O>["gaveUp"];

  constructor(
    model: Model<S, I, O>,
    private readonly ops: readonly Operation<I, O>[],
    options: CheckOptions,
  ) {
    this.stopAt = options.timeout
      ? this.started + options.timeout * 1000
      : Number.POSITIVE_INFINITY;
    this.verbose = options.verbose ?? false;
    ops.forEach(validate);
    this.partitions = model.partition
      ? model.partition(ops)
      : [{ label: "", ops: [...ops], origin: ops.map((_, i) => i) }];
    this.infos = this.partitions.map((p) => ({
      label: p.label,
      result: "unknown",
      ops: p.ops,
      origin: p.origin,
      linearizations: [],
      stuck: [],
    }));
    this.local = new RoundRobin(model, this.verbose, options.cacheWords);
    this.partitions.forEach((p, i) => {
      this.local.add(i, p.ops);
    });
  }

  /** Whether nothing more is to be searched: given up, or illegal and no full report asked. */
  get stopped(): boolean {
    return this.gaveUp !== undefined || (this.result === "illegal" && !this.verbose);
  }

  /** Milliseconds left before the timeout or the grace time ends (Infinity: no limit). */
  get msLeft(): number {
    return this.stopAt - performance.now();
  }

  /** A partition's verdict, found here or in a worker thread. */
  record(index: number, found: SearchResult): void {
    Object.assign(this.infos[index] as PartitionInfo<I, O>, found);
    if (found.result === "unknown") this.undecided++;
    if (found.result === "illegal" && this.result !== "illegal") {
      this.result = "illegal";
      // A full report goes on with the other partitions, but only for a while: the verdict is
      // known, and a hard partition could otherwise run for ever.
      const now = performance.now();
      const { min, max, perElapsed } = FULL_REPORT_GRACE_MS;
      const grace = Math.min(max, Math.max(min, perElapsed * (now - this.started)));
      this.stopAt = Math.min(this.stopAt, now + grace);
    }
  }

  /** Gives up when the time is over or the heap nearly full. */
  checkLimits(): void {
    if (this.gaveUp !== undefined) return;
    if (performance.now() > this.stopAt)
      this.gaveUp = this.result === "illegal" ? "grace" : "timeout";
    else if (heapNearlyFull()) this.gaveUp = "memory";
  }

  /** Searches this thread's partitions in turn until they are done, the check stops, or `until`. */
  runLocal(until: number): void {
    while (this.local.pending > 0 && !this.stopped && performance.now() < until) {
      const slice = this.local.runSlice();
      if (!slice) break;
      if (slice.found) this.record(slice.index, slice.found);
      this.checkLimits();
    }
  }

  /** The outcome, with `unfinished` partitions (here and elsewhere) left unknown. */
  outcome(unfinished: number): CheckOutcome<I, O> {
    const left = this.result === "illegal" && !this.verbose ? 0 : unfinished;
    const result =
      this.result === "ok" && (left > 0 || this.undecided > 0) ? "unknown" : this.result;
    // Illegal partitions first, so reports lead with what failed; unfinished ones are unknown.
    const rank = { illegal: 0, unknown: 1, ok: 2 } as const;
    const checked =
      this.verbose || result !== "illegal"
        ? this.infos
        : this.infos.filter((p) => p.result === "illegal");
    checked.sort((a, b) => rank[a.result] - rank[b.result]);
    return {
      result,
      partitions: checked,
      partitionCount: this.partitions.length,
      ...(left > 0 && this.gaveUp !== undefined ? { gaveUp: this.gaveUp } : {}),
      ops: this.ops.length,
      durationMs: performance.now() - this.started,
    };
  }
}

function validate<I, O>(op: Operation<I, O>, index: number): void {
  if (!Number.isFinite(op.call) || Number.isNaN(op.return) || op.return < op.call) {
    throw new RangeError(
      `operation ${index}: call ${op.call} and return ${op.return} do not form an interval`,
    );
  }
}
