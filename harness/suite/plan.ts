// A suite's runs as they will be made: each expanded test resolved to a configuration (with
// the command's flags over its fields, as `test`'s flags win over its --config file), named,
// filtered by `--only`, and how long they should take in all.

import { type RawConfig, resolveConfig, type TestConfig } from "../config.js";
import { UsageError } from "../exit.js";
import { runLabel, type Suite } from "./suite-file.js";
import { type PlannedRun, runName } from "./summary.js";

/**
 * Seconds a run takes beyond its time limit and recovery: the nodes' start (~1-2 s), the
 * final phase, the stop, the check and the report. Measured with suites/smoke.yaml here
 * (2 cores): 4.5-6 s per run; rounded up.
 */
export const RUN_OVERHEAD_S = 6;

export interface PlanFlags {
  runtime?: string;
  store?: string;
  /** Only the runs whose name holds this text. */
  only?: string;
}

export function planRuns(suite: Suite, flags: PlanFlags): PlannedRun[] {
  const given: RawConfig = {};
  if (flags.runtime !== undefined) given.runtime = flags.runtime;
  if (flags.store !== undefined) given.store = flags.store;
  const all = suite.tests.map((test) => {
    const config = resolveConfig(given, {
      path: `${suite.file}:${test.line}: ${runLabel(test)}`,
      fields: test.fields,
    });
    return { index: test.index, name: runName(config, test), test, config };
  });
  const only = flags.only;
  if (only === undefined) return all;
  const kept = all.filter((r) => r.name.includes(only));
  if (kept.length === 0) {
    throw new UsageError(
      `--only ${only}: no test to run: none of the suite's ${all.length} runs is named so (${all
        .slice(0, 5)
        .map((r) => r.name)
        .join(", ")}${all.length > 5 ? ", ..." : ""})`,
    );
  }
  return kept.map((r, i) => ({ ...r, index: i + 1 }));
}

/** Seconds the runs should take in all: time limits, recoveries, and each run's overhead. */
export function estimateSeconds(configs: readonly Pick<TestConfig, "timeLimit" | "recovery">[]) {
  return configs.reduce((s, c) => s + c.timeLimit + c.recovery + RUN_OVERHEAD_S, 0);
}
