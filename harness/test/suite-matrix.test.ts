// The suite format beyond a list of tests (harness/suite/): matrices crossed in order,
// `exclude:`, `repeat:`, named schedules, the floor and the name; and every error naming the
// file, the line and the field. Pure: no run.

import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../config.js";
import { UsageError } from "../exit.js";
import { estimateSeconds, planRuns, RUN_OVERHEAD_S } from "../suite/plan.js";
import { parseSuite, readSuiteFile, runLabel } from "../suite/suite-file.js";
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

const lines = (...l: string[]) => `${l.join("\n")}\n`;

describe("a test's matrix", () => {
  it("is the cross product of its lists, the first varying slowest, over the defaults", () => {
    const suite = parseSuite(
      lines(
        "defaults: { nodes: 3, time-limit: 10 }",
        "tests:",
        "  - { matrix: { backend: [builtin, memory], workload: [register, kv] }, time-limit: 12 }",
        "  - { workload: set }",
      ),
      "s.yaml",
    );
    expect(suite.tests.map((t) => [t.index, t.item, t.fields.backend, t.fields.workload])).toEqual([
      [1, 1, "builtin", "register"],
      [2, 1, "builtin", "kv"],
      [3, 1, "memory", "register"],
      [4, 1, "memory", "kv"],
      [5, 2, undefined, "set"],
    ]);
    expect(suite.tests[3]?.matrix).toEqual({ backend: "memory", workload: "kv" });
    expect(suite.tests[3]?.fields).toMatchObject({ nodes: 3, "time-limit": 12 });
    expect(suite.tests[4]?.matrix).toEqual({});
    expect(runLabel(suite.tests[1]!)).toBe("test 1 (backend=builtin workload=kv)");
    // The line of each matrix value, for later errors.
    expect(suite.tests[0]?.fieldLines).toMatchObject({ backend: 3, workload: 3, nodes: 1 });
  });

  it("nemesis values: a kind, a comma list or a list; labels say which", () => {
    const suite = parseSuite(
      lines(
        "tests:",
        "  - workload: kv",
        "    matrix:",
        "      nemesis: [partition, 'kill,pause', [clock, loss], none]",
      ),
      "s.yaml",
    );
    expect(suite.tests.map((t) => t.matrix?.nemesis)).toEqual([
      "partition",
      "kill,pause",
      "clock,loss",
      "none",
    ]);
    const configs = suite.tests.map((t) => resolveConfig({}, { path: "s", fields: t.fields }));
    expect(configs.map((c) => c.nemesis)).toEqual([
      ["partition"],
      ["kill", "pause"],
      ["clock", "loss"],
      [],
    ]);
  });

  it("exclude: leaves combinations out; a value it names must be in the matrix", () => {
    const suite = parseSuite(
      lines(
        "tests:",
        "  - matrix:",
        "      backend: [builtin, memory]",
        "      workload: [register, kv, set]",
        "      exclude:",
        "        - { backend: memory, workload: set }",
        "        - { workload: register }",
      ),
      "s.yaml",
    );
    expect(suite.tests.map((t) => `${t.fields.backend} ${t.fields.workload}`)).toEqual([
      "builtin kv",
      "builtin set",
      "memory kv",
    ]);
    expect(
      errorOf(
        lines(
          "tests:",
          "  - matrix:",
          "      workload: [register, kv]",
          "      exclude: [{ workload: set }]",
        ),
      ),
    ).toBe(
      "s.yaml:4: test 1: matrix.exclude.0.workload: set is not in matrix.workload (register, kv)",
    );
    expect(
      errorOf(
        lines(
          "tests:",
          "  - matrix:",
          "      workload: [kv]",
          "      exclude:",
          "        - { backend: memory }",
        ),
      ),
    ).toBe("s.yaml:5: test 1: matrix.exclude.0.backend: the matrix has no backend list");
  });

  it("repeat: N runs each combination N times; a given seed moves on by one each time", () => {
    const suite = parseSuite(
      lines(
        "tests:",
        "  - { matrix: { workload: [register, kv] }, repeat: 2, seed: 7 }",
        "  - { workload: set, repeat: 3 }",
      ),
      "s.yaml",
    );
    expect(
      suite.tests.map((t) => [t.fields.workload, t.repetition, t.fields.seed ?? null]),
    ).toEqual([
      ["register", 1, 7],
      ["register", 2, 8],
      ["kv", 1, 7],
      ["kv", 2, 8],
      ["set", 1, null],
      ["set", 2, null],
      ["set", 3, null],
    ]);
    expect(runLabel(suite.tests[1]!)).toBe("test 1 (workload=register) #2");
    const planned = planRuns(suite, {});
    expect(planned.map((p) => p.name)).toEqual([
      "builtin-register [workload=register] #1",
      "builtin-register [workload=register] #2",
      "builtin-kv [workload=kv] #1",
      "builtin-kv [workload=kv] #2",
      "builtin-set #1",
      "builtin-set #2",
      "builtin-set #3",
    ]);
    // Repetitions without a seed each get their own (random) one.
    expect(new Set(planned.slice(4).map((p) => p.config.seed)).size).toBe(3);
  });

  it("a value both in the test and in its matrix, a value listed twice, an empty matrix: errors", () => {
    expect(
      errorOf(lines("tests:", "  - workload: kv", "    matrix: { workload: [register, kv] }")),
    ).toBe("s.yaml:2: test 1: workload: given both here and in matrix (one or the other)");
    expect(errorOf(lines("tests:", "  - matrix:", "      backend: [memory, broken, memory]"))).toBe(
      "s.yaml:3: test 1: matrix.backend: memory is listed twice",
    );
    expect(errorOf(lines("tests:", "  - matrix: {}"))).toBe(
      "s.yaml:2: test 1: matrix: must list at least one of backend, workload, schedule, nemesis",
    );
    expect(errorOf(lines("tests:", "  - matrix: { flavour: [a] }"))).toBe(
      's.yaml:2: test 1: matrix: unknown key "flavour" (known: backend, workload, schedule, nemesis, exclude)',
    );
    expect(errorOf(lines("tests:", "  - matrix:", "      workload: [kv, graph]"))).toBe(
      's.yaml:3: test 1: matrix.workload.1: must be register, kv or set (got "graph")',
    );
    expect(errorOf(lines("tests:", "  - matrix:", "      workload: kv"))).toBe(
      's.yaml:3: test 1: matrix.workload: must be a list of workloads (got "kv")',
    );
    expect(errorOf(lines("tests:", "  - { workload: kv, repeat: 0 }"))).toBe(
      "s.yaml:2: test 1: repeat: must be at least 1 (got 0)",
    );
  });

  it("a suite that makes no run is an error, saying why", () => {
    expect(errorOf(lines("tests:", "  - matrix: { backend: [] }"))).toBe(
      "s.yaml: no test to run: test 1: its matrix is empty (backend: [])",
    );
    expect(
      errorOf(
        lines("tests:", "  - matrix:", "      workload: [kv]", "      exclude: [{ workload: kv }]"),
      ),
    ).toBe("s.yaml: no test to run: test 1: its matrix's exclude: leaves out every combination");
    // One empty test among others is no error: the others run.
    expect(
      parseSuite(lines("tests:", "  - matrix: { backend: [] }", "  - { workload: kv }"), "s.yaml")
        .tests,
    ).toHaveLength(1);
    // --only that keeps nothing is one too.
    const suite = parseSuite(lines("tests:", "  - { workload: kv }"), "s.yaml");
    expect(() => planRuns(suite, { only: "zookeeper" })).toThrow(
      "--only zookeeper: no test to run: none of the suite's 1 runs is named so (builtin-kv)",
    );
    expect(planRuns(suite, { only: "kv" }).map((r) => r.index)).toEqual([1]);
  });
});

