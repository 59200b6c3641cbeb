// `paxos-harness check FILE...`: parse each history, check it, print a verdict per file.

import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseHistory } from "../checker/formats/index.js";
import { type FormatName, HistoryError, type ModelName, type Value } from "../checker/history.js";
import { type BuiltinModel, modelFor, unsupportedOp } from "../checker/models/index.js";
import { checkInParallel, type ParallelOutcome } from "../checker/parallel.js";
import { renderVisualization } from "../checker/visualize.js";
import { EXIT, type ExitCode, worst } from "./exit.js";

export interface CheckFlags {
  model?: string;
  format: FormatName | "auto";
  initial?: string;
  timeout?: number;
  /** Worker threads for hard partitions; 0: one thread. Default: the cores but one. */
  workers?: number;
  json?: boolean;
  visualize?: string;
}

export async function runCheck(files: string[], flags: CheckFlags): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  for (const file of files) {
    try {
      code = worst(code, await checkFile(file, files.length, flags));
    } catch (err) {
      if (!(err instanceof HistoryError)) throw err;
      // One line naming the file (and line); the other files are still checked.
      process.stderr.write(`paxos-harness check: ${err.message}\n`);
      code = worst(code, EXIT.error);
    }
  }
  return code;
}

async function checkFile(file: string, count: number, flags: CheckFlags): Promise<ExitCode> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new HistoryError(
      file,
      undefined,
      `cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  const parsed = parseHistory(text, file, flags.format);
  const modelName: ModelName =
    flags.model === undefined || flags.model === "register"
      ? flags.model === "register"
        ? "cas-register"
        : parsed.model
      : (flags.model as ModelName);
  const initial = parseInitial(flags.initial);
  const model = modelFor(modelName, { initial });
  const rejected = unsupportedOp(modelName, parsed.ops);
  if (rejected) {
    throw new HistoryError(
      file,
      undefined,
      `the ${modelName} model does not know f '${rejected.input.f}'`,
    );
  }
  const outcome = await checkInParallel({ name: modelName, initial }, parsed.ops, {
    timeout: flags.timeout,
    verbose: flags.visualize !== undefined,
    workers: flags.workers,
  });
  if (flags.visualize !== undefined) {
    const out = visualizationPath(flags.visualize, file, count);
    await writeFile(out, renderVisualization(model, outcome, { title: file }));
  }
  report(file, model, outcome, flags.json === true);
  return outcome.result === "ok"
    ? EXIT.ok
    : outcome.result === "illegal"
      ? EXIT.invalid
      : EXIT.unknown;
}

function report(file: string, model: BuiltinModel, outcome: ParallelOutcome, json: boolean): void {
  const ms = Math.round(outcome.durationMs * 10) / 10;
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ file, result: outcome.result, ops: outcome.ops, ms, workers: outcome.workers })}\n`,
    );
    return;
  }
  let line = `${file}: ${outcome.result} (${outcome.ops} ops, ${outcome.partitionCount} partitions, ${ms} ms, model ${model.name})`;
  const bad = outcome.partitions.find((p) => p.result === "illegal");
  if (bad && bad.label !== "") line += `; not linearizable: ${bad.label}`;
  process.stdout.write(`${line}\n`);
}

function parseInitial(text: string | undefined): Value | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Value;
  } catch {
    return text;
  }
}

/** One file: OUT as given; several: OUT-<file name>.html beside it. */
function visualizationPath(out: string, file: string, count: number): string {
  if (count === 1) return out;
  const ext = path.extname(out) || ".html";
  return `${out.slice(0, out.length - path.extname(out).length)}-${path.basename(file)}${ext}`;
}
