// summary.json: what a suite ran and what each run came to, the one record junit.xml,
// index.html and the printed table are made from. One entry per run, in the suite's order,
// those not run (Ctrl-C) included; paths to each run's folder as the run printed it and to its
// report relative to the suite's folder (so the suite's folder can be opened, or served, as is).

import { existsSync } from "node:fs";
import path from "node:path";
import type { TestConfig } from "../config.js";
import { EXIT, type ExitCode, worst } from "../exit.js";
import type { Results } from "../results.js";
import type { FloorCheck } from "./floor.js";
import { matrixLabel } from "./matrix.js";
import type { SuiteTest } from "./suite-file.js";
import { type RunVerdict, VERDICT_ORDER, verdictOfCode } from "./verdict.js";

/** A run the suite will make: its place, its name, its test and resolved configuration. */
export interface PlannedRun {
  /** From 1. */
  index: number;
  /** The test's name with its matrix values and repetition: `memory-kv [workload=kv] #2`. */
  name: string;
  test: SuiteTest;
  config: TestConfig;
}

export interface RunEntry {
  index: number;
  name: string;
  /** The test's name in the store (store/<test>/<timestamp>/). */
  test: string;
  /** Its test's number in the suite file. */
  item: number;
  matrix: Record<string, string>;
  repetition: number | null;
  backend: string;
  runtime: string;
  workload: string;
  nemesis: string[];
  /** Per kind: faults started, and verified to have taken. */
  faults: Record<string, { started: number; verified: number }>;
  ops: { invoke: number; ok: number; fail: number; info: number } | null;
  ok_per_s: number | null;
  floor: FloorCheck | null;
  verdict: RunVerdict;
  /** The run's exit code (after the floor); null when it did not run. */
  code: ExitCode | null;
  /** Invalid kv / register runs: the keys whose history is not linearizable. */
  illegal_keys: string[];
  /** What went wrong or could not tell, in a line; null for a valid run. */
  why: string | null;
  /** Wall-clock seconds of the whole run (start to report); null when it did not run. */
  seconds: number | null;
  seed: number;
  /** The run's folder, as it printed it; null when it never had one. */
  dir: string | null;
  /** report.html, relative to the suite's folder; null when there is none. */
  report: string | null;
}

export interface SuiteSummary {
  /** The suite file, as given. */
  suite: string;
  name: string;
  /** store/suites/<timestamp>, as the store was given. */
  folder: string;
  /** ISO 8601. */
  started: string;
  duration_s: number;
  floor: number;
  /** The suite's exit code: the most serious of its runs' (3, 1, 2, 0), at least 2 if cut short. */
  code: ExitCode;
  interrupted: boolean;
  counts: Record<RunVerdict, number>;
  runs: RunEntry[];
}

/** `memory-kv [workload=kv nemesis=kill] #2`. */
export function runName(config: Pick<TestConfig, "name">, test: SuiteTest): string {
  const combo = matrixLabel(test.matrix ?? {});
  return `${config.name}${combo ? ` [${combo}]` : ""}${test.repetition ? ` #${test.repetition}` : ""}`;
}

/** The fields a run's entry takes from its plan, whatever came of it. */
function plannedFields(run: PlannedRun) {
  return {
    index: run.index,
    name: run.name,
    test: run.config.name,
    item: run.test.item ?? run.test.index,
    matrix: run.test.matrix ?? {},
    repetition: run.test.repetition ?? null,
    backend: run.config.backend,
    runtime: run.config.runtime,
    workload: run.config.workload,
    nemesis: [...run.config.nemesis],
    seed: run.config.seed,
  };
}

/** A run that never started: Ctrl-C came before its turn. */
export function notRunEntry(run: PlannedRun, why = "interrupted before its turn"): RunEntry {
  return {
    ...plannedFields(run),
    faults: {},
    ops: null,
    ok_per_s: null,
    floor: null,
    verdict: "not run",
    code: null,
    illegal_keys: [],
    why,
    seconds: null,
    dir: null,
    report: null,
  };
}

