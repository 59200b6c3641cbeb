// A suite file: a YAML mapping whose `tests:` is a list of tests, each a mapping of the `test`
// command's fields (harness/config.ts, same names), and an optional `defaults:` mapping of
// fields every test starts from. `validate` runs a suite against each mutant; a later
// `paxos-harness suite` grows the format (matrices, schedules) here, as new top-level keys.
//
//     defaults: { nodes: 5, time-limit: 15 }
//     tests:
//       - { workload: register, nemesis: partition }
//       - { workload: kv, nemesis: kill, time-limit: 30 }
//
// Every error is a UsageError naming the file, the line and the field (exit 3). Each field is
// checked on its own with config.ts's schema (so the line is the field's own), then the whole
// test once more.

import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import { type RawConfig, resolveConfig } from "../config.js";
import { UsageError } from "../exit.js";

/** The top-level keys a suite file may have. */
export const SUITE_KEYS = ["tests", "defaults"] as const;

export interface SuiteTest {
  /** Its position in the file, from 1. */
  index: number;
  /** The line of its item in the file. */
  line: number;
  /** Its fields over the suite's defaults, as written (validated; resolveConfig makes them a TestConfig). */
  fields: RawConfig;
  /** The line of each field (a default's when the test does not set it), for later errors. */
  fieldLines: Record<string, number>;
}

export interface Suite {
  /** The file it came from, as given. */
  file: string;
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
  const toJS = (node: Node): unknown => node.toJS(doc);
  const lineOf = (node: Node | null | undefined): number =>
    node?.range ? lines.linePos(node.range[0]).line : 1;
  const root = doc.contents;
  if (!isMap(root)) {
    throw new UsageError(
      `${file}:${lineOf(root)}: must be a mapping with tests: (a list of tests, each a mapping of test fields)`,
    );
  }
  for (const pair of root.items) {
    const key = keyName(pair.key);
    if (!(SUITE_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(
        `${file}:${lineOf(pair.key as Node)}: unknown key "${key}" (known: ${SUITE_KEYS.join(", ")})`,
      );
    }
  }

  const defaultsNode = root.get("defaults", true) as Node | undefined;
  let defaults: RawConfig = {};
  let defaultLines: Record<string, number> = {};
  if (defaultsNode !== undefined) {
    if (!isMap(defaultsNode)) {
      throw new UsageError(
        `${file}:${lineOf(defaultsNode)}: defaults: must be a mapping of test fields`,
      );
    }
    ({ fields: defaults, lines: defaultLines } = checkFields(
      defaultsNode,
      file,
      lineOf,
      "defaults: ",
      toJS,
    ));
  }

  const testsNode = root.get("tests", true) as Node | undefined;
  if (testsNode === undefined) throw new UsageError(`${file}:1: tests: missing (a list of tests)`);
  if (!isSeq(testsNode) || testsNode.items.length === 0) {
    throw new UsageError(`${file}:${lineOf(testsNode)}: tests: must be a non-empty list of tests`);
  }
  const tests = testsNode.items.map((item, i): SuiteTest => {
    const index = i + 1;
    const line = lineOf(item as Node);
    if (!isMap(item)) {
      throw new UsageError(`${file}:${line}: test ${index}: must be a mapping of test fields`);
    }
    const own = checkFields(item, file, lineOf, `test ${index}: `, toJS);
    const fields = { ...defaults, ...own.fields };
    const fieldLines = { ...defaultLines, ...own.lines };
    // The whole test once more, over the defaults (nothing cross-field today; cheap insurance).
    resolveConfig({}, { path: `${file}:${line}: test ${index}`, fields });
    return { index, line, fields, fieldLines };
  });
  return { file, tests };
}

/** A mapping's fields, each checked alone so that an error names its own line. */
function checkFields(
  map: YAMLMap,
  file: string,
  lineOf: (node: Node | null | undefined) => number,
  label: string,
  toJS: (node: Node) => unknown,
): { fields: RawConfig; lines: Record<string, number> } {
  const fields: RawConfig = {};
  const lines: Record<string, number> = {};
  const values = (toJS(map) ?? {}) as Record<string, unknown>;
  for (const pair of map.items) {
    const keyNode = pair.key as Node | null;
    const key = keyName(keyNode);
    const one = { [key]: values[key] ?? null } as RawConfig;
    // resolveConfig names the field ("<path>: <field>: must be ...", "<path>: unknown field").
    resolveConfig(
      {},
      { path: `${file}:${lineOf(keyNode)}: ${label.replace(/: $/, "")}`, fields: one },
    );
    Object.assign(fields, one);
    lines[key] = lineOf(keyNode);
  }
  return { fields, lines };
}

function keyName(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}
