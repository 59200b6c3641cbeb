// Suite files (harness/suite/suite-file.ts): tests as mappings of the `test` command's fields
// over the suite's defaults, and every error naming the file, the line and the field.

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../config.js";
import { UsageError } from "../exit.js";
import { parseSuite, readSuiteFile } from "../suite/suite-file.js";
import { NEMESIS_KINDS } from "../types.js";
import { ROOT } from "./run-cli.js";

function errorOf(text: string): string {
  try {
    parseSuite(text, "s.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error("no error");
}

describe("parseSuite", () => {
  it("reads the tests in order, over the defaults, with the line of each item and field", () => {
    const suite = parseSuite(
      [
        "defaults:",
        "  nodes: 3",
        "  time-limit: 10",
        "tests:",
        "  - workload: register",
        "    nemesis: partition",
        "  - workload: kv",
        "    nemesis: [partition, kill]",
        "    time-limit: 20",
      ].join("\n"),
      "s.yaml",
    );
    expect(suite.tests.map((t) => [t.index, t.line])).toEqual([
      [1, 5],
      [2, 7],
    ]);
    expect(suite.tests[0]?.fields).toEqual({
      nodes: 3,
      "time-limit": 10,
      workload: "register",
      nemesis: "partition",
    });
    expect(suite.tests[1]?.fields).toMatchObject({
      nodes: 3,
      "time-limit": 20,
      nemesis: ["partition", "kill"],
    });
    // A test's own field wins over the default, and its line is the test's.
    expect(suite.tests[1]?.fieldLines).toMatchObject({ nodes: 2, "time-limit": 9 });
    // The fields are the test command's: config.ts makes them a configuration.
    const config = resolveConfig({}, { path: "s.yaml", fields: suite.tests[1]?.fields ?? {} });
    expect(config).toMatchObject({ workload: "kv", nemesis: ["partition", "kill"], timeLimit: 20 });
  });

  it("names the file, the line and the field of a bad value (config.ts's own messages)", () => {
    expect(errorOf(["tests:", "  - workload: register", "    time-limit: -4"].join("\n"))).toBe(
      "s.yaml:3: test 1: time-limit: must be > 0 (got -4)",
    );
    expect(errorOf(["tests:", "  - workload: kv", "  - workload: graph"].join("\n"))).toBe(
      's.yaml:3: test 2: workload: must be register, kv or set (got "graph")',
    );
    expect(
      errorOf(["tests:", "  - workload: kv", "    nemesis: partition,,kill"].join("\n")),
    ).toMatch(/^s\.yaml:3: test 1: nemesis: is empty or has an empty item/);
    expect(errorOf(["defaults:", "  nodes: 0", "tests:", "  - {}"].join("\n"))).toBe(
      "s.yaml:2: defaults: nodes: must be at least 1 (got 0)",
    );
  });

  it("names an unknown field and its line, with the known ones", () => {
    expect(errorOf(["tests:", "  - workload: kv", "    timelimit: 5"].join("\n"))).toMatch(
      /^s\.yaml:3: test 1: unknown field "timelimit" \(known: name, backend, runtime, /,
    );
  });

  it("refuses a file that is not a suite: bad YAML, no tests, an empty list, a list at the top, unknown keys", () => {
    expect(errorOf("tests: [\n")).toMatch(/^s\.yaml:\d+: not valid YAML: /);
    expect(errorOf("defaults: {nodes: 3}\n")).toBe("s.yaml:1: tests: missing (a list of tests)");
    expect(errorOf("tests: []\n")).toBe("s.yaml:1: tests: must be a non-empty list of tests");
    expect(errorOf("- workload: kv\n")).toMatch(/^s\.yaml:1: must be a mapping with tests:/);
    expect(errorOf("tests:\n  - workload: kv\nmatrix: {}\n")).toBe(
      's.yaml:3: unknown key "matrix" (known: name, floor, defaults, schedules, tests)',
    );
    expect(errorOf("tests:\n  - kv\n")).toBe("s.yaml:2: test 1: must be a mapping of test fields");
    expect(errorOf("defaults: 3\ntests:\n  - {}\n")).toBe(
      "s.yaml:1: defaults: must be a mapping of test fields",
    );
  });

  it("readSuiteFile: a missing file is one line naming it", () => {
    expect(() => readSuiteFile("/nonexistent/suite.yaml")).toThrow(
      "/nonexistent/suite.yaml: cannot read (ENOENT)",
    );
  });
});

describe("suites/standard.yaml", () => {
  const file = path.join(ROOT, "suites", "standard.yaml");
  const suite = readSuiteFile(file);
  const configs = suite.tests.map((t) => resolveConfig({}, { path: file, fields: t.fields }));

  it("has register, kv and set, with every kind of fault", () => {
    expect(new Set(configs.map((c) => c.workload))).toEqual(new Set(["register", "kv", "set"]));
    expect(new Set(configs.flatMap((c) => c.nemesis))).toEqual(new Set(NEMESIS_KINDS));
  });

  it("starts with a cheap, strong test, and keeps every run short (10-40 s)", () => {
    expect(configs[0]).toMatchObject({ workload: "kv", nemesis: ["partition"] });
    // 40 s at most: the deposed-leader test needs about 7 of its 5 s cycles to catch its mutant.
    for (const c of configs) {
      expect(c.timeLimit).toBeGreaterThanOrEqual(10);
      expect(c.timeLimit).toBeLessThanOrEqual(40);
    }
    expect(configs[0]?.timeLimit).toBeLessThanOrEqual(20);
  });

  it("leaves backend, name, runtime and store to validate and its flags", () => {
    const text = readFileSync(file, "utf8");
    expect(text).not.toMatch(/^\s*-?\s*(backend|name|runtime|store):/m);
  });
});
