// `paxos-harness validate [SUITE.yaml] [--mutants a,b] [--runtime R] [--store DIR]`: the CLI
// glue. Reads the suite (default suites/standard.yaml), checks every test can run on this
// machine before anything starts (bad input: one line, exit 3), then runs validate.ts's plan
// with real runs of the built-in node (`--mutant NAME` on its command line), prints the table
// and writes it as store/validate/<timestamp>/validate.json.
//
// Ctrl-C: the run in progress stops as `test` stops (healed, checked, kept), no other starts,
// the table so far is printed and written, exit 2; a second Ctrl-C quits at once (130).

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { EQUIVALENT_MUTANTS, MUTANTS } from "../../node/core/mutants.js";
import { builtinBackend } from "../backends/index.js";
import { type RawConfig, resolveConfig, type TestConfig } from "../config.js";
import { EXIT, type ExitCode, UsageError } from "../exit.js";
import { timestamp } from "../store.js";
import { readSuiteFile, type SuiteTest } from "../suite/suite-file.js";
import { prepareTest, runOneTest } from "../test-command.js";
import { findingOf } from "./finding.js";
import { reportText } from "./table.js";
import {
  type EquivalentMutant,
  type RunReport,
  type RunRequest,
  type ValidateReport,
  validate,
} from "./validate.js";

/** The repository root: this file is harness/validate/command.{ts,js} under it or under dist/. */
const PROJECT_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  import.meta.url.endsWith(".ts") ? "../.." : "../../..",
);
export const STANDARD_SUITE = path.join(PROJECT_ROOT, "suites", "standard.yaml");

/** Fields a validate suite may not set: validate runs the built-in node with each mutant. */
const NOT_IN_VALIDATE = ["backend", "name"] as const;

export interface ValidateFlags {
  mutants?: string;
  runtime?: string;
  store?: string;
}

export function registerValidateCommand(
  program: Command,
  description: string,
  done: (code: ExitCode) => void,
): void {
  program
    .command("validate")
    .description(description)
    .argument("[suite.yaml]", "the suite (default: suites/standard.yaml)")
    .option(
      "--mutants <list>",
      `only these mutants (default all but the equivalent ones: ${pickMutants(undefined).join(", ")})`,
    )
    .option("--runtime <auto|local|docker>", "where nodes run (default auto)")
    .option("--store <dir>", "where runs and validate.json are kept (default store)")
    .action(async (suite: string | undefined, opts: ValidateFlags) => {
      done(await runValidateCommand(suite, opts));
    });
}

