// The check with worker threads, for histories with several hard partitions.
//
// It starts as checkOperations does (same partitions, same round-robin in this thread). Most
// histories are done within a few hundred milliseconds, and for a big easy one copying
// operations to another thread costs about as much as checking them; so only after
// HANDOFF_AFTER_MS, and only partitions that have proved hard (searched for many steps per
// operation without an end), go to worker threads, when there are at least two of them: each
// worker restarts its partitions' searches from scratch (searches cannot be moved), while this
// thread goes on with the rest. A worker that runs out of partitions gets more from this
// thread's hard ones. The first illegal partition (unless verbose), the timeout, the grace
// time of a full report and a nearly full heap end the check as in checkOperations, and
// terminate the workers.
//
// Models are closures and cannot cross a thread boundary: a worker rebuilds the built-in model
// from its name (`ModelSpec`). UNKNOWN is a symbol and cannot either: operations travel as
// `WireOp`s, with an `unknown` flag instead.

import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { CompactHistory, type CompactWire } from "./compact.js";
import { prepareCompact } from "./compact-check.js";
import type { HistoryOp, ModelName, OpInput, OpOutput, Value } from "./history.js";
import type { CheckOptions, CheckOutcome, Operation } from "./model.js";
import { UNKNOWN } from "./model.js";
import { modelFor } from "./models/index.js";
import { CheckRun, type PreparedHistory, prepare, type SearchSource } from "./scheduler.js";
import type { SearchResult } from "./search.js";
import { spawnWorker } from "./spawn-worker.js";

/** A built-in model, as a worker thread can rebuild it (`modelFor(name, { initial })`). */
export interface ModelSpec {
  name: ModelName;
  initial?: Value;
}

export interface ParallelOptions extends CheckOptions {
  /** Worker threads at most; 0: this thread only. Default: the cores but one. */
  workers?: number;
}

export interface ParallelOutcome extends CheckOutcome<OpInput, OpOutput> {
  /** How many partitions were searched in worker threads (0: none were handed off). */
  workers: number;
}

/** How long this thread searches alone before hard partitions may go to workers. */
const HANDOFF_AFTER_MS = 300;
/** When workers are started if partitions already look hard, ready for the hand-off. */
const WARM_UP_AFTER_MS = 150;
/** A partition is hard once searched for this many steps per operation (and two slices). */
const HARD_STEPS_PER_OP = 20;
/** How long a thread searches before it looks at its messages. */
export const CHUNK_MS = 20;

/** An operation as it crosses to a worker thread: UNKNOWN becomes `unknown: true`. */
export interface WireOp {
  clientId: number;
  input: OpInput;
  call: number;
  return: number;
  output?: OpOutput;
  unknown?: true;
}

/** Worker thread set-up (its `workerData`). */
export interface WorkerSetup {
  spec: ModelSpec;
  verbose: boolean;
  cacheWords?: number;
}

/** This thread to a worker: more partitions to search (indices into the whole history's). */
export interface ToWorker {
  /** A partition's operations as objects, or as a compact history of its own. */
  partitions: ({ index: number; ops: WireOp[] } | { index: number; compact: CompactWire })[];
}

/** A worker to this thread: a partition's verdict, or its heap is nearly full. */
export type FromWorker = { type: "found"; index: number; found: SearchResult } | { type: "memory" };

export function encodeOp(op: Operation<OpInput, OpOutput>): WireOp {
  const wire: WireOp = { clientId: op.clientId, input: op.input, call: op.call, return: op.return };
  if (op.output === UNKNOWN) wire.unknown = true;
  else wire.output = op.output;
  return wire;
}

export function decodeOp(wire: WireOp): Operation<OpInput, OpOutput> {
  return {
    clientId: wire.clientId,
    input: wire.input,
    call: wire.call,
    return: wire.return,
    output: wire.unknown ? UNKNOWN : (wire.output as OpOutput),
  };
}

/**
 * Checks a history as checkOperations does, with the same verdicts, searching hard partitions
 * in worker threads as well as in this one. The workers are gone when the promise settles.
 */
export async function checkInParallel(
  spec: ModelSpec,
  history: readonly HistoryOp[] | CompactHistory,
  options: ParallelOptions = {},
): Promise<ParallelOutcome> {
  const started = performance.now();
  const run = new CheckRun(prepared(spec, history), options, started);
  const max = Math.max(0, Math.floor(options.workers ?? availableParallelism() - 1));
  if (max === 0) {
    run.runLocal(Number.POSITIVE_INFINITY);
    return { ...run.outcome(run.local.pending), workers: 0 };
  }
  const pool = new Pool({ spec, verbose: run.verbose, cacheWords: options.cacheWords }, max);
  try {
    // Workers take a while to start (a fifth of a second from source): start them early when
    // partitions already look hard, so that they are ready for the hand-off.
    run.runLocal(run.started + WARM_UP_AFTER_MS);
    if (!run.stopped) pool.warmUp(run.local.hard(HARD_STEPS_PER_OP).length - 1);
    run.runLocal(run.started + HANDOFF_AFTER_MS);
    while (!run.stopped && run.local.pending + pool.pending > 0) {
      pool.handOff(run);
      if (run.local.pending > 0) {
        run.runLocal(performance.now() + CHUNK_MS);
        await new Promise((resolve) => setImmediate(resolve));
      } else {
        await pool.wait(run.msLeft);
      }
      pool.drain(run);
      run.checkLimits();
    }
  } finally {
    pool.close();
  }
  return { ...run.outcome(run.local.pending + pool.pending), workers: pool.searched };
}

