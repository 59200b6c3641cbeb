// `paxos-harness validate` end to end, on the local runtime through the real CLI: a tiny suite
// (one kv test under partitions, 3 nodes), the unmutated node first (valid, faults
// verified), then ONE mutant caught fast: leader-local-reads (a deposed leader answers reads
// from its own state). The table and validate.json say caught, by test 1 under a partition,
// after a few seconds of test time, with the run's folder; exit 0.
//
// A stale read needs the leader on the minority side of a cut for long enough that the others
// elect a leader and write while a client still reads from the old one (measured: about 1-2 s
// unloaded, more under CI's load). Random shapes isolate the leader only one cut in three, and
// in one CI run three attempts in a row missed; so the suite is a schedule: every 5 s the
// leader is cut off from the majority for 4 s (majority-minority puts the leader alone), and
// a 0.5 s op timeout brings a client blocked on a write there back to read.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Results } from "../results.js";
import type { ValidateReport } from "../validate/validate.js";
import { needRoot } from "./local-helpers.js";
import { ROOT } from "./run-cli.js";

const root = needRoot("validate's end-to-end run (network namespaces for partitions)");

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "harness/main.ts"), ...args],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe.runIf(root)("paxos-harness validate (local runtime)", () => {
  it("a tiny suite: the unmutated node valid, leader-local-reads caught under a partition", {
    timeout: 150_000,
    retry: 1,
  }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "paxos-validate-"));
    const store = path.join(dir, "store");
    const suite = path.join(dir, "tiny.yaml");
    writeFileSync(
      suite,
      [
        "tests:",
        "  - workload: kv",
        "    nodes: 3",
        "    time-limit: 20",
        "    op-timeout: 0.5",
        "    recovery: 1",
        "    schedule:",
        "      every: 5",
        "      lasting: 4",
        "      faults: [{ kind: partition, shape: majority-minority }]",
        "",
      ].join("\n"),
    );
    const started = performance.now();
    const r = await runCli([
      "validate",
      suite,
      ...["--mutants", "leader-local-reads", "--runtime", "local", "--store", store],
    ]);
    const seconds = (performance.now() - started) / 1000;
    const shown = `exit ${r.code}\n${r.stdout}\n${r.stderr.slice(-3000)}`;
    expect(r.code, shown).toBe(0);

    // The table: the run without a mutant, then the mutant's row.
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`suite ${suite}, without a mutant:`);
    expect(lines[2]).toMatch(
      /^1 kv partition +VALID, faults verified +\S+validate-none-t1-kv\/\d{8}T\d{6}$/,
    );
    const row = lines.find((l) => l.startsWith("leader-local-reads "));
    expect(row, shown).toMatch(
      /^leader-local-reads +yes +1 kv partition +partition \S+ \((in force|last, healed)\) +\d+\.\d +\S+validate-leader-local-reads-t1-kv\/\d{8}T\d{6}$/,
    );
    expect(r.stdout).toContain("validate: 1 of 1 mutants caught");

    // validate.json, in store/validate/<timestamp>/.
    const [stamp] = readdirSync(path.join(store, "validate"));
    const jsonFile = path.join(store, "validate", stamp as string, "validate.json");
    expect(r.stdout).toContain(`written: ${jsonFile}`);
    const report = JSON.parse(readFileSync(jsonFile, "utf8")) as ValidateReport;
    expect(report).toMatchObject({ suite, suiteOk: true, code: 0 });
    expect(report.baseline).toEqual([
      expect.objectContaining({
        ok: true,
        code: 0,
        test: { index: 1, workload: "kv", nemesis: ["partition"] },
      }),
    ]);
    const [mutant] = report.mutants;
    expect(mutant).toMatchObject({
      mutant: "leader-local-reads",
      status: "caught",
      test: { index: 1, workload: "kv", nemesis: ["partition"] },
    });
    expect(mutant?.fault).toMatch(/^partition /);
    // The first illegal operation, in seconds of test time: after the first cut (2 s), within the run.
    expect(mutant?.seconds).toBeGreaterThan(2);
    expect(mutant?.seconds).toBeLessThanOrEqual(21);

    // The runs are ordinary runs in the store: the mutant's is INVALID, and its nodes ran the mutant.
    const run = mutant?.run as string;
    const results = JSON.parse(readFileSync(path.join(run, "results.json"), "utf8")) as Results;
    expect(results).toMatchObject({ valid: false, backend: "builtin" });
    expect(results.violating_keys?.length).toBeGreaterThan(0);
    for (const key of results.violating_keys ?? []) expect(key).toMatch(/^k\d+$/);
    expect(readFileSync(path.join(run, "nodes", "n1.log"), "utf8")).toContain("leader-local-reads");
    const baselineRun = report.baseline[0]?.run as string;
    expect(existsSync(path.join(baselineRun, "results.json"))).toBe(true);
    expect(readFileSync(path.join(baselineRun, "nodes", "n1.log"), "utf8")).not.toContain(
      "deliberate bug",
    );
    console.log(`validate, tiny suite, one mutant: ${seconds.toFixed(1)} s; ${row}`);
  });
});