export async function runValidateCommand(
  suiteArg: string | undefined,
  flags: ValidateFlags,
): Promise<ExitCode> {
  const suiteFile = suiteArg ?? path.relative(process.cwd(), STANDARD_SUITE);
  const suite = readSuiteFile(suiteFile);
  for (const test of suite.tests) {
    for (const field of NOT_IN_VALIDATE) {
      if (test.fields[field] === undefined) continue;
      throw new UsageError(
        `${suiteFile}:${test.fieldLines[field] ?? test.line}: test ${test.item ?? test.index}: ${field}: not for validate (it runs the built-in node with each mutant, and names the runs)`,
      );
    }
  }
  const mutants = pickMutants(flags.mutants);
  const given: RawConfig = {};
  if (flags.runtime !== undefined) given.runtime = flags.runtime;
  if (flags.store !== undefined) given.store = flags.store;
  const configOf = (request: RunRequest): TestConfig =>
    resolveConfig(
      { ...given, name: runName(request) },
      {
        path: `${suiteFile}:${request.test.line}: test ${request.test.index}`,
        fields: request.test.fields,
      },
    );

  // Every test must be possible here (runtime, nemeses) before the first cluster starts.
  for (const test of suite.tests) {
    await prepareTest(configOf({ mutant: undefined, test }), builtinBackend());
  }
  const store = configOf({ mutant: undefined, test: suite.tests[0] as SuiteTest }).store;
  const outDir = validateFolder(store);

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(130);
    process.stderr.write(
      `\n${name}: stopping validate: this run is healed, checked and kept; no other starts (again to quit now)\n`,
    );
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let report: ValidateReport;
  try {
    report = await validate({
      suite: suiteFile,
      tests: suite.tests,
      mutants,
      equivalent: flags.mutants === undefined ? equivalentMutants() : [],
      signal: controller.signal,
      run: (request) => realRun(configOf(request), request, controller.signal),
      onRun: (request, { run }) =>
        process.stderr.write(
          `validate: run ${run}: ${request.mutant ? `mutant ${request.mutant}` : "no mutant"}, test ${request.test.index} of ${suite.tests.length}\n`,
        ),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const jsonFile = path.join(outDir, "validate.json");
  writeFileSync(
    jsonFile,
    `${JSON.stringify({ ...report, runtime: flags.runtime ?? "auto", interrupted: controller.signal.aborted }, null, 2)}\n`,
  );
  process.stdout.write(reportText(report, jsonFile));
  return report.code;
}

/**
 * The mutants to run: node/core/mutants.ts's list but the equivalent ones, or those named (in
 * its order; an equivalent one runs when named).
 */
export function pickMutants(list: string | undefined): string[] {
  if (list === undefined) return MUTANTS.filter((m) => EQUIVALENT_MUTANTS[m] === undefined);
  const names = list.split(",").map((s) => s.trim());
  const known = MUTANTS as readonly string[];
  const empty = names.some((n) => n === "");
  const unknown = names.find((n) => !known.includes(n));
  if (empty || unknown !== undefined) {
    throw new UsageError(
      `--mutants ${list}: ${empty ? "an empty item" : `no mutant "${unknown}"`} (known: ${known.join(", ")})`,
    );
  }
  return known.filter((m) => names.includes(m));
}

/** The mutants no black-box suite can catch, and why (node/core/mutants.ts). */
export function equivalentMutants(): EquivalentMutant[] {
  return MUTANTS.flatMap((mutant) => {
    const why = EQUIVALENT_MUTANTS[mutant];
    return why === undefined ? [] : [{ mutant, why }];
  });
}

/** A run's test name in the store: validate-<mutant or none>-<test>-<workload>. */
function runName(request: RunRequest): string {
  const workload = String(request.test.fields.workload ?? "kv");
  return `validate-${request.mutant ?? "none"}-t${request.test.index}-${workload}`;
}

/** store/validate/<timestamp>/ (a -2, -3... suffix if one of the same second exists). */
function validateFolder(store: string): string {
  const base = path.join(store, "validate", timestamp(new Date()));
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`--store ${store}: cannot create ${dir} (${e.code ?? e.message})`);
  }
  return dir;
}

/** One real run: the built-in node, with the mutant on its command line. */
async function realRun(
  config: TestConfig,
  request: RunRequest,
  signal: AbortSignal,
): Promise<RunReport> {
  const backend = builtinBackend(request.mutant === undefined ? {} : { mutant: request.mutant });
  const base = {
    workload: config.workload,
    nemesis: [...config.nemesis],
    faults: {},
    seconds: 0,
    invoked: 0,
  };
  // stdout is the table's; each run's summary goes with its progress.
  const outcome = await runOneTest(config, {
    backend,
    signal,
    out: (text) => process.stderr.write(text),
  });
  if (!("results" in outcome)) return { ...base, code: outcome.code, why: outcome.error };
  const r = outcome.results;
  const report: RunReport = {
    code: outcome.code,
    dir: outcome.dir,
    workload: r.workload,
    nemesis: r.nemesis,
    faults: r.faults,
    seconds: r.duration_s,
    invoked: r.ops.invoke,
  };
  const why = r.error ?? r.no_faults ?? r.checker.reason;
  if (why !== undefined) report.why = why;
  if (r.diverged !== undefined) report.diverged = r.diverged;
  const lost = r.lost?.length ?? 0;
  const phantom = r.phantom?.length ?? 0;
  if (lost + phantom > 0) report.setAnomalies = { lost, phantom };
  if (outcome.code === EXIT.invalid) {
    try {
      report.finding = findingOf(path.join(outcome.dir, "history.jsonl"), r.checker.model);
    } catch (err) {
      report.why = `the first illegal operation could not be placed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  return report;
}
