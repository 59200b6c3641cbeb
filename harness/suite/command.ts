// `paxos-harness suite SUITE.yaml [--store DIR] [--runtime R] [--only TEXT]`: the CLI glue.
// Reads the suite and expands it (suite-file.ts), checks every run can be made on this machine
// before anything starts (bad input: one line, exit 3), then runs them one after the other,
// each as `test` runs it and in its own folder of the store, going on after a failing one;
// prints a line per run as it ends and a table at the end, and keeps store/suites/<timestamp>/
// (suite.yaml, summary.json, junit.xml, index.html) up to date after every run.
//
// Exit: the most serious of the runs' codes, in the order error 3, invalid 1, unknown 2,
// valid 0 (a run under the floor counts as an error). Ctrl-C: the run in progress stops as
// `test` stops (healed, checked, kept), no other starts, the rest are marked not run, exit 2
// or worse; a second Ctrl-C quits at once (130).

import type { Command } from "commander";
import { type ExitCode, UsageError } from "../exit.js";
import { pickBackend, prepareTest } from "../test-command.js";
import { estimateSeconds, planRuns } from "./plan.js";
import { realRun } from "./real-run.js";
import { readSuiteFile, runLabel } from "./suite-file.js";
import { createSuiteFolder, suiteFiles, writeSuiteFiles } from "./suite-files.js";
import {
  countVerdicts,
  notRunEntry,
  type PlannedRun,
  type RunEntry,
  type SuiteSummary,
  suiteCode,
} from "./summary.js";
import { finalText, minutes, runLine } from "./table.js";

export interface SuiteFlags {
  store?: string;
  runtime?: string;
  only?: string;
}

export function registerSuiteCommand(
  program: Command,
  description: string,
  done: (code: ExitCode) => void,
): void {
  program
    .command("suite")
    .description(description)
    .argument("<suite.yaml>", "the suite: defaults, schedules, tests (with matrix, repeat)")
    .option("--store <dir>", "where runs and store/suites/<timestamp>/ are kept (default store)")
    .option("--runtime <auto|local|docker>", "where nodes run, for every test (default: theirs)")
    .option("--only <text>", "only the runs whose name holds this text")
    .action(async (file: string, opts: SuiteFlags) => {
      done(await runSuiteCommand(file, opts));
    });
}

export async function runSuiteCommand(file: string, flags: SuiteFlags): Promise<ExitCode> {
  const suite = readSuiteFile(file);
  const runs = planRuns(suite, flags);
  await preflight(runs, file);
  const store = (runs[0] as PlannedRun).config.store;
  const dir = createSuiteFolder(store, file);
  const started = new Date();
  const began = performance.now();
  const estimate = estimateSeconds(runs.map((r) => r.config));
  process.stdout.write(
    `suite ${suite.name}: ${runs.length} ${runs.length === 1 ? "run" : "runs"}, about ${minutes(estimate)}; ${dir}\n`,
  );

  const summaryOf = (entries: readonly RunEntry[], interrupted: boolean): SuiteSummary => {
    const all = [
      ...entries,
      ...runs.slice(entries.length).map((r) => notRunEntry(r, "not yet run")),
    ];
    return {
      suite: file,
      name: suite.name,
      folder: dir,
      started: started.toISOString(),
      duration_s: Math.round((performance.now() - began) / 100) / 10,
      floor: suite.floor,
      code: suiteCode(all, interrupted),
      interrupted,
      counts: countVerdicts(all),
      runs: all,
    };
  };

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(130);
    process.stderr.write(
      `\n${name}: stopping the suite: this run is healed, checked and kept; no other starts (again to quit now)\n`,
    );
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const entries: RunEntry[] = [];
  try {
    writeSuiteFiles(dir, summaryOf(entries, false));
    for (const run of runs) {
      if (controller.signal.aborted) {
        entries.push(notRunEntry(run));
        continue;
      }
      process.stderr.write(`suite: run ${run.index} of ${runs.length}: ${run.name}\n`);
      const entry = await realRun(run, {
        suiteDir: dir,
        floor: suite.floor,
        signal: controller.signal,
        out: (text) => process.stderr.write(text),
      });
      entries.push(entry);
      process.stdout.write(`${runLine(entry, runs.length)}\n`);
      writeSuiteFiles(dir, summaryOf(entries, controller.signal.aborted));
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const summary = summaryOf(entries, controller.signal.aborted);
  writeSuiteFiles(dir, summary);
  const files = suiteFiles(dir);
  process.stdout.write(
    finalText(summary, { summary: files.summary, junit: files.junit, index: files.index }),
  );
  return summary.code;
}

/**
 * Every run must be possible here (backend, runtime, nemeses) before the first cluster starts:
 * a night that stops at its 20th run on a missing iptables is worse than no night. Runs of the
 * same fields (repetitions) are checked once.
 */
async function preflight(runs: readonly PlannedRun[], file: string): Promise<void> {
  const seen = new Set<string>();
  for (const run of runs) {
    const { seed: _, ...rest } = run.config;
    const key = JSON.stringify(rest);
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      await prepareTest(run.config, pickBackend(run.config));
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      throw new UsageError(`${file}:${run.test.line}: ${runLabel(run.test)}: ${err.message}`);
    }
  }
}