describe("named schedules", () => {
  const suiteText = lines(
    "defaults: { nemesis-interval: 4 }",
    "schedules:",
    "  leader-cut:",
    "    every: 4",
    "    lasting: 3",
    "    faults: [{ kind: partition, shape: majority-minority }]",
    "  kill-leader: { every: 2, faults: [{ kind: kill, target: leader }] }",
    "tests:",
    "  - { workload: kv, schedule: leader-cut }",
    "  - { workload: register, matrix: { schedule: [leader-cut, kill-leader] } }",
    "  - workload: kv",
    "    schedule: { faults: [{ kind: pause }] }",
  );

  it("a test names one, or a matrix lists several; an inline schedule still works", () => {
    const suite = parseSuite(suiteText, "s.yaml");
    const configs = suite.tests.map((t) => resolveConfig({}, { path: "s", fields: t.fields }));
    expect(configs.map((c) => [c.workload, c.nemesis, c.schedule?.every])).toEqual([
      ["kv", ["partition"], 4],
      ["register", ["partition"], 4],
      ["register", ["kill"], 2],
      ["kv", ["pause"], 4],
    ]);
    expect(configs[0]?.schedule?.faults).toEqual([
      { kind: "partition", shape: "majority-minority" },
    ]);
    expect(suite.tests[2]?.matrix).toEqual({ schedule: "kill-leader" });
    expect(planRuns(suite, {})[2]?.name).toBe("builtin-register [schedule=kill-leader]");
  });

  it("an unknown name, a bad schedule, a schedule whose kinds are not in nemesis: errors at their line", () => {
    expect(
      errorOf(
        lines("schedules:", "  a: { faults: [{ kind: kill }] }", "tests:", "  - { schedule: b }"),
      ),
    ).toBe('s.yaml:4: test 1: schedule: no schedule named "b" (named: a)');
    expect(errorOf(lines("tests:", "  - matrix: { schedule: [nope] }"))).toBe(
      's.yaml:2: test 1: schedule: no schedule named "nope" (the suite has no schedules:)',
    );
    expect(
      errorOf(
        lines(
          "schedules:",
          "  a:",
          "    every: -1",
          "    faults: [{ kind: kill }]",
          "tests:",
          "  - {}",
        ),
      ),
    ).toBe("s.yaml:3: schedules: a: every: must be > 0 (got -1)");
    expect(
      errorOf(lines("schedules:", "  a: { faults: [{ kind: flood }] }", "tests:", "  - {}")),
    ).toMatch(/^s\.yaml:2: schedules: a: faults\.0\.kind: must be one of partition, kill, /);
    expect(
      errorOf(
        lines(
          "schedules:",
          "  a: { faults: [{ kind: kill }] }",
          "tests:",
          "  - { nemesis: partition, matrix: { schedule: [a] } }",
        ),
      ),
    ).toBe(
      "s.yaml:4: test 1 (schedule=a): schedule.faults.0.kind: kill is not in nemesis (partition)",
    );
    expect(
      errorOf(lines("tests:", "  - schedule: { faults: [{ kind: kill, shape: bridge }] }")),
    ).toBe('s.yaml:2: test 1: schedule.faults.0.shape: is for partition, not kill (got "bridge")');
  });
});

