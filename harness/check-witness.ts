// `check --witness`: for each illegal key, the minimal witness, in words and as a history file
// (checker/formats/write.ts says in which format) that `check` itself finds illegal.

import { writeFile } from "node:fs/promises";
import path from "node:path";
import { checkOperations } from "../checker/check.js";
import { parseHistory } from "../checker/formats/index.js";
import { writeHistory } from "../checker/formats/write.js";
import type { FormatName, HistoryOp, OpInput, OpOutput } from "../checker/history.js";
import type { PartitionInfo } from "../checker/model.js";
import type { BuiltinModel } from "../checker/models/index.js";
import { findWitness } from "../checker/witness.js";
import { operationNeeds } from "../checker/witness-needs.js";
import { describeWitness, timeAsLine, timeInSeconds } from "../checker/witness-words.js";
import { UsageError } from "./exit.js";

export interface WitnessReport {
  key: string;
  /** Operations in the witness; 0 when none was found within the budget. */
  ops: number;
  /** Operations of the key's history. */
  of: number;
  checks: number;
  ms: number;
  minimal: boolean;
  /** The witness's history file, and whether `check` finds it illegal (it must). */
  file?: string;
  illegal?: boolean;
  words: string[];
}

export async function witnessesOf(
  file: string,
  format: FormatName,
  model: BuiltinModel,
  partitions: readonly PartitionInfo<OpInput, OpOutput>[],
  dir: string,
): Promise<WitnessReport[]> {
  const reports: WitnessReport[] = [];
  for (const p of partitions) {
    if (p.result !== "illegal") continue;
    const w = findWitness(model, p.ops, { needs: operationNeeds(p.ops) });
    if (!w) {
      reports.push({
        key: p.label,
        ops: 0,
        of: p.ops.length,
        checks: 0,
        ms: 0,
        minimal: false,
        words: ["no witness: the key's search did not finish within the witness's budget"],
      });
      continue;
    }
    const time =
      format === "porcupine-etcd" || format === "porcupine-kv" ? timeAsLine : timeInSeconds(w.ops);
    const words = describeWitness(w.ops, model, { time });
    const written = writeHistory(w.ops, format);
    const out = path.join(dir, witnessName(file, p.label, written.format));
    try {
      await writeFile(out, written.text);
    } catch (err) {
      throw new UsageError(
        `--witness-dir ${dir}: cannot write ${out} (${(err as NodeJS.ErrnoException).code ?? err})`,
      );
    }
    reports.push({
      key: p.label,
      ops: w.ops.length,
      of: p.ops.length,
      checks: w.checks,
      ms: Math.round(w.ms * 10) / 10,
      minimal: w.minimal,
      file: out,
      illegal: reread(written.text, out, model),
      words,
    });
  }
  return reports;
}

/** Whether the written file, read back as `check` reads it, is illegal. */
function reread(text: string, file: string, model: BuiltinModel): boolean {
  const ops: HistoryOp[] = parseHistory(text, file, "auto").ops;
  return checkOperations(model, ops).result === "illegal";
}

/** `<file>-witness-<key>.<ext>`: the key made safe for a file name. */
function witnessName(file: string, key: string, format: FormatName): string {
  const base = path.basename(file).replace(/\.[^.]*$/, "");
  const safe = key === "" ? "" : `-${key.replace(/[^A-Za-z0-9._-]/g, "_")}`;
  const ext = format === "jsonl" ? "jsonl" : format === "porcupine-etcd" ? "log" : "txt";
  return `${base}-witness${safe}.${ext}`;
}
