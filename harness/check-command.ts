// `paxos-harness check FILE...`: parse each history, check it, print a verdict per file.

import { statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { readHistoryFile } from "../checker/formats/file.js";
import {
  type FormatName,
  HistoryError,
  type ModelName,
  type ParsedHistory,
  type Value,
} from "../checker/history.js";
import { type BuiltinModel, modelFor, unsupportedOp } from "../checker/models/index.js";
import { checkInParallel, type ParallelOutcome } from "../checker/parallel.js";
import type { WitnessReport } from "./check-witness.js";
import { EXIT, type ExitCode, UsageError, worst } from "./exit.js";
import { keysVerdict, plural } from "./text.js";

export interface CheckFlags {
  model?: string;
  format: FormatName | "auto";
  initial?: string;
  timeout?: number;
  /** Worker threads for hard partitions; 0: one thread. Default: the cores but one. */
  workers?: number;
  json?: boolean;
  visualize?: string;
  /** For each illegal key: its minimal witness, in words and as a history file. */
  witness?: boolean;
  /** Where witness files go (default: the current folder). */
  witnessDir?: string;
}

export async function runCheck(files: string[], flags: CheckFlags): Promise<ExitCode> {
  if (flags.visualize !== undefined) visualizeFolderOrThrow(flags.visualize);
  let code: ExitCode = EXIT.ok;
  for (const file of files) {
    try {
      code = worst(code, await checkFile(file, files.length, flags));
    } catch (err) {
      if (!(err instanceof HistoryError)) throw err;
      // One line naming the file (and line); the other files are still checked.
      process.stderr.write(`paxos-harness check: ${err.message}\n`);
      if (flags.json === true) {
        const where = err.line === undefined ? {} : { line: err.line };
        const line = { file, result: "error", ...where, error: err.reason };
        process.stdout.write(`${JSON.stringify(line)}\n`);
      }
      code = worst(code, EXIT.error);
    }
  }
  return code;
}

/** `--visualize` into a folder that is not there is bad input, said before any check runs. */
function visualizeFolderOrThrow(out: string): void {
  const dir = path.dirname(path.resolve(out));
  let why: string | undefined;
  try {
    if (!statSync(dir).isDirectory()) why = `${dir} is not a folder`;
  } catch (err) {
    why = `the folder ${dir} does not exist (${(err as NodeJS.ErrnoException).code ?? err})`;
  }
  if (why !== undefined) throw new UsageError(`--visualize ${out}: ${why}`);
}

async function checkFile(file: string, count: number, flags: CheckFlags): Promise<ExitCode> {
  let parsed: ParsedHistory;
  try {
    parsed = readHistoryFile(file, file, flags.format);
  } catch (err) {
    // A file the system cannot read, or too big for a string (a big file in another format
    // than jsonl is read whole): one line, as bad input. Anything else is a bug of ours.
    const unreadable =
      (err as NodeJS.ErrnoException).code !== undefined || err instanceof RangeError;
    if (err instanceof HistoryError || !unreadable) throw err;
    throw new HistoryError(
      file,
      undefined,
      `cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  const modelName: ModelName =
    flags.model === undefined || flags.model === "register"
      ? flags.model === "register"
        ? "cas-register"
        : parsed.model
      : (flags.model as ModelName);
  const initial = parseInitial(flags.initial);
  const model = modelFor(modelName, { initial });
  // A compact history (typed arrays, no operation objects: checker/compact.ts) holds only read,
  // write and cas, which the register models know; the set model gets the objects.
  const rejected =
    parsed.compact !== undefined && modelName !== "set"
      ? undefined
      : unsupportedOp(modelName, parsed.ops);
  const history = parsed.compact ?? parsed.ops;
  if (rejected) {
    throw new HistoryError(
      file,
      undefined,
      `the ${modelName} model does not know f '${rejected.input.f}'`,
    );
  }
  const started = performance.now();
  // A key too hard for the search's memory is left unknown, with its reason; the others go on.
  let outcome = await checkInParallel({ name: modelName, initial }, history, {
    timeout: flags.timeout,
    verbose: flags.visualize !== undefined,
    workers: flags.workers,
  });
  if (outcome.result === "illegal" && outcome.partitionCount > 1 && flags.visualize === undefined) {
    // The search stops at the first illegal key; a full report names them all.
    const spent = (performance.now() - started) / 1000;
    const full = await checkInParallel({ name: modelName, initial }, history, {
      timeout: flags.timeout ? Math.max(1, flags.timeout - spent) : undefined,
      verbose: true,
      workers: flags.workers,
    });
    if (full.result === "illegal")
      outcome = { ...full, durationMs: outcome.durationMs + full.durationMs };
  }
  if (flags.visualize !== undefined) {
    const out = visualizationPath(flags.visualize, file, count);
    // Loaded only when asked for, as the witnesses are: a plain check starts sooner.
    const { renderVisualization } = await import("../checker/visualize.js");
    try {
      await writeFile(out, renderVisualization(model, outcome, { title: file }));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new UsageError(`--visualize ${flags.visualize}: cannot write ${out} (${code})`);
    }
    // On stderr, so that --json's stdout stays one JSON line per file.
    process.stderr.write(`visualization of ${file}: ${out}\n`);
  }
  const witnesses =
    flags.witness === true && outcome.result === "illegal"
      ? await (await import("./check-witness.js")).witnessesOf(
          file,
          parsed.format,
          model,
          outcome.partitions,
          flags.witnessDir ?? ".",
        )
      : undefined;
  report(file, model, outcome, flags.json === true, witnesses);
  return outcome.result === "ok"
    ? EXIT.ok
    : outcome.result === "illegal"
      ? EXIT.invalid
      : EXIT.unknown;
}

function report(
  file: string,
  model: BuiltinModel,
  outcome: ParallelOutcome,
  json: boolean,
  witnesses: WitnessReport[] | undefined,
): void {
  const ms = Math.round(outcome.durationMs * 10) / 10;
  const labels = (result: string) =>
    outcome.partitions.filter((p) => p.result === result).map((p) => p.label);
  const illegal = labels("illegal");
  const unknown = labels("unknown");
  // Partitions whose own search gave up (their cache filled), each with why.
  const reasons = outcome.partitions.filter((p) => p.result === "unknown" && p.reason);
  if (json) {
    const line = {
      file,
      result: outcome.result,
      ops: outcome.ops,
      ms,
      workers: outcome.workers,
      partitions: outcome.partitionCount,
      illegal_keys: illegal,
      unknown_keys: unknown,
      ...(reasons.length > 0
        ? { unknown_reasons: reasons.map((p) => ({ key: p.label, reason: p.reason })) }
        : {}),
      ...(witnesses ? { witnesses: witnesses.map(({ words: _, ...w }) => w) } : {}),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    // The words go to stderr, so that stdout stays one JSON line per file.
    for (const w of witnesses ?? []) process.stderr.write(witnessText(file, w));
    return;
  }
  let line = `${file}: ${outcome.result} (${plural(outcome.ops, "op")}, ${plural(outcome.partitionCount, "partition")}, ${ms} ms, model ${model.name})`;
  const keys = keysVerdict(
    illegal,
    unknown,
    outcome.partitionCount,
    model.name === "set" ? "elements" : "keys",
  );
  if (keys !== "") line += `; ${keys}`;
  for (const p of reasons) {
    line += `; cannot check ${p.label === "" ? "the history" : `key ${p.label}`}: ${p.reason}`;
  }
  // An empty history is trivially linearizable (Porcupine's etcd_095 expects ok): keep the
  // verdict, but do not let it pass for a checked one.
  if (outcome.ops === 0) line += "; the file holds 0 operations: nothing was checked";
  process.stdout.write(`${line}\n`);
  for (const w of witnesses ?? []) process.stdout.write(witnessText(file, w));
}

function witnessText(file: string, w: WitnessReport): string {
  const key = w.key === "" ? file : `key ${w.key}`;
  const head =
    w.ops === 0
      ? `witness of ${key}: none found`
      : `witness of ${key}: ${plural(w.ops, "operation")} of ${w.of} (${w.checks} checks, ${w.ms} ms${w.minimal ? ", 1-minimal" : ", not proved minimal"})`;
  const words = w.words.map((s) => `  ${s}`);
  const where =
    w.file === undefined
      ? []
      : [
          `  written to ${w.file}${w.illegal ? " (check finds it illegal)" : " (WARNING: check does not find it illegal)"}`,
        ];
  return `${[head, ...words, ...where].join("\n")}\n`;
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
