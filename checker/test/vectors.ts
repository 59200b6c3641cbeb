// The Porcupine test vectors shipped beside the repository (../shared/vectors/porcupine).

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FormatName, ModelName } from "../history.js";

export const VECTORS =
  process.env.PAXOS_VECTORS ??
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../shared/vectors/porcupine");

export interface Vector {
  file: string;
  path: string;
  format: FormatName;
  model: ModelName;
  expected: "ok" | "illegal";
}

export function vectors(): Vector[] {
  const rows = readFileSync(path.join(VECTORS, "expected.tsv"), "utf8").trim().split("\n").slice(1);
  return rows.map((row) => {
    const [file, format, model, expected] = row.split("\t") as [
      string,
      FormatName,
      ModelName,
      "ok" | "illegal",
    ];
    return { file, path: path.join(VECTORS, file), format, model, expected };
  });
}
