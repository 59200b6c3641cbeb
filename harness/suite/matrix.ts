// A test of a suite made into runs: its `matrix:` crossed (every combination of the lists it
// gives, the first list varying slowest; `exclude:` leaves combinations out), each combination
// `repeat:` times, every one over the suite's defaults, with named schedules looked up. Pure:
// the file's values in (already checked by suite-schema.ts), runs out; what is wrong is a
// UsageError naming the file, the line and the field.
//
//     - { matrix: { backend: [builtin, memory], workload: [register, kv] }, time-limit: 10 }
//
// is four runs: builtin register, builtin kv, memory register, memory kv.

import type { RawConfig } from "../config.js";
import { UsageError } from "../exit.js";
import { MATRIX_KEYS, type MatrixKey } from "./suite-schema.js";

/** One run a test makes. */
export interface ExpandedRun {
  /** Its fields: the defaults, the test's own, the combination's (schedules by name looked up). */
  fields: RawConfig;
  /** The line of each field: the test's own, else the matrix value's, else the default's. */
  fieldLines: Record<string, number>;
  /** The combination, each value as a label ("nemesis" -> "partition,kill"), in the matrix's order. */
  matrix: Record<string, string>;
  /** From 1, when the test has `repeat:`. */
  repetition?: number;
}

/** What the expansion needs of a test, as the file has it. */
export interface TestSource {
  file: string;
  /** The test's number in the file, from 1. */
  item: number;
  /** The test's mapping (its own fields, `matrix:`, `repeat:`). */
  raw: Record<string, unknown>;
  defaults: Record<string, unknown>;
  schedules: Record<string, unknown>;
  /** The line of a path of the file (["tests", 0, "matrix", "backend", 1]). */
  lineAt(path: readonly (string | number)[]): number;
}

/** A value as a matrix label: `partition,kill` for a nemesis list, the text otherwise. */
export function valueLabel(key: MatrixKey, value: unknown): string {
  if (key === "nemesis") {
    const items = Array.isArray(value) ? value.map(String) : String(value).split(",");
    return items.map((s) => s.trim()).join(",");
  }
  return String(value);
}

/** `workload=kv nemesis=kill`: a combination in words (empty without a matrix). */
export function matrixLabel(matrix: Record<string, string>): string {
  return Object.entries(matrix)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

interface Combination {
  values: Partial<Record<MatrixKey, unknown>>;
  labels: Record<string, string>;
  lines: Record<string, number>;
}

/** Every run of one test, in order: combinations, each repeated. Empty: its matrix made none. */
export function expandTest(source: TestSource): ExpandedRun[] {
  const { raw, defaults, file, item } = source;
  const testPath = ["tests", item - 1];
  const at = (...rest: (string | number)[]) => source.lineAt([...testPath, ...rest]);
  const where = (line: number, field: string) => `${file}:${line}: test ${item}: ${field}`;

  const own: Record<string, unknown> = {};
  const ownLines: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === "matrix" || k === "repeat") continue;
    own[k] = v;
    ownLines[k] = at(k);
  }
  const defaultLines: Record<string, number> = {};
  for (const k of Object.keys(defaults)) defaultLines[k] = source.lineAt(["defaults", k]);

  const matrix = raw.matrix as Record<string, unknown> | undefined;
  for (const key of MATRIX_KEYS) {
    if (matrix?.[key] !== undefined && key in own) {
      throw new UsageError(
        `${where(ownLines[key] as number, key)}: given both here and in matrix (one or the other)`,
      );
    }
  }
  const combinations = matrix
    ? crossed(matrix, at, where)
    : [{ values: {}, labels: {}, lines: {} }];

  const repeat = typeof raw.repeat === "number" ? raw.repeat : undefined;
  const runs: ExpandedRun[] = [];
  for (const combo of combinations) {
    const fields: RawConfig = { ...defaults, ...own, ...combo.values };
    const fieldLines = { ...defaultLines, ...combo.lines, ...ownLines };
    resolveScheduleName(fields, fieldLines, source);
    for (let r = 1; r <= (repeat ?? 1); r++) {
      const run: ExpandedRun = { fields: { ...fields }, fieldLines, matrix: combo.labels };
      if (repeat !== undefined) {
        run.repetition = r;
        // A given seed makes each repetition's operations differ, yet each one repeatable.
        if (typeof fields.seed === "number") run.fields.seed = (fields.seed + r - 1) % 2 ** 32;
      }
      runs.push(run);
    }
  }
  return runs;
}

