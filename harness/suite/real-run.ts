// One run of a suite, for real: the test made as `test` makes it (test-command.ts's runOneTest,
// the same path as `validate`'s), then its floor checked from its history, as an entry of
// summary.json. A set-up that fails at its turn is an error entry; the suite goes on.

import path from "node:path";
import { runOneTest } from "../test-command.js";
import { type FloorCheck, floorCheck, floorMessage, readWarmup } from "./floor.js";
import { type PlannedRun, type RunEntry, ranEntry, setupFailedEntry } from "./summary.js";

export interface RealRunOptions {
  /** The suite's folder: report paths are relative to it. */
  suiteDir: string;
  /** The suite's floor, a fraction of the asked rate. */
  floor: number;
  signal: AbortSignal;
  /** Where each run's summary goes (stderr: stdout is the suite's lines and table). */
  out: (text: string) => void;
}

export async function realRun(run: PlannedRun, options: RealRunOptions): Promise<RunEntry> {
  const began = performance.now();
  const outcome = await runOneTest(run.config, { signal: options.signal, out: options.out });
  const seconds = (performance.now() - began) / 1000;
  if (!("results" in outcome)) return setupFailedEntry(run, outcome.error, seconds);
  let check: FloorCheck | null = null;
  if (outcome.results.ops.invoke > 0) {
    const warmup = await readWarmup(path.join(outcome.dir, "history.jsonl")).catch(() => undefined);
    check = floorCheck(warmup, outcome.results, run.config.rate, options.floor);
  }
  const message = check && !check.ok ? floorMessage(check) : undefined;
  return ranEntry(run, outcome, { check, message }, options.suiteDir, seconds);
}