describe("the suite's own keys", () => {
  it("name and floor, with their defaults (the file's name, 10%)", () => {
    const a = parseSuite(lines("name: night", "floor: 0.25", "tests: [{}]"), "x/s.yaml");
    expect([a.name, a.floor]).toEqual(["night", 0.25]);
    const b = parseSuite(lines("tests: [{}]"), "suites/smoke.yaml");
    expect([b.name, b.floor]).toEqual(["smoke", 0.1]);
    expect(errorOf(lines("floor: 2", "tests: [{}]"))).toBe(
      "s.yaml:1: floor: must be at most 1 (the whole asked rate) (got 2)",
    );
    expect(errorOf(lines("name: two words", "tests: [{}]"))).toBe(
      "s.yaml:1: name: may hold only letters, digits, '.', '_' and '-' (got \"two words\")",
    );
  });

  it("the first error in the file's order wins; unknown fields name the known ones", () => {
    expect(
      errorOf(lines("tests:", "  - { workload: graph }", "  - { nodes: 0 }", "floor: -1")),
    ).toBe('s.yaml:2: test 1: workload: must be register, kv or set (got "graph")');
    expect(errorOf(lines("tests:", "  - { workload: kv, repeats: 2 }"))).toMatch(
      /^s\.yaml:2: test 1: unknown field "repeats" \(known: name, backend, .*, schedule, matrix, repeat\)$/,
    );
    expect(errorOf(lines("defaults:", "  matrix: { workload: [kv] }", "tests: [{}]"))).toMatch(
      /^s\.yaml:2: defaults: unknown field "matrix" \(known: name, backend, .*, schedule\)$/,
    );
    expect(
      errorOf(lines("tests:", "  - schedule:", "      faults: [{ kind: kill }]", "      often: 3")),
    ).toBe(
      's.yaml:4: test 1: schedule: unknown field "often" (must be a mapping: every, lasting, faults)',
    );
  });
});