/** Why a test made no run, in words, for the suite's error. */
export function whyNoRun(raw: Record<string, unknown>): string {
  const matrix = (raw.matrix ?? {}) as Record<string, unknown>;
  const empty = MATRIX_KEYS.filter((k) => Array.isArray(matrix[k]) && matrix[k].length === 0);
  if (empty.length > 0) return `its matrix is empty (${empty.map((k) => `${k}: []`).join(", ")})`;
  return "its matrix's exclude: leaves out every combination";
}

/** The cross product of the matrix's lists, in the order they are written, less `exclude:`. */
function crossed(
  matrix: Record<string, unknown>,
  at: (...rest: (string | number)[]) => number,
  where: (line: number, field: string) => string,
): Combination[] {
  const keys = Object.keys(matrix).filter((k): k is MatrixKey =>
    (MATRIX_KEYS as readonly string[]).includes(k),
  );
  let combos: Combination[] = [{ values: {}, labels: {}, lines: {} }];
  for (const key of keys) {
    const values = matrix[key] as unknown[];
    const labels = values.map((v) => valueLabel(key, v));
    const twice = labels.findIndex((l, i) => labels.indexOf(l) !== i);
    if (twice >= 0) {
      throw new UsageError(
        `${where(at("matrix", key, twice), `matrix.${key}`)}: ${labels[twice]} is listed twice`,
      );
    }
    combos = combos.flatMap((c) =>
      values.map((v, i) => ({
        values: { ...c.values, [key]: v },
        labels: { ...c.labels, [key]: labels[i] as string },
        lines: { ...c.lines, [key]: at("matrix", key, i) },
      })),
    );
  }
  const exclude = (matrix.exclude ?? []) as Record<string, unknown>[];
  for (const [i, ex] of exclude.entries()) {
    for (const [key, value] of Object.entries(ex)) {
      const listed = matrix[key] as unknown[] | undefined;
      const label = valueLabel(key as MatrixKey, value);
      const labels = listed?.map((v) => valueLabel(key as MatrixKey, v));
      if (labels?.includes(label)) continue;
      const why = labels
        ? `${label} is not in matrix.${key} (${labels.join(", ")})`
        : `the matrix has no ${key} list`;
      throw new UsageError(
        `${where(at("matrix", "exclude", i, key), `matrix.exclude.${i}.${key}`)}: ${why}`,
      );
    }
  }
  return combos.filter(
    (c) =>
      !exclude.some((ex) =>
        Object.entries(ex).every(([k, v]) => c.labels[k] === valueLabel(k as MatrixKey, v)),
      ),
  );
}

/** `schedule: NAME` made the named schedule; an unknown name is an error at its line. */
function resolveScheduleName(
  fields: RawConfig,
  fieldLines: Record<string, number>,
  source: TestSource,
): void {
  const name = fields.schedule;
  if (typeof name !== "string") return;
  const schedule = source.schedules[name];
  if (schedule === undefined) {
    const named = Object.keys(source.schedules);
    throw new UsageError(
      `${source.file}:${fieldLines.schedule ?? 1}: test ${source.item}: schedule: no schedule named "${name}" (${named.length > 0 ? `named: ${named.join(", ")}` : "the suite has no schedules:"})`,
    );
  }
  fields.schedule = schedule;
}