/**
 * The history ready for the check: a compact one (register models, a scalar initial value)
 * without operation objects (compact-check.ts), any other as objects.
 */
function prepared(
  spec: ModelSpec,
  history: readonly HistoryOp[] | CompactHistory,
): PreparedHistory<OpInput, OpOutput> {
  if (!(history instanceof CompactHistory)) {
    return prepare(modelFor(spec.name, { initial: spec.initial }), history);
  }
  const compact = spec.name === "set" ? undefined : prepareCompact(history, spec.initial);
  return compact ?? prepare(modelFor(spec.name, { initial: spec.initial }), history.ops());
}

type AnyRun = CheckRun<OpInput, OpOutput>;

interface Member {
  worker: Worker;
  /** Partitions sent to it and not yet done. */
  assigned: Set<number>;
}

type Event =
  | { member: Member; message: FromWorker }
  | { member: Member; error: Error }
  | { member: Member; exit: number };

/** The worker threads of one check, started as partitions are handed off. */
class Pool {
  private readonly members: Member[] = [];
  private readonly inbox: Event[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  /** Set when a worker failed: no more hand-offs, this thread does the rest. */
  private broken = false;
  /** Partitions handed to workers (and not taken back after a failure). */
  searched = 0;

  constructor(
    private readonly setup: WorkerSetup,
    private readonly max: number,
  ) {}

  /** Partitions in workers, unfinished. */
  get pending(): number {
    let n = 0;
    for (const m of this.members) n += m.assigned.size;
    return n;
  }

  /**
   * Gives this thread's hard partitions to idle workers (starting them as needed), when there
   * are at least two: this thread keeps the biggest share, the most searched ones (a worker
   * starts over: the least searched lose the least).
   */
  handOff(run: AnyRun): void {
    if (this.broken || run.stopped) return;
    const hard = run.local.hard(HARD_STEPS_PER_OP);
    if (hard.length < 2) return;
    const idle = this.members.filter((m) => m.assigned.size === 0);
    while (idle.length + 1 < hard.length && this.members.length < this.max) {
      const member = this.start();
      if (!member) return;
      idle.push(member);
    }
    const takers = idle.slice(0, hard.length - 1);
    if (takers.length === 0) return;
    const share = Math.floor(hard.length / (takers.length + 1));
    let next = hard.length;
    for (const member of takers) {
      const mine = hard.slice(next - share, next);
      next -= share;
      const partitions = mine.map((index) => {
        run.local.remove(index);
        member.assigned.add(index);
        const p = run.partitions[index] as (typeof run.partitions)[number];
        const portable = run.sources[index]?.portable?.();
        return portable ? { index, compact: portable } : { index, ops: p.ops.map(encodeOp) };
      });
      this.searched += partitions.length;
      member.worker.postMessage({ partitions } satisfies ToWorker);
    }
  }

  /** Starts workers, `n` at most, before there is anything to hand off. */
  warmUp(n: number): void {
    while (this.members.length < Math.min(n, this.max) && this.start());
  }

  /** Waits for a message from a worker, or `ms` (0 or less: does not wait). */
  async wait(ms: number): Promise<void> {
    if (this.inbox.length > 0 || ms <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = Number.isFinite(ms)
        ? setTimeout(resolve, Math.min(ms, 2 ** 31 - 1))
        : undefined;
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  /** Takes in what the workers said. */
  drain(run: AnyRun): void {
    for (const event of this.inbox.splice(0)) {
      const { member } = event;
      if ("message" in event) {
        const m = event.message;
        if (m.type === "memory") run.gaveUp ??= "memory";
        else if (member.assigned.delete(m.index)) run.record(m.index, m.found);
      } else if (
        "error" in event &&
        (event.error as NodeJS.ErrnoException).code === "ERR_WORKER_OUT_OF_MEMORY"
      ) {
        run.gaveUp ??= "memory";
        member.assigned.clear();
      } else if (member.assigned.size > 0 || "error" in event) {
        // A worker that fails (it could not load, say) is no reason to fail the check: this
        // thread searches its partitions again.
        const why = "error" in event ? event.error.message : `exit code ${event.exit}`;
        process.emitWarning(`checker worker thread failed (${why}); checking in this thread`);
        for (const index of member.assigned) {
          run.local.add(index, run.sources[index] as SearchSource);
        }
        this.searched -= member.assigned.size;
        member.assigned.clear();
        this.broken = true;
      }
    }
  }

  /** Ends every worker; none keeps the process alive. */
  close(): void {
    this.closed = true;
    for (const { worker } of this.members) {
      worker.unref();
      void worker.terminate();
    }
  }

  /** A new worker; undefined (and no more hand-offs) if it cannot even be created. */
  private start(): Member | undefined {
    let worker: Worker;
    try {
      worker = this.spawn();
    } catch (err) {
      process.emitWarning(`checker worker thread not started (${(err as Error).message})`);
      this.broken = true;
      return undefined;
    }
    const member: Member = { worker, assigned: new Set() };
    const push = (event: Event) => {
      if (this.closed) return;
      this.inbox.push(event);
      this.wake?.();
    };
    worker.on("message", (message: FromWorker) => push({ member, message }));
    worker.on("error", (error: Error) => push({ member, error }));
    worker.on("exit", (exit: number) => push({ member, exit }));
    this.members.push(member);
    return member;
  }

  private spawn(): Worker {
    return spawnWorker(import.meta.url, "parallel-worker", { workerData: this.setup });
  }
}
