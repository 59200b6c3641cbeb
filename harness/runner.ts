// `paxos-harness test`, the orchestration: start the nodes, run the workload's set-up, then
// interpret the test as one generator (the clients and the faults side by side for the time
// limit, the heal, the recovery, the final phase: test-generator.ts and the phases below), stop
// the nodes, check the history, write results.json, print a summary, write report.html.
//
// The runner knows the roles only through harness/types.ts: the CLI glue (test-command.ts)
// picks the runtime, the backend and the nemeses and passes them in.
//
// Ctrl-C (the `signal`): workers stop and their operations in flight end as `info`, the fault
// in force is healed, the nodes stop, and the history so far is checked and kept. It exits 1
// if that history is already invalid, else 2 (unknown: an interrupted run is not a pass);
// results.json says "interrupted": true.

import { setMaxListeners } from "node:events";
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";
import { checkOperations } from "../checker/check.js";
import { parseHistory } from "../checker/formats/index.js";
import type { HistoryOp, OpInput, OpOutput } from "../checker/history.js";
import type { CheckOutcome } from "../checker/model.js";
import { modelFor, unsupportedOp } from "../checker/models/index.js";
import { Streams } from "../contracts/random.js";
import { makeWorkload } from "../workloads/index.js";
import { configYaml, type TestConfig } from "./config.js";
import { type Convergence, checkConvergence, describeDivergence } from "./convergence.js";
import { EXIT, type ExitCode } from "./exit.js";
import { timeline } from "./fault-schedule.js";
import {
  concat,
  interpret,
  log as logStep,
  clients as onClients,
  once,
  phases,
  sleep as sleepFor,
} from "./generator/index.js";
import type { Generator } from "./generator/types.js";
import { type FlushPolicy, HistoryWriter } from "./history-writer.js";
import { LIVE_ANSWER_MS } from "./limits.js";
import { ComposedNemesis } from "./nemesis/compose.js";
import { type Progress, quietProgress } from "./progress.js";
import { Recorder } from "./recorder.js";
import { reportAfterRun } from "./report/after-run.js";
import {
  exitCodeOf,
  illegalLabels,
  percentiles,
  type Results,
  round,
  setFindings,
  summary,
} from "./results.js";
import { createRunFolder, pointLatest, type RunFolder, runLog } from "./store.js";
import {
  defaultTest,
  NEMESIS_OPS,
  nemesisOpLine,
  type TestPlan,
  timedTest,
  type WorkerOps,
} from "./test-generator.js";
import { plural } from "./text.js";
import type {
  Backend,
  ClientFactory,
  ClusterView,
  Nemesis,
  NodeHandle,
  NodeSpec,
  Protocol,
  RunContext,
  Runtime,
  Workload,
} from "./types.js";
import { sleep, WorkerThreads, workerOps } from "./workers.js";

export interface RunnerDeps {
  runtime: Runtime;
  backend: Backend;
  /** The nemeses of config.nemesis, ready for this runtime (the CLI glue makes them). */
  nemeses: readonly Nemesis[];
  /** Where the nodes live; default: loopback addresses of their own (127.0.X.i). */
  nodeSpecs?: (count: number, dir: string) => NodeSpec[] | Promise<NodeSpec[]>;
  /** Default: the backend's protocol adapter. */
  clients?: ClientFactory;
  /** Ctrl-C / SIGTERM. */
  signal?: AbortSignal;
  progress?: Progress;
  /** Where the summary goes; default stdout. */
  out?: (text: string) => void;
  flush?: FlushPolicy;
  /**
   * The test's generator, made from the run's plan and its workers' operations; default
   * defaultTest. Any schedule of combinators runs without a change to the runner.
   */
  test?: (plan: TestPlan, ops: WorkerOps) => Generator;
  /** The folder of the run this one replays (recorded in config.yaml). */
  replayOf?: string;
}

export interface RunOutcome {
  code: ExitCode;
  dir: string;
  results: Results;
}

