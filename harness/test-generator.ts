// The default test as one generator expression (generator/): the clients' operations at the
// asked rate and, beside them on the nemesis thread, a warm-up and then a fault every interval,
// the kinds in turn from a seeded first one, each healed half an interval after it started;
// all of it for the time limit, then every fault still in force healed.
//
//   phases(
//     any(clients(timeLimit(T, stagger(1/rate, each(workerOps)))),
//         nemesis(timeLimit(T, concat(sleep(warm-up), faultTurns)))),
//     nemesis(once({f: "heal"})))
//
// Every choice comes from the run's streams: worker w's k-th operation is the same whatever the
// timing (WorkerOps), and the faults' kinds and parameters are drawn from the stream "nemesis".

import type { Value } from "../checker/history.js";
import type { Stream } from "../contracts/random.js";
import {
  any,
  clients,
  concat,
  each,
  type Generator,
  nemesis,
  once,
  phases,
  sleep,
  stagger,
  timeLimit,
} from "./generator/index.js";
import type { Op } from "./generator/types.js";
import type { Invocation, Nemesis } from "./types.js";

/** Worker w's k-th operation (0, 1, ...): a pure function of (w, k) for a seed. */
export type WorkerOps = (worker: number, k: number) => Invocation;

export interface TestPlan {
  timeLimitMs: number;
  /** Operations per second, all workers together; Infinity: as fast as they go. */
  rate: number;
  warmupMs: number;
  intervalMs: number;
  nemeses: readonly Nemesis[];
  nodes: number;
}

/** Each worker's operations in its own order: the k-th ask of worker w is ops(w, k). */
export function workerSequence(ops: WorkerOps): Generator {
  const from = (k: number): Generator => ({
    op(ctx) {
      const thread = ctx.free[0];
      if (typeof thread !== "number") return { kind: "pending", next: from(k) };
      return { kind: "op", op: { ...ops(thread, k), time: ctx.time, thread }, next: from(k + 1) };
    },
    update() {
      return this;
    },
  });
  return each(from(0));
}

/**
 * The faults, one at a time: start (parameters from the nemesis's plan), half an interval,
 * stop, half an interval; the next kind in turn, the first drawn from the stream "nemesis".
 */
export function faultTurns(
  nemeses: readonly Nemesis[],
  intervalMs: number,
  nodes: number,
): Generator {
  if (nemeses.length === 0) return concat();
  const turn = (index: number | undefined, stream: Stream | undefined): Generator => ({
    op(ctx) {
      let s = stream ?? ctx.stream("nemesis");
      let i = index;
      if (i === undefined) [i, s] = s.int(nemeses.length);
      const nem = nemeses[i % nemeses.length] as Nemesis;
      const [params, after] = nem.plan ? nem.plan(s, nodes) : [undefined, s];
      const start =
        params === undefined
          ? { f: `start-${nem.kind}` }
          : { f: `start-${nem.kind}`, value: params };
      return concat(
        once(start),
        sleep(intervalMs / 2),
        once({ f: `stop-${nem.kind}` }),
        sleep(intervalMs / 2),
        turn(i + 1, after),
      ).op(ctx);
    },
    update() {
      return this;
    },
  });
  return turn(undefined, undefined);
}

/**
 * A test's main phase then the heal: the paced clients until the time limit, beside `faults`
 * (cut at the time limit too); the heal comes once every operation of both has completed.
 */
function mainPhase(plan: TestPlan, ops: WorkerOps, faults: Generator): Generator {
  const work = workerSequence(ops);
  const paced =
    Number.isFinite(plan.rate) && plan.rate > 0 ? stagger(1000 / plan.rate, work) : work;
  return phases(
    any(clients(timeLimit(plan.timeLimitMs, paced)), nemesis(timeLimit(plan.timeLimitMs, faults))),
    nemesis(once({ f: "heal" })),
  );
}

/** The default test: the nemeses' turns after the warm-up (none without nemeses). */
export function defaultTest(plan: TestPlan, ops: WorkerOps): Generator {
  const faults =
    plan.nemeses.length > 0
      ? concat(sleep(plan.warmupMs), faultTurns(plan.nemeses, plan.intervalMs, plan.nodes))
      : concat();
  return mainPhase(plan, ops, faults);
}

/**
 * The run's nemesis operations as the generator gave them, one JSON line each: when (ms from
 * the start of the main phase), what (`f`) and with which parameters. What `replay` runs again.
 */
export const NEMESIS_OPS = "nemesis-ops.jsonl";

export interface NemesisOpLine {
  at_ms: number;
  f: string;
  value?: Value;
}

export function nemesisOpLine(op: Op): NemesisOpLine {
  const line: NemesisOpLine = { at_ms: Math.round(op.time), f: op.f };
  if (op.value !== undefined) line.value = op.value;
  return line;
}

/** Nemesis operations at fixed offsets from the start of the main phase (a replay, a schedule). */
export function timedFaults(lines: readonly NemesisOpLine[]): Generator {
  return concat(
    ...lines
      .filter((o) => o.f !== "heal")
      .map((o) =>
        once({ f: o.f, time: o.at_ms, ...(o.value === undefined ? {} : { value: o.value }) }),
      ),
  );
}

/**
 * The clients as in the default test, beside these nemesis operations at their offsets, then
 * the heal: a recorded run again (replay: the same seed makes the same operations per worker),
 * or a schedule of the test's YAML (fault-schedule.ts).
 */
export function timedTest(
  plan: TestPlan,
  ops: WorkerOps,
  lines: readonly NemesisOpLine[],
): Generator {
  return mainPhase(plan, ops, timedFaults(lines));
}
