// A suite file: a YAML mapping whose `tests:` is a list of tests, each a mapping of the `test`
// command's fields (harness/config.ts, same names), over an optional `defaults:` mapping; a
// test may cross lists of backends, workloads, schedules or nemeses (`matrix:`) and repeat
// (`repeat: N`); `schedules:` names schedules for `schedule: NAME`; `floor:` and `name:` are
// the suite's. `validate` and `suite` both read it: their tests are the runs it expands to.
//
//     name: smoke
//     defaults: { nodes: 3, time-limit: 10 }
//     schedules:
//       leader-cut: { every: 4, faults: [{ kind: partition, shape: majority-minority }] }
//     tests:
//       - { workload: register, nemesis: partition }
//       - { matrix: { backend: [builtin, memory], workload: [register, kv] }, repeat: 2 }
//       - { workload: kv, schedule: leader-cut }
//
// The shape is checked by one zod schema (suite-schema.ts, built on config.ts's), each run then
// by resolveConfig (what spans fields). Every error is a UsageError naming the file, the line
// and the field (exit 3).

import { readFileSync } from "node:fs";
import path from "node:path";
import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLMap,
} from "yaml";
import type { z } from "zod";
import { type RawConfig, resolveConfig } from "../config.js";
import { UsageError } from "../exit.js";
import { type ExpandedRun, expandTest, matrixLabel, whyNoRun } from "./matrix.js";
import { DEFAULT_FLOOR, knownKeysAt, suiteSchema } from "./suite-schema.js";

export { SUITE_KEYS } from "./suite-schema.js";

/** One run of the suite: a test of the file, one combination of its matrix, one repetition. */
export interface SuiteTest {
  /** Its position among the suite's runs, from 1. */
  index: number;
  /** The line of its test in the file. */
  line: number;
  /** Its fields over the suite's defaults, as written (checked; resolveConfig makes them a TestConfig). */
  fields: RawConfig;
  /** The line of each field (a default's when the test does not set it), for later errors. */
  fieldLines: Record<string, number>;
  /** Its test's number in the file, from 1 (absent: the same as index). */
  item?: number;
  /** Its matrix combination, each value as a label ("nemesis" -> "partition,kill"). */
  matrix?: Record<string, string>;
  /** Its repetition, from 1, when its test has `repeat:`. */
  repetition?: number;
}

export interface Suite {
  /** The file it came from, as given. */
  file: string;
  /** `name:`, else the file's name without its extension. */
  name: string;
  /** The least throughput before the first fault, as a fraction of the asked rate. */
  floor: number;
  /** Every run, in order. */
  tests: SuiteTest[];
}

/** Reads and checks a suite file. */
export function readSuiteFile(file: string): Suite {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  return parseSuite(text, file);
}

/** Parses a suite from its text; `file` names it in errors. */
export function parseSuite(text: string, file: string): Suite {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, lineCounter: lines });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    const why = (first.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
    throw new UsageError(`${file}${line === undefined ? "" : `:${line}`}: not valid YAML: ${why}`);
  }
  const lineAt = (p: readonly (string | number)[]) => lineOf(doc, lines, p);
  const value: unknown = doc.toJS();
  const parsed = suiteSchema.safeParse(value);
  if (!parsed.success) throw new UsageError(firstError(parsed.error.issues, file, value, lineAt));

  const raw = value as Record<string, unknown>;
  const defaults = (raw.defaults ?? {}) as Record<string, unknown>;
  const schedules = (raw.schedules ?? {}) as Record<string, unknown>;
  const items = raw.tests as Record<string, unknown>[];
  const tests: SuiteTest[] = [];
  const empty: string[] = [];
  for (const [i, item] of items.entries()) {
    const source = { file, item: i + 1, raw: item, defaults, schedules, lineAt };
    const runs = expandTest(source);
    if (runs.length === 0) empty.push(`test ${i + 1}: ${whyNoRun(item)}`);
    for (const run of runs) tests.push(suiteTest(run, tests.length + 1, source, lineAt));
  }
  if (tests.length === 0) throw new UsageError(`${file}: no test to run: ${empty.join("; ")}`);
  return {
    file,
    name: typeof raw.name === "string" ? raw.name : path.basename(file).replace(/\.ya?ml$/i, ""),
    floor: typeof raw.floor === "number" ? raw.floor : DEFAULT_FLOOR,
    tests,
  };
}

