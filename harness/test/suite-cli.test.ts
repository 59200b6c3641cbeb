// `paxos-harness suite` end to end, through the CLI, with real runs of the memory and broken
// backends on the local runtime (3 nodes, a few seconds each; kill and pause need no root):
// a suite with one broken run (exit 1, exactly that failure in junit.xml, every run in
// summary.json, the broken run first in index.html), a run under the floor (an error naming
// it, exit 3), a suite that runs nothing (exit 3, one line), bad input found before any run,
// and Ctrl-C (the run healed and kept, the rest not run, exit 2).

import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { SuiteSummary } from "../suite/summary.js";
import { runCliAsync, spawnCli, waitFor } from "./docker-helpers.js";
import { findAll, parseXml } from "./xml-tree.js";

const QUICK = "nodes: 3, runtime: local, nemesis-interval: 2, recovery: 0.5";

function suiteFile(dir: string, lines: string[]): string {
  const file = path.join(dir, "suite.yaml");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

/** The one suite folder of a store, and what it holds. */
function suiteOutput(store: string) {
  const suites = path.join(store, "suites");
  const [stamp, ...more] = readdirSync(suites);
  expect(more).toEqual([]);
  const dir = path.join(suites, stamp as string);
  const read = (f: string) => readFileSync(path.join(dir, f), "utf8");
  return {
    dir,
    summary: JSON.parse(read("summary.json")) as SuiteSummary,
    junit: read("junit.xml"),
    index: read("index.html"),
    copy: read("suite.yaml"),
  };
}

describe("paxos-harness suite (local runtime)", () => {
  it("a suite with a broken run: exit 1, that one failure in junit.xml, it first in index.html", {
    timeout: 240_000,
  }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "suite-cli-"));
    const store = path.join(dir, "store");
    const file = suiteFile(dir, [
      "name: e2e",
      `defaults: { ${QUICK}, time-limit: 4, nemesis: kill }`,
      "tests:",
      "  - matrix: { backend: [memory, broken] }",
      "    seed: 5",
      "  - { backend: memory, workload: register, nemesis: pause }",
    ]);
    const r = await runCliAsync(["suite", file, "--store", store], { timeoutMs: 230_000 });
    const shown = `exit ${r.code}\n${r.stdout}\n${r.stderr.slice(-3000)}`;
    expect(r.code, shown).toBe(1);

    // stdout: the plan, a line per run as it ended, the table, the closing line and the files.
    const out = r.stdout.split("\n");
    expect(out[0]).toMatch(/^suite e2e: 3 runs, about \d+ s; .*suites\/\d{8}T\d{6}$/);
    expect(out.filter((l) => /^\[\d\/3\]/.test(l)).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ["[1/3]", "VALID", "memory-kv"],
      ["[2/3]", "INVALID", "broken-kv"],
      ["[3/3]", "VALID", "memory-register"],
    ]);
    expect(r.stdout).toMatch(/suite e2e: 1 invalid, 2 valid in \d+ s; exit 1/);

    const { dir: suiteDir, summary, junit, index, copy } = suiteOutput(store);
    expect(copy).toBe(readFileSync(file, "utf8"));

    // summary.json: every run, with what it came to and where it is.
    expect(summary).toMatchObject({ name: "e2e", suite: file, code: 1, interrupted: false });
    expect(summary.counts).toMatchObject({ valid: 2, invalid: 1, error: 0, unknown: 0 });
    expect(summary.runs.map((x) => [x.name, x.verdict, x.code])).toEqual([
      ["memory-kv [backend=memory]", "valid", 0],
      ["broken-kv [backend=broken]", "invalid", 1],
      ["memory-register", "valid", 0],
    ]);
    for (const run of summary.runs) {
      expect(run.ops?.invoke ?? 0).toBeGreaterThan(50);
      expect(run.floor).toMatchObject({ ok: true, over: "before the first fault", needed: 20 });
      expect(existsSync(path.join(suiteDir, run.report as string)), run.name).toBe(true);
      expect(existsSync(path.join(run.dir as string, "results.json"))).toBe(true);
      const kind = run.nemesis[0] as string;
      expect(run.faults[kind]?.started ?? 0).toBeGreaterThan(0);
    }
    const broken = summary.runs[1]!;
    expect(broken.illegal_keys.length).toBeGreaterThan(0);

    // junit.xml: well-formed, the right counts, exactly the broken run's failure.
    const root = parseXml(junit);
    expect(findAll(root, "testsuite")[0]?.attrs).toMatchObject({
      name: "e2e",
      tests: "3",
      failures: "1",
      errors: "0",
      skipped: "0",
    });
    const cases = findAll(root, "testcase");
    expect(cases.map((c) => c.attrs.classname)).toEqual(["e2e", "e2e", "e2e"]);
    const failures = findAll(root, "failure");
    expect(failures).toHaveLength(1);
    expect(findAll(cases[1]!, "failure")).toHaveLength(1);
    expect(findAll(root, "error")).toHaveLength(0);
    expect(failures[0]?.attrs.message).toBe(
      `INVALID: illegal keys: ${broken.illegal_keys.join(", ")}; report: ${broken.report}`,
    );

    // index.html: the broken run first, each row linking its report.
    const rows = [...index.matchAll(/<tr data-verdict="([^"]+)"[^>]*>(.*?)<\/tr>/g)];
    expect(rows.map((x) => x[1])).toEqual(["invalid", "valid", "valid"]);
    expect(rows[0]?.[2]).toContain("broken-kv [backend=broken]");
    for (const row of rows) {
      const href = /href="([^"]+report\.html)"/.exec(row[2] as string)?.[1] as string;
      expect(existsSync(path.join(suiteDir, decodeURIComponent(href))), href).toBe(true);
    }
  });

  it("a run far under the floor is an error naming it; exit 3", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "suite-floor-"));
    const store = path.join(dir, "store");
    // One client cannot do 25,000 ok/s over HTTP: half of 50,000/s is out of reach.
    const file = suiteFile(dir, [
      "floor: 0.5",
      `defaults: { ${QUICK}, time-limit: 3, nemesis: kill }`,
      "tests:",
      "  - { backend: memory, rate: 50000, concurrency: 1 }",
    ]);
    const r = await runCliAsync(["suite", file, "--store", store], { timeoutMs: 110_000 });
    expect(r.code, `${r.stdout}\n${r.stderr.slice(-2000)}`).toBe(3);
    expect(r.stdout).toMatch(
      /\[1\/1\]\s+ERROR\s+memory-kv .*: too little load to mean anything: [\d.]+ ok\/s before the first fault, under 50% of the asked 50000\/s/,
    );
    const { summary, junit } = suiteOutput(store);
    const run = summary.runs[0]!;
    expect(run).toMatchObject({ verdict: "error", code: 3 });
    expect(run.floor).toMatchObject({ ok: false, needed: 25000, asked_rate: 50000, floor: 0.5 });
    expect(run.floor?.ok_per_s ?? Number.POSITIVE_INFINITY).toBeLessThan(25000);
    // The run itself was valid: the floor, not the history, makes it an error.
    const results = JSON.parse(readFileSync(path.join(run.dir as string, "results.json"), "utf8"));
    expect(results.valid).toBe(true);
    const root = parseXml(junit);
    expect(findAll(root, "testsuite")[0]?.attrs).toMatchObject({ errors: "1", failures: "0" });
    expect(findAll(root, "error")[0]?.attrs.message).toMatch(/^ERROR: too little load/);
  });

  it("a suite that runs nothing, a bad field, a test this machine cannot run: exit 3, one line, no run", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "suite-bad-"));
    const store = path.join(dir, "store");
    const cases: [string[], string[], RegExp][] = [
      [
        ["tests:", "  - matrix: { backend: [] }"],
        [],
        /: no test to run: test 1: its matrix is empty \(backend: \[\]\)$/,
      ],
      [
        ["tests:", "  - { workload: kv }"],
        ["--only", "zk"],
        /^paxos-harness: --only zk: no test to run: /,
      ],
      [
        ["tests:", "  - { workload: kv }", "  - { nodes: many }"],
        [],
        /suite\.yaml:3: test 2: nodes: must be a whole number \(got "many"\)$/,
      ],
      [
        ["tests:", "  - { backend: memory, runtime: docker, nemesis: kill }"],
        ["--runtime", "docker"],
        /suite\.yaml:2: test 1: --runtime docker: /,
      ],
    ];
    for (const [lines, flags, message] of cases) {
      const file = suiteFile(dir, lines);
      const r = await runCliAsync(["suite", file, "--store", store, ...flags], {
        env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" },
      });
      expect(r.code, r.stderr).toBe(3);
      const errLines = r.stderr.trim().split("\n");
      expect(errLines, r.stderr).toHaveLength(1);
      expect(errLines[0]).toMatch(message);
      expect(r.stdout).toBe("");
      expect(existsSync(store)).toBe(false);
    }
  });

  it("Ctrl-C: the run in progress healed, checked and kept, the rest not run; exit 2", {
    timeout: 120_000,
  }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "suite-int-"));
    const store = path.join(dir, "store");
    const file = suiteFile(dir, [
      `defaults: { ${QUICK}, time-limit: 20, nemesis: kill, backend: memory }`,
      "tests:",
      "  - { matrix: { workload: [kv, register, set] } }",
    ]);
    const child = spawnCli(["suite", file, "--store", store]);
    // While a node is killed: the heal (its restart) must still finish, and the run end as
    // `test` ends on Ctrl-C (2), not as a failed heal (3).
    await waitFor("the first kill", () => /nemesis: start-kill/.test(child.stderr()), 60_000);
    child.child.kill("SIGINT");
    const code = await child.exit;
    expect(code, `${child.stdout()}\n${child.stderr().slice(-2000)}`).toBe(2);
    expect(child.stdout()).toMatch(/\(interrupted\); exit 2/);
    const { summary, junit } = suiteOutput(store);
    expect(summary.interrupted).toBe(true);
    expect(summary.runs.map((x) => x.verdict)).toEqual(["unknown", "not run", "not run"]);
    expect(summary.runs[0]?.why).toBe("interrupted");
    expect(summary.runs[1]?.why).toBe("interrupted before its turn");
    const results = JSON.parse(
      readFileSync(path.join(summary.runs[0]?.dir as string, "results.json"), "utf8"),
    );
    expect(results).toMatchObject({ interrupted: true, valid: "unknown" });
    expect(findAll(parseXml(junit), "testsuite")[0]?.attrs).toMatchObject({
      tests: "3",
      errors: "1",
      skipped: "2",
    });
  });
});