/** A run whose set-up failed before it had a folder (this machine cannot, at its turn). */
export function setupFailedEntry(run: PlannedRun, error: string, seconds: number): RunEntry {
  return { ...notRunEntry(run), verdict: "error", code: EXIT.error, why: error, seconds };
}

/**
 * A run that ran: its results, the floor check, and the exit code after the floor (a valid or
 * unknown run under the floor is an error; an invalid run, an error or an interrupted run
 * stays what it was).
 */
export function ranEntry(
  run: PlannedRun,
  outcome: { code: ExitCode; dir: string; results: Results },
  floor: { check: FloorCheck | null; message: string | undefined },
  suiteDir: string,
  seconds: number,
): RunEntry {
  const r = outcome.results;
  // An interrupted run is already no pass (2), and its warm-up may be what Ctrl-C cut short.
  const underFloor =
    floor.check !== null &&
    !floor.check.ok &&
    !r.interrupted &&
    (outcome.code === EXIT.ok || outcome.code === EXIT.unknown);
  const code = underFloor ? EXIT.error : outcome.code;
  const reportFile = path.join(outcome.dir, "report.html");
  const faults: RunEntry["faults"] = {};
  for (const [kind, c] of Object.entries(r.faults)) {
    faults[kind] = { started: c.started, verified: c.verified };
  }
  return {
    ...plannedFields(run),
    backend: r.backend,
    runtime: r.runtime,
    workload: r.workload,
    nemesis: r.nemesis,
    faults,
    ops: { invoke: r.ops.invoke, ok: r.ops.ok, fail: r.ops.fail, info: r.ops.info },
    ok_per_s: r.throughput.ok_per_s,
    floor: floor.check,
    verdict: verdictOfCode(code),
    code,
    illegal_keys: r.violating_keys ?? [],
    why: underFloor ? (floor.message ?? null) : whyOf(r),
    seconds: Math.round(seconds * 10) / 10,
    dir: outcome.dir,
    report: existsSync(reportFile) ? path.relative(suiteDir, reportFile) : null,
  };
}

/** What results.json says went wrong or could not tell; null for a pass. */
function whyOf(r: Results): string | null {
  if (r.error !== undefined) return r.error;
  if (r.no_faults !== undefined) return r.no_faults;
  if (r.valid === false) {
    const parts: string[] = [];
    if (r.violating_keys?.some((k) => k !== "")) {
      parts.push(`illegal keys: ${r.violating_keys.join(", ")} (of ${r.checker.partitions})`);
    }
    if (r.lost && r.lost.length > 0) parts.push(`${r.lost.length} lost`);
    if (r.phantom && r.phantom.length > 0) parts.push(`${r.phantom.length} phantom`);
    return parts.length > 0 ? parts.join("; ") : "the history is not linearizable";
  }
  if (r.interrupted && r.valid === "unknown") return "interrupted";
  if (r.valid === "unknown") return r.checker.reason ?? "the checker could not decide";
  return null;
}

/** The suite's exit code: the most serious run's (error, invalid, unknown, valid); a suite cut short is at least unknown. */
export function suiteCode(entries: readonly RunEntry[], interrupted: boolean): ExitCode {
  let code: ExitCode = interrupted ? EXIT.unknown : EXIT.ok;
  for (const e of entries) if (e.code !== null) code = worst(code, e.code);
  return code;
}

export function countVerdicts(entries: readonly RunEntry[]): Record<RunVerdict, number> {
  const counts = Object.fromEntries(VERDICT_ORDER.map((v) => [v, 0])) as Record<RunVerdict, number>;
  for (const e of entries) counts[e.verdict]++;
  return counts;
}

/** The entries failures first (invalid, error, unknown, not run, valid), else in run order. */
export function failuresFirst(entries: readonly RunEntry[]): RunEntry[] {
  const rank = (e: RunEntry) => VERDICT_ORDER.indexOf(e.verdict);
  return [...entries].sort((a, b) => rank(a) - rank(b) || a.index - b.index);
}