/** `test 2 (workload=kv nemesis=kill) #3`: a run of the file, as messages name it. */
export function runLabel(test: SuiteTest): string {
  const combo = matrixLabel(test.matrix ?? {});
  return `test ${test.item ?? test.index}${combo ? ` (${combo})` : ""}${test.repetition ? ` #${test.repetition}` : ""}`;
}

function suiteTest(
  run: ExpandedRun,
  index: number,
  source: { file: string; item: number },
  lineAt: (p: readonly (string | number)[]) => number,
): SuiteTest {
  const line = lineAt(["tests", source.item - 1]);
  const test: SuiteTest = {
    index,
    line,
    fields: run.fields,
    fieldLines: run.fieldLines,
    item: source.item,
    matrix: run.matrix,
  };
  if (run.repetition !== undefined) test.repetition = run.repetition;
  // What spans fields (a schedule's kinds against nemesis, faults that would overlap their
  // own kind), on the run as it will be made.
  resolveConfig({}, { path: `${source.file}:${line}: ${runLabel(test)}`, fields: run.fields });
  return test;
}

/**
 * The first error in the file's order (the smallest line; an unknown key first on a tie), as
 * `file:line: test N: field: what is wrong (got value)`.
 */
function firstError(
  issues: readonly z.core.$ZodIssue[],
  file: string,
  value: unknown,
  lineAt: (p: readonly (string | number)[]) => number,
): string {
  const located = issues.map((issue) => {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
    const at = issue.path.map((p) => (typeof p === "number" ? p : String(p)));
    const key = keys[0];
    return { issue, at, key, line: lineAt(key === undefined ? at : [...at, key]) };
  });
  located.sort(
    (a, b) => a.line - b.line || Number(b.key !== undefined) - Number(a.key !== undefined),
  );
  const { issue, at, key, line } = located[0]!;
  const [label, field] = describePath(at);
  const head = `${file}:${line}: ${label === "" ? "" : `${label}: `}`;
  if (key !== undefined) {
    const known = knownKeysAt(at);
    const noun = at.length === 0 || at.includes("matrix") ? "key" : "field";
    const within = field === "" ? "" : `${field}: `;
    return `${head}${within}unknown ${noun} "${key}" (${known ? `known: ${known.join(", ")}` : issue.message})`;
  }
  let message = issue.message;
  if (issue.code === "invalid_key") message = issue.issues[0]?.message ?? message;
  if (field === "") return `${head}${message}`;
  const got = valueAt(value, at);
  const shown = got === undefined || isEmpty(got) ? "" : ` (got ${show(got)})`;
  return `${head}${field}: ${message}${shown}`;
}

/** An empty list or mapping: "must be a non-empty list" says it already. */
function isEmpty(v: unknown): boolean {
  return typeof v === "object" && v !== null && Object.keys(v).length === 0;
}

/** ["tests", 1, "schedule", "faults", 0, "kind"] -> ["test 2", "schedule.faults.0.kind"]. */
function describePath(at: readonly (string | number)[]): [string, string] {
  const [top, second, ...rest] = at;
  if (top === "tests" && typeof second === "number") return [`test ${second + 1}`, rest.join(".")];
  if (top === "tests") return ["", "tests"];
  if (top === "defaults") return ["defaults", at.slice(1).join(".")];
  if (top === "schedules" && second !== undefined) {
    return [`schedules: ${second}`, rest.join(".")];
  }
  return ["", at.join(".")];
}

/**
 * The line of a path of the file: its key's line for a mapping's value (where the field is
 * named), the item's for a list's; the deepest part of the path that exists.
 */
function lineOf(doc: Document, counter: LineCounter, at: readonly (string | number)[]): number {
  const lineOfNode = (n: Node | null | undefined) =>
    n?.range ? counter.linePos(n.range[0]).line : undefined;
  let node = doc.contents as Node | null;
  let line = lineOfNode(node) ?? 1;
  for (const part of at) {
    if (isMap(node)) {
      const pair = (node as YAMLMap).items.find((p) => keyName(p.key) === String(part));
      if (!pair) break;
      line = lineOfNode(pair.key as Node) ?? line;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof part === "number") {
      const next = node.items[part] as Node | undefined;
      if (next === undefined) break;
      line = lineOfNode(next) ?? line;
      node = next;
    } else break;
  }
  return line;
}

function valueAt(value: unknown, at: readonly (string | number)[]): unknown {
  let v = value;
  for (const k of at) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

function keyName(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
