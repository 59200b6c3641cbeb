// `paxos-harness validate`, the logic: run the suite once without a mutant (every test must
// be valid with its faults verified, else the suite cannot tell right from wrong), then, for
// each mutant, the suite's tests in order until one catches it (INVALID). Runs are made by a
// TestRunner (the real one starts clusters; tests pass a fake), so this file decides only what
// runs next and what the outcome means.

import type { ExitCode } from "../exit.js";
import { EXIT } from "../exit.js";
import type { FaultRecord } from "../fault-tally.js";
import type { SuiteTest } from "../suite/suite-file.js";
import type { Finding } from "./finding.js";

/** One run asked of the runner: a test of the suite, with a mutant on or none. */
export interface RunRequest {
  mutant: string | undefined;
  test: SuiteTest;
}

/** What a run came to. */
export interface RunReport {
  /** The run's exit code: 0 valid, 1 invalid, 2 unknown, 3 error. */
  code: ExitCode;
  /** Its folder in the store (absent when it failed before it had one). */
  dir?: string;
  workload: string;
  nemesis: string[];
  /** results.json's faults. */
  faults: FaultRecord;
  /** Seconds of workload the run had. */
  seconds: number;
  /** Operations invoked: 0 when the cluster never started (a node that refuses the mutant). */
  invoked: number;
  /** Why it could not tell (results.json's error, no_faults or checker reason). */
  why?: string;
  /** Invalid runs: when the first illegal operation returned, and the fault then. */
  finding?: Finding;
  /** The replicas diverged (results.json's `diverged`): seen at the end of the run. */
  diverged?: string;
  /** A set's lost and phantom elements (results.json), found by its final read. */
  setAnomalies?: { lost: number; phantom: number };
}

export type TestRunner = (request: RunRequest) => Promise<RunReport>;

export interface TestRef {
  index: number;
  workload: string;
  nemesis: string[];
}

export interface BaselineRow {
  test: TestRef;
  code: ExitCode;
  run?: string;
  /** Valid, and every kind asked for was started and verified. */
  ok: boolean;
  /** Why not, when not ok. */
  why?: string;
}

export type MutantStatus = "caught" | "survived" | "error" | "unknown";

export interface MutantRow {
  mutant: string;
  status: MutantStatus;
  /** caught: the test that caught it; error: the first test whose run failed. */
  test?: TestRef;
  /** caught: the fault in force at the first illegal operation, or the last one before it. */
  fault?: string;
  /** caught: seconds of test time to the first illegal operation (or the run's length). */
  seconds?: number;
  run?: string;
  /** error / unknown: what went wrong. */
  why?: string;
  /** Every run made for this mutant, in order. */
  runs: { test: number; code: ExitCode; run?: string }[];
}

/** A mutant the rest of the protocol masks: not run by default (node/core/mutants.ts). */
export interface EquivalentMutant {
  mutant: string;
  why: string;
}

export interface ValidateReport {
  suite: string;
  baseline: BaselineRow[];
  /** False: the suite cannot tell right from wrong; no mutant was run. */
  suiteOk: boolean;
  mutants: MutantRow[];
  /** Not run, and not counted: no suite that sees only clients and replicas can catch them. */
  equivalent: EquivalentMutant[];
  code: ExitCode;
}

export interface ValidateOptions {
  suite: string;
  tests: readonly SuiteTest[];
  mutants: readonly string[];
  /** Left out of `mutants` as equivalent; listed in the report. */
  equivalent?: readonly EquivalentMutant[];
  run: TestRunner;
  /** Aborted (Ctrl-C): no further run starts. */
  signal?: AbortSignal;
  /** Told before each run starts (a line on stderr). */
  onRun?: (request: RunRequest, position: { run: number }) => void;
}

export async function validate(options: ValidateOptions): Promise<ValidateReport> {
  const { tests, run } = options;
  const stopped = () => options.signal?.aborted === true;
  let count = 0;
  const runOne = (request: RunRequest) => {
    options.onRun?.(request, { run: ++count });
    return run(request);
  };

  const baseline: BaselineRow[] = [];
  for (const test of tests) {
    if (stopped()) break;
    baseline.push(baselineRow(await runOne({ mutant: undefined, test }), test));
  }
  const suiteOk = !stopped() && baseline.every((b) => b.ok);
  const mutants: MutantRow[] = [];
  if (suiteOk) {
    for (const mutant of options.mutants) {
      if (stopped()) break;
      mutants.push(await mutantRow(mutant, tests, runOne, stopped));
    }
  }
  const equivalent = [...(options.equivalent ?? [])];
  const report = { suite: options.suite, baseline, suiteOk, mutants, equivalent };
  return { ...report, code: exitCodeOf(report, options.mutants.length, stopped()) };
}