export async function runTest(config: TestConfig, deps: RunnerDeps): Promise<RunOutcome> {
  const signal = deps.signal ?? new AbortController().signal;
  setMaxListeners(0, signal);
  const progress = deps.progress ?? quietProgress;
  const out = deps.out ?? ((text: string) => process.stdout.write(text));
  const folder = createRunFolder(config.store, config.name);
  // The runtime actually used (auto resolved), and the run this one replays, if it does.
  const recorded = {
    runtime: deps.runtime.name,
    ...(deps.replayOf ? { "replay-of": deps.replayOf } : {}),
  };
  writeFileSync(folder.file("config.yaml"), configYaml(config, recorded));
  const nemesisOps = openSync(folder.file(NEMESIS_OPS), "w");
  pointLatest(config.store, folder.dir);
  const log = runLog(folder.file("harness.log"));
  const writer = new HistoryWriter(folder.file("history.jsonl"), deps.flush);
  const recorder = new Recorder(writer, config.nemesis);
  const streams = new Streams(config.seed);
  const workloadOptions = { keys: config.keys, distribution: config.distribution };
  const workload = makeWorkload(config.workload, {
    ...workloadOptions,
    random: streams.random("workload"),
  });
  const clients = deps.clients ?? deps.backend.protocol;
  const runId = `${path.basename(folder.dir)}-${config.seed.toString(36)}`;
  const context: RunContext = { dir: folder.dir, log, signal, faults: config.nemesis };
  log("run", { dir: folder.dir, seed: config.seed, runtime: deps.runtime.name });

  let error: string | undefined;
  let workloadSeconds = 0;
  let convergence: Convergence | undefined;
  let okInWorkload = 0;
  try {
    const specs = await (deps.nodeSpecs ?? loopbackSpecs)(config.nodes, folder.dir);
    progress.note(
      `starting ${plural(config.nodes, `${deps.backend.name} node`)} (${deps.runtime.name})`,
    );
    const startedAt = performance.now();
    const nodes = await deps.runtime.start(specs, deps.backend, context);
    const readySeconds = (performance.now() - startedAt) / 1000;
    log("nodes ready", { nodes: nodes.map((n) => n.url), seconds: readySeconds });
    const answer = nodes.length === 1 ? "answers" : "answer";
    progress.note(
      `${plural(nodes.length, "node")} ${answer} /status after ${readySeconds.toFixed(1)} s`,
    );
    if (signal.aborted) throw new Interrupted();
    await setup(workload, nodes, clients, runId, config, signal, log);

    const cluster = clusterView(
      nodes,
      deps.runtime,
      streams.random("nemesis/resolve"),
      deps.backend.protocol,
    );
    // A fault that could not be made or did not take ends the workload: the run is an error.
    const faultFailed = new AbortController();
    const stop = AbortSignal.any([signal, faultFailed.signal]);
    setMaxListeners(0, stop);
    const faults = new ComposedNemesis(
      deps.nemeses,
      cluster,
      { nemesis: recorder.nemesis.bind(recorder), log },
      () => faultFailed.abort(),
    );
    const workers = new WorkerThreads(config, nodes, clients, runId, recorder, stop);
    const ops = workerOps(config, workloadOptions, streams);
    const schedule = config.schedule;
    const scheduled = schedule
      ? (plan: TestPlan, ops: WorkerOps) =>
          timedTest(
            plan,
            ops,
            timeline(
              schedule,
              Math.min(schedule.every * 500, plan.timeLimitMs / 4),
              plan.timeLimitMs,
            ),
          )
      : undefined;
    const main = (deps.test ?? scheduled ?? defaultTest)(
      {
        timeLimitMs: config.timeLimit * 1000,
        rate: config.rate,
        warmupMs: warmupMs(config),
        intervalMs: config.nemesisInterval * 1000,
        nemeses: deps.nemeses,
        nodes: nodes.length,
      },
      ops,
    );
    // The whole test: the main phase and its heal, the recovery, then the final phase (every
    // final operation against every node, each under a process id of its own).
    const finalOps = nodes.flatMap((_, node) =>
      workload.final().map((inv) => once({ ...inv, node })),
    );
    const test = phases(
      main,
      logStep(`recovery: ${config.recovery} s`),
      sleepFor(config.recovery * 1000),
      onClients(concat(...finalOps)),
    );
    const began = performance.now();
    let mainDone = false;
    const endOfMain = () => {
      if (mainDone) return;
      mainDone = true;
      workloadSeconds = (performance.now() - began) / 1000;
      okInWorkload = recorder.counts.ok;
      progress.stop();
      progress.note(
        `workload done, faults healed; ${config.recovery} s of recovery, then the final phase`,
      );
    };
    progress.start(recorder, config.timeLimit);
    try {
      await interpret(test, {
        threads: [...Array.from({ length: config.concurrency }, (_, i) => i), "nemesis"],
        seed: config.seed,
        signal: stop,
        log: (message) => log(message),
        invoke: async (op) => {
          if (op.thread !== "nemesis") return workers.invoke(op);
          writeSync(nemesisOps, `${JSON.stringify(nemesisOpLine(op))}\n`);
          const done = await faults.invoke(op);
          if (op.f === "heal") endOfMain();
          return done;
        },
      });
      endOfMain();
    } finally {
      await faults.heal();
      await workers.close();
      progress.stop();
    }
    if (faults.failure) throw faults.failure;
    const replicaState = deps.backend.protocol.replicaState;
    if (!signal.aborted) {
      convergence = replicaState
        ? await checkConvergence(nodes, replicaState, CONVERGE_WITHIN_MS)
        : {
            checked: false,
            reason: `the ${deps.backend.protocol.name} adapter has no replica state`,
          };
      log("convergence", { ...convergence });
    }
  } catch (err) {
    if (!(err instanceof Interrupted)) {
      error = err instanceof Error ? err.message : String(err);
      log(`error: ${error}`);
    }
  } finally {
    progress.stop();
    try {
      await deps.runtime.stop();
    } catch (err) {
      log(`runtime stop failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    closeSync(nemesisOps);
    await Promise.resolve(clients.close()).catch((err: unknown) =>
      log(`clients close failed: ${err instanceof Error ? err.message : String(err)}`),
    );
    writer.close();
  }

  const interrupted = signal.aborted;
  if (interrupted) log("interrupted: checking the history so far");
  const results = check(config, deps, folder, recorder, {
    workloadSeconds,
    okInWorkload,
    interrupted,
    error,
    workload,
    convergence,
  });
  writeFileSync(folder.file("results.json"), `${JSON.stringify(results, null, 2)}\n`);
  log("results", { valid: results.valid });
  out(summary(results, folder.dir, config));
  await reportAfterRun(folder.dir, log, out);
  const code: ExitCode = error !== undefined ? EXIT.error : exitCodeOf(results.valid);
  return { code, dir: folder.dir, results };
}

class Interrupted extends Error {}

/**
 * The first fault comes after half an interval, or a quarter of the time limit if that is
 * shorter: a run shorter than the interval still gets its faults.
 */
export function warmupMs(config: Pick<TestConfig, "nemesisInterval" | "timeLimit">): number {
  return Math.min(config.nemesisInterval / 2, config.timeLimit / 4) * 1000;
}

/** The workload's set-up steps (the set's empty array), retried until ok; not in the history. */
async function setup(
  workload: Workload,
  nodes: readonly NodeHandle[],
  clients: ClientFactory,
  runId: string,
  config: TestConfig,
  signal: AbortSignal,
  log: RunContext["log"],
): Promise<void> {
  const ops = workload.setup?.() ?? [];
  for (const [i, op] of ops.entries()) {
    let last = "";
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw new Interrupted();
      if (attempt === 20) throw new Error(`set-up ${op.f} ${op.key ?? ""} failed: ${last}`);
      // The same client id each time, on any node: each new client's first request has the
      // same x-seq, so a node that deduplicates applies the step once even if retried late.
      const client = clients.client(
        nodes[attempt % nodes.length] as NodeHandle,
        `${runId}-setup${i}`,
      );
      const timeout = AbortSignal.any([signal, AbortSignal.timeout(config.opTimeout * 1000)]);
      const c = await client.invoke(op, timeout);
      await client.close();
      if (c.type === "ok") break;
      last = c.error ?? c.type;
      log(`set-up ${op.f} attempt ${attempt + 1}: ${c.type} ${last}`);
      await sleep(250, signal);
    }
  }
}

function check(
  config: TestConfig,
  deps: RunnerDeps,
  folder: RunFolder,
  recorder: Recorder,
  run: {
    workloadSeconds: number;
    okInWorkload: number;
    interrupted: boolean;
    error: string | undefined;
    workload: Workload;
    convergence: Convergence | undefined;
  },
): Results {
  const modelName = run.workload.model;
  const model = modelFor(modelName);
  const file = folder.file("history.jsonl");
  let outcome: CheckOutcome<OpInput, OpOutput> | undefined;
  let ops: HistoryOp[] = [];
  let reason: string | undefined;
  try {
    ops = parseHistory(readFileSync(file, "utf8"), file, "jsonl").ops;
    const rejected = unsupportedOp(modelName, ops);
    if (rejected) throw new Error(`the ${modelName} model does not know f '${rejected.input.f}'`);
    outcome = checkOperations(model, ops, { timeout: config.checkTimeout });
    if (outcome.result === "illegal" && outcome.partitionCount > 1 && modelName !== "set") {
      // The search stops at the first illegal key; a full report names them all.
      const full = checkOperations(model, ops, {
        timeout: Math.max(1, config.checkTimeout - outcome.durationMs / 1000),
        verbose: true,
      });
      if (full.result === "illegal")
        outcome = { ...full, durationMs: outcome.durationMs + full.durationMs };
    }
    if (outcome.result === "unknown") reason = outcome.gaveUp ?? "undecided";
  } catch (err) {
    reason = `cannot check the history: ${err instanceof Error ? err.message : String(err)}`;
  }
  const result = outcome?.result ?? "unknown";
  const results: Results = {
    valid: result === "ok" ? true : result === "illegal" ? false : "unknown",
    backend: deps.backend.name,
    runtime: deps.runtime.name,
    nodes: config.nodes,
    workload: config.workload,
    nemesis: [...config.nemesis],
    ops: { ...recorder.counts },
    throughput: {
      ok_per_s: run.workloadSeconds > 0 ? round(run.okInWorkload / run.workloadSeconds, 1) : 0,
    },
    latency_ms: percentiles(recorder.okLatencies),
    checker: {
      result,
      model: model.name,
      partitions: outcome?.partitionCount ?? 0,
      duration_ms: round(outcome?.durationMs ?? 0, 1),
      ...(reason === undefined ? {} : { reason }),
    },
    name: config.name,
    seed: config.seed,
    interrupted: run.interrupted,
    duration_s: round(run.workloadSeconds, 2),
    nemesis_events: recorder.nemesisEvents,
    faults: recorder.faults.record(recorder.writer.now() / 1e9),
  };
  if (modelName === "set") Object.assign(results, setFindings(ops));
  else if (outcome?.result === "illegal") {
    results.violating_keys = illegalLabels(outcome);
    const unknown = outcome.partitions.filter((p) => p.result === "unknown").map((p) => p.label);
    if (unknown.length > 0) results.unknown_keys = unknown;
  }
  if (run.convergence !== undefined) {
    results.convergence = run.convergence;
    if ("diverged" in run.convergence) {
      // Two values chosen for one slot: invalid, whatever the clients happened to read.
      results.diverged = describeDivergence(run.convergence.diverged);
      results.valid = false;
    }
  }
  if (run.error !== undefined) {
    results.error = run.error;
    // A run that could not be completed says nothing good about the system.
    if (results.valid === true) results.valid = "unknown";
  } else {
    // A kind of fault asked for that never happened: a green would say nothing about it.
    const idle = config.nemesis.filter((kind) => (results.faults[kind]?.started ?? 0) === 0);
    const noFaults = idle.length > 0 && results.valid === true;
    // A run stopped half-way is not a pass (a nightly job that was killed must not go green);
    // a violation already in the partial history still stands.
    if (run.interrupted && results.valid === true) results.valid = "unknown";
    if (noFaults) {
      results.valid = "unknown";
      results.no_faults =
        idle.length === config.nemesis.length
          ? `asked for ${config.nemesis.join(", ")}, but no fault was injected`
          : `asked for ${config.nemesis.join(", ")}, but no ${idle.join(", ")} fault was injected (the kinds take turns, one every nemesis interval: a longer time limit or a shorter interval gives each its turn)`;
    }
  }
  return results;
}

/** How long the replicas may take, after the final phase, to reach one applied index. */
const CONVERGE_WITHIN_MS = 5000;

/** What nemeses see: the nodes, the leader (as the backend's protocol learns it), randomness. */
function clusterView(
  nodes: readonly NodeHandle[],
  runtime: Runtime,
  random: () => number,
  protocol: Protocol,
): ClusterView {
  const answers = async (n: NodeHandle) =>
    (await protocol.ready(n, LIVE_ANSWER_MS)) ? [n.spec.id] : [];
  return {
    nodes,
    runtime,
    random,
    leader: (timeoutMs) => protocol.leader(nodes, timeoutMs),
    answering: async () => (await Promise.all(nodes.map(answers))).flat(),
  };
}

/**
 * Nodes on loopback addresses of their own, 127.0.X.1..n (X random per run, so that runs side
 * by side do not collide), each with its http and peer port; data under the run's folder.
 */
export function loopbackSpecs(count: number, dir: string): NodeSpec[] {
  const x = 1 + Math.floor(Math.random() * 250);
  return Array.from({ length: count }, (_, i) => ({
    id: `n${i + 1}`,
    host: `127.0.${x}.${i + 1}`,
    httpPort: 8000,
    peerPort: 9000,
    dataDir: path.join(dir, "data", `n${i + 1}`),
  }));
}