describe("estimated time", () => {
  it("is the time limits and recoveries, plus an overhead per run", () => {
    const suite = parseSuite(
      lines(
        "defaults: { time-limit: 10, recovery: 2 }",
        "tests:",
        "  - { matrix: { workload: [register, kv] } }",
      ),
      "s.yaml",
    );
    const configs = planRuns(suite, {}).map((r) => r.config);
    expect(estimateSeconds(configs)).toBe(2 * (10 + 2 + RUN_OVERHEAD_S));
  });
});

describe("the shipped suites", () => {
  const read = (name: string) => readSuiteFile(path.join(ROOT, "suites", name));
  const scheduleKey = (s: unknown) => JSON.stringify(s);

  it("smoke.yaml: about 2 minutes of the built-in node under partition, kill and pause, locally, and memory", () => {
    const runs = planRuns(read("smoke.yaml"), {});
    const minutes = estimateSeconds(runs.map((r) => r.config)) / 60;
    expect(minutes).toBeGreaterThan(1.5);
    expect(minutes).toBeLessThan(2.5);
    const builtin = runs.filter((r) => r.config.backend === "builtin").map((r) => r.config);
    expect(new Set(builtin.flatMap((c) => c.nemesis))).toEqual(
      new Set(["partition", "kill", "pause"]),
    );
    expect(new Set(builtin.map((c) => c.workload))).toEqual(new Set(["register", "kv"]));
    expect(runs.some((r) => r.config.backend === "memory")).toBe(true);
    expect(runs.every((r) => r.config.runtime === "local")).toBe(true);
  });

  it("nightly.yaml: about 30 minutes, register, kv and set, every kind of fault, the standard suite's schedules by name", () => {
    const suite = read("nightly.yaml");
    const runs = planRuns(suite, {});
    const configs = runs.map((r) => r.config);
    const minutes = estimateSeconds(configs) / 60;
    expect(minutes).toBeGreaterThan(24);
    expect(minutes).toBeLessThan(36);
    expect(new Set(configs.map((c) => c.workload))).toEqual(new Set(["register", "kv", "set"]));
    expect(new Set(configs.flatMap((c) => c.nemesis))).toEqual(new Set(NEMESIS_KINDS));
    // It uses a matrix and named schedules, and runs every schedule of the standard suite.
    expect(suite.tests.some((t) => Object.keys(t.matrix ?? {}).length > 1)).toBe(true);
    expect(suite.tests.some((t) => t.matrix?.schedule !== undefined)).toBe(true);
    const standard = read("standard.yaml").tests.map((t) =>
      resolveConfig({}, { path: "standard", fields: t.fields }),
    );
    const nightly = new Set(configs.map((c) => scheduleKey(c.schedule)));
    for (const c of standard.filter((s) => s.schedule !== undefined)) {
      expect(nightly.has(scheduleKey(c.schedule)), scheduleKey(c.schedule)).toBe(true);
    }
    expect(new Set(runs.map((r) => r.name)).size).toBe(runs.length);
  });
});