/**
 * 0: every mutant caught. 1: some survived. 2: the suite is broken (the unmutated node was not
 * valid with its faults verified), a run could not tell (error, unknown) or Ctrl-C cut it short.
 */
export function exitCodeOf(
  report: Pick<ValidateReport, "suiteOk" | "mutants">,
  asked: number,
  interrupted = false,
): ExitCode {
  if (!report.suiteOk) return EXIT.unknown;
  if (report.mutants.some((m) => m.status === "survived")) return EXIT.invalid;
  if (interrupted || report.mutants.length < asked) return EXIT.unknown;
  if (report.mutants.some((m) => m.status !== "caught")) return EXIT.unknown;
  return EXIT.ok;
}

function baselineRow(r: RunReport, test: SuiteTest): BaselineRow {
  const row: BaselineRow = { test: ref(r, test), code: r.code, ok: false };
  if (r.dir !== undefined) row.run = r.dir;
  const unverified = Object.entries(r.faults)
    .filter(([, c]) => c.started === 0 || c.verified < c.started)
    .map(([kind, c]) => `${kind} ${c.started} started, ${c.verified} verified`);
  if (r.code !== EXIT.ok) row.why = `${verdictWord(r.code)}${r.why ? `: ${r.why}` : ""}`;
  else if (unverified.length > 0) row.why = `faults not verified: ${unverified.join("; ")}`;
  else row.ok = true;
  return row;
}

async function mutantRow(
  mutant: string,
  tests: readonly SuiteTest[],
  runOne: (request: RunRequest) => Promise<RunReport>,
  stopped: () => boolean,
): Promise<MutantRow> {
  const row: MutantRow = { mutant, status: "survived", runs: [] };
  const couldNotTell: string[] = [];
  let failed: { test: TestRef; why: string; run?: string } | undefined;
  for (const test of tests) {
    if (stopped()) {
      row.status = "unknown";
      row.why = "interrupted";
      return row;
    }
    const r = await runOne({ mutant, test });
    row.runs.push({ test: test.index, code: r.code, ...(r.dir ? { run: r.dir } : {}) });
    if (r.code === EXIT.invalid) {
      row.status = "caught";
      row.test = ref(r, test);
      if (r.dir !== undefined) row.run = r.dir;
      row.seconds = r.finding?.at ?? r.seconds;
      row.fault = caughtBy(r);
      return row;
    }
    if (r.code === EXIT.error) {
      // The test said nothing about the mutant. A cluster that never started (the node
      // refuses the mutant) would fail every test alike: stop. A run that failed later (a
      // fault that did not take) leaves the next tests their chance.
      failed ??= {
        test: ref(r, test),
        why: r.why ?? "the run failed",
        ...(r.dir ? { run: r.dir } : {}),
      };
      if (r.invoked === 0) break;
    }
    if (r.code === EXIT.unknown) couldNotTell.push(`test ${test.index}: ${r.why ?? "unknown"}`);
  }
  if (failed !== undefined) {
    row.status = "error";
    row.test = failed.test;
    if (failed.run !== undefined) row.run = failed.run;
    row.why = failed.why;
  } else if (couldNotTell.length > 0) {
    row.status = "unknown";
    row.why = couldNotTell.join("; ");
  }
  return row;
}

/**
 * What caught an invalid run: the fault at its first illegal operation; without one placed in
 * time, what only the run's end showed (the replicas diverged, a set's final read).
 */
function caughtBy(r: RunReport): string {
  if (r.finding?.at !== undefined) return describeFault(r.finding);
  if (r.diverged !== undefined) return "replicas diverged (seen at the end)";
  if (r.setAnomalies === undefined) return describeFault(r.finding);
  const { lost, phantom } = r.setAnomalies;
  const words: string[] = [];
  if (phantom > 0) words.push(`${phantom} phantom element${phantom === 1 ? "" : "s"}`);
  if (lost > 0) words.push(`${lost} lost element${lost === 1 ? "" : "s"}`);
  return `${words.join(", ")} (seen at the end)`;
}

/** `partition majority-minority (in force)`, `kill all n1,n2 (last, healed)`, `none`. */
export function describeFault(finding: Finding | undefined): string {
  const f = finding?.fault;
  if (finding?.at === undefined) return "?";
  if (f === undefined) return "none yet";
  const what = f.detail === undefined ? f.kind : `${f.kind} ${f.detail}`;
  return `${what} (${f.inForce ? "in force" : "last, healed"})`;
}

function ref(r: RunReport, test: SuiteTest): TestRef {
  return { index: test.index, workload: r.workload, nemesis: r.nemesis };
}

function verdictWord(code: ExitCode): string {
  return ["VALID", "INVALID", "UNKNOWN", "ERROR"][code] ?? String(code);
}
