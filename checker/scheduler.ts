// The scheduling shared by the single-threaded check (check.ts), the parallel one
// (parallel.ts) and its worker threads (parallel-worker.ts).
//
// `RoundRobin` searches a set of partitions in slices, one after the other and round again, as
// Porcupine's goroutines run side by side: an illegal partition that is quick to refute is found
// even when another partition would take the search a very long time. `CheckRun` is one check
// of a whole history: its partitions, the verdicts gathered so far, and when to give up.

import { getHeapStatistics } from "node:v8";
import { CacheFull } from "./cache.js";
import type { CompactWire } from "./compact.js";
import type {
  CheckOptions,
  CheckOutcome,
  CheckResult,
  Model,
  Operation,
  Partition,
  PartitionInfo,
} from "./model.js";
import { columnsOf, PartitionSearch, type SearchOptions, type SearchResult } from "./search.js";

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

/** One partition's search, as the round-robin runs it (a PartitionSearch). */
export interface Searcher {
  run(budget: number): SearchResult | undefined;
  dispose(): void;
}

/**
 * A partition to search: how many operations it has, and how to start its search (when its
 * first turn comes: an easy partition ends, and frees its memory, before the next starts).
 */
export interface SearchSource {
  size: number;
  start(options: SearchOptions): Searcher;
  /**
   * A compact history's partition as a history of its own, for a worker thread: searched there
   * as here (compact-check.ts) rather than as operation objects, a slower model.
   */
  portable?(): CompactWire;
}

/** The source of a partition given as operation objects. */
export function opsSource<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
): SearchSource {
  return {
    size: ops.length,
    start: (options) => new PartitionSearch(model, columnsOf(model, ops), options),
  };
}

/**
 * Partitions searched in turn, a slice each. Partitions are known by an index (the caller's:
 * the partition's place in the whole history), so that they can move between threads.
 */
export class RoundRobin {
  /** Partitions waiting for their next slice, in turn order (a queue: `head` is its front). */
  private queue: number[] = [];
  private head = 0;
  private readonly sources = new Map<number, SearchSource>();
  /** Searches are created when first run, so that easy partitions finish (and free their
   * memory) before the next one starts. */
  private readonly searches = new Map<number, Searcher>();
  private readonly slices = new Map<number, number>();

  constructor(
    private readonly verbose: boolean,
    private readonly cacheWords?: number,
  ) {}

  /** How many partitions are unfinished here. */
  get pending(): number {
    return this.sources.size;
  }

  add(index: number, source: SearchSource): void {
    this.sources.set(index, source);
    this.queue.push(index);
  }

  /** Takes a partition away (its search is dropped); false if it is not here. */
  remove(index: number): boolean {
    if (!this.sources.delete(index)) return false;
    this.searches.get(index)?.dispose();
    this.searches.delete(index);
    this.slices.delete(index);
    return true;
  }

  /** Drops every partition. */
  clear(): void {
    for (const search of this.searches.values()) search.dispose();
    this.sources.clear();
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
      if (this.sources.has(i)) {
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
      const n = (this.sources.get(index) as SearchSource).size;
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
      const ops = (this.sources.get(index) as SearchSource).size;
      return this.search(index).run(first ? Math.max(SLICE, FIRST_TURN_STEPS_PER_OP * ops) : SLICE);
    } catch (err) {
      if (!(err instanceof CacheFull)) throw err;
      return { result: "unknown", linearizations: [], stuck: [], reason: err.message };
    }
  }

  private search(index: number): Searcher {
    let search = this.searches.get(index);
    if (!search) {
      const { verbose, cacheWords } = this;
      search = (this.sources.get(index) as SearchSource).start({ verbose, cacheWords });
      this.searches.set(index, search);
    }
    return search;
  }
}

/** A history made ready for the check: its partitions, and the search of each. */
export interface PreparedHistory<I, O> {
  /** How many operations the history has. */
  ops: number;
  partitions: Partition<I, O>[];
  /** For each partition, its search. */
  sources: SearchSource[];
}

/** A history of operation objects, validated and partitioned by the model. */
export function prepare<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
): PreparedHistory<I, O> {
  ops.forEach((op, i) => {
    validate(op.call, op.return, i);
  });
  const partitions = model.partition
    ? model.partition(ops)
    : [{ label: "", ops: [...ops], origin: ops.map((_, i) => i) }];
  return { ops: ops.length, partitions, sources: partitions.map((p) => opsSource(model, p.ops)) };
}

/**
 * One check of a history: searches its partitions in this thread (`local`), gathers verdicts
 * (from here or elsewhere: `record`), decides when to give up.
 */
export class CheckRun<I, O> {
  readonly started = performance.now();
  readonly verbose: boolean;
  readonly partitions: Partition<I, O>[];
  readonly sources: SearchSource[];
  readonly local: RoundRobin;
  private readonly infos: PartitionInfo<I, O>[];
  result: CheckResult = "ok";
  /** Partitions whose own search gave up (`unknown` with a reason). */
  private undecided = 0;
  /** When to stop: the timeout, or the end of a full report's grace time. */
  private stopAt: number;
  gaveUp: CheckOutcome<I, O>["gaveUp"];

  private readonly ops: number;

  /**
   * `started`: when the check began (the caller may have prepared the history first: that is
   * part of the check's time, as it always was).
   */
  constructor(history: PreparedHistory<I, O>, options: CheckOptions, started?: number) {
    if (started !== undefined) this.started = started;
    this.stopAt = options.timeout
      ? this.started + options.timeout * 1000
      : Number.POSITIVE_INFINITY;
    this.verbose = options.verbose ?? false;
    this.ops = history.ops;
    this.partitions = history.partitions;
    this.sources = history.sources;
    // `ops` and `origin` are read from the partition when asked for: a compact history's
    // partitions make their operation objects only then (compact.ts).
    this.infos = this.partitions.map((p) => ({
      label: p.label,
      result: "unknown",
      get ops() {
        return p.ops;
      },
      get origin() {
        return p.origin;
      },
      linearizations: [],
      stuck: [],
    }));
    this.local = new RoundRobin(this.verbose, options.cacheWords);
    this.sources.forEach((source, i) => {
      this.local.add(i, source);
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
      ops: this.ops,
      durationMs: performance.now() - this.started,
    };
  }
}

/** Throws unless [call, ret] is an interval (Infinity: never returned). */
export function validate(call: number, ret: number, index: number): void {
  if (!Number.isFinite(call) || Number.isNaN(ret) || ret < call) {
    throw new RangeError(
      `operation ${index}: call ${call} and return ${ret} do not form an interval`,
    );
  }
}
