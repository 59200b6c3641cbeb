// validate's logic with a fake runner (harness/validate/validate.ts), its table (table.ts), the
// fault placed at a time (finding.ts), the mutant list (command.ts) and its bad input through
// the CLI (exit 3, one line, before any cluster starts).

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MUTANTS } from "../../node/core/mutants.js";
import { builtinBackend } from "../backends/index.js";
import type { ExitCode } from "../exit.js";
import type { SuiteTest } from "../suite/suite-file.js";
import type { NodeSpec } from "../types.js";
import { equivalentMutants, pickMutants } from "../validate/command.js";
import { faultAt, findingOf } from "../validate/finding.js";
import { reportText } from "../validate/table.js";
import { type RunReport, type RunRequest, validate } from "../validate/validate.js";
import { runCli } from "./run-cli.js";

const TESTS: SuiteTest[] = [
  { index: 1, line: 3, fields: { workload: "register", nemesis: "partition" }, fieldLines: {} },
  { index: 2, line: 6, fields: { workload: "kv", nemesis: "kill" }, fieldLines: {} },
];

/** A runner whose verdicts come from a table: mutant (or "none") -> test index -> exit code. */
function fakeRunner(verdicts: Record<string, Record<number, ExitCode>>, log: RunRequest[] = []) {
  return async (request: RunRequest): Promise<RunReport> => {
    log.push(request);
    const code = verdicts[request.mutant ?? "none"]?.[request.test.index] ?? 0;
    const nemesis = [String(request.test.fields.nemesis)];
    const report: RunReport = {
      code,
      dir: `store/${request.mutant ?? "none"}-t${request.test.index}`,
      workload: String(request.test.fields.workload),
      nemesis,
      faults: { [nemesis[0] as string]: { started: 2, verified: 2, seconds: 5 } },
      seconds: 15,
      // The fake's errors are a node that refuses the mutant unless the table says otherwise.
      invoked: code === 3 && request.mutant !== "late" ? 0 : 500,
    };
    if (code === 1 && request.mutant === "split") {
      // Caught by the replicas alone: the history checks, the final comparison does not.
      report.finding = {};
      report.diverged =
        "replicas diverged: at applied index 9, n1 holds state a and n2 holds state b";
    } else if (code === 1) {
      report.finding = {
        at: 4.25,
        fault: { kind: "partition", detail: "majority-minority", inForce: true, startedAt: 3 },
      };
    }
    if (code === 3) report.why = "n1 did not answer /status: --mutant: not a mutant";
    if (code === 2) report.why = "asked for kill, but no fault was injected";
    return report;
  };
}

describe("validate (fake runner)", () => {
  it("a mutant caught by diverged replicas only: at the run's end, and says so", async () => {
    const report = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["split"],
      run: fakeRunner({ split: { 2: 1 } }),
    });
    expect(report.mutants[0]).toMatchObject({
      mutant: "split",
      status: "caught",
      fault: "replicas diverged (seen at the end)",
      seconds: 15,
    });
  });

  it("runs the suite without a mutant first, then each mutant until a test catches it", async () => {
    const log: RunRequest[] = [];
    const report = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["a", "b"],
      run: fakeRunner({ a: { 1: 1 }, b: { 2: 1 } }, log),
    });
    expect(log.map((r) => `${r.mutant ?? "-"}:${r.test.index}`)).toEqual([
      "-:1",
      "-:2",
      "a:1",
      "b:1",
      "b:2",
    ]);
    expect(report.code).toBe(0);
    expect(report.suiteOk).toBe(true);
    expect(report.mutants).toEqual([
      expect.objectContaining({
        mutant: "a",
        status: "caught",
        test: { index: 1, workload: "register", nemesis: ["partition"] },
        fault: "partition majority-minority (in force)",
        seconds: 4.25,
        run: "store/a-t1",
      }),
      expect.objectContaining({
        mutant: "b",
        status: "caught",
        test: expect.objectContaining({ index: 2 }),
      }),
    ]);
    expect(report.mutants[1]?.runs).toEqual([
      { test: 1, code: 0, run: "store/b-t1" },
      { test: 2, code: 1, run: "store/b-t2" },
    ]);
    const text = reportText(report, "store/validate/x/validate.json");
    expect(text).toContain("validate: 2 of 2 mutants caught");
    expect(text).toMatch(
      /\na\s+yes\s+1 register partition\s+partition majority-minority \(in force\)\s+4\.3\s+store\/a-t1\n/,
    );
    expect(text).toMatch(/\nb\s+yes\s+2 kv kill\s+/);
    expect(text).toContain("written: store/validate/x/validate.json");
  });

  it("an equivalent mutant is not run, is listed with its reason, and does not count against exit 0", async () => {
    const log: RunRequest[] = [];
    const report = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["a"],
      equivalent: [{ mutant: "masked", why: "masked by pre-vote" }],
      run: fakeRunner({ a: { 1: 1 } }, log),
    });
    expect(log.some((r) => r.mutant === "masked")).toBe(false);
    expect(report.code).toBe(0);
    expect(report.equivalent).toEqual([{ mutant: "masked", why: "masked by pre-vote" }]);
    const text = reportText(report);
    expect(text).toContain("\nmasked: not run, an equivalent mutant: masked by pre-vote\n");
    expect(text).toContain("validate: 1 of 1 mutants caught; 1 equivalent not run (masked)");
  });

  it("a mutant caught by a set's final read: its phantom and lost elements, seen at the end", async () => {
    const runner = fakeRunner({ holes: { 1: 1 } });
    const report = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["holes"],
      run: async (request) => {
        const r = await runner(request);
        if (request.mutant !== "holes") return r;
        return { ...r, finding: {}, setAnomalies: { lost: 0, phantom: 3 } };
      },
    });
    expect(report.mutants[0]).toMatchObject({
      status: "caught",
      fault: "3 phantom elements (seen at the end)",
      seconds: 15,
    });
  });

  it("exit 1 when a mutant survives every test, naming it", async () => {
    const report = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["a", "b"],
      run: fakeRunner({ a: { 1: 1 } }),
    });
    expect(report.code).toBe(1);
    expect(report.mutants[1]).toMatchObject({ mutant: "b", status: "survived" });
    expect(report.mutants[1]?.runs).toHaveLength(2);
    const text = reportText(report);
    expect(text).toMatch(/\nb\s+NO\s+none of 2/);
    expect(text).toContain("validate: 1 of 2 mutants caught; survived: b");
  });

  it("a mutant whose run fails (the node refuses it) is an error, not caught: exit 2, no more of its runs", async () => {
    const log: RunRequest[] = [];
    const report = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["a"],
      run: fakeRunner({ a: { 1: 3, 2: 1 } }, log),
    });
    expect(report.mutants[0]).toMatchObject({
      status: "error",
      why: expect.stringContaining("not a mutant"),
    });
    expect(log.filter((r) => r.mutant === "a")).toHaveLength(1);
    expect(report.code).toBe(2);
    expect(reportText(report)).toContain("could not tell: a");
  });

  it("a run that fails after its cluster started (a fault not taken) leaves the next tests their chance", async () => {
    const log: RunRequest[] = [];
    const caughtLater = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["late"],
      run: fakeRunner({ late: { 1: 3, 2: 1 } }, log),
    });
    expect(log.filter((r) => r.mutant === "late")).toHaveLength(2);
    expect(caughtLater.mutants[0]).toMatchObject({ status: "caught", test: { index: 2 } });
    expect(caughtLater.code).toBe(0);
    const never = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["late"],
      run: fakeRunner({ late: { 1: 3 } }),
    });
    // Not "survived": test 1 said nothing about it.
    expect(never.mutants[0]).toMatchObject({
      status: "error",
      test: { index: 1 },
      run: "store/late-t1",
    });
    expect(never.mutants[0]?.runs.map((r) => r.code)).toEqual([3, 0]);
    expect(never.code).toBe(2);
  });

  it("an unknown run goes on to the next test; caught later is caught, never caught is unknown (2)", async () => {
    const later = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["a"],
      run: fakeRunner({ a: { 1: 2, 2: 1 } }),
    });
    expect(later.mutants[0]?.status).toBe("caught");
    expect(later.code).toBe(0);
    const never = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["a"],
      run: fakeRunner({ a: { 1: 2 } }),
    });
    expect(never.mutants[0]).toMatchObject({
      status: "unknown",
      why: expect.stringContaining("test 1: asked for kill"),
    });
    expect(never.code).toBe(2);
  });

  it("survived outranks could-not-tell: exit 1", async () => {
    const report = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["a", "b"],
      run: fakeRunner({ a: { 1: 3 } }),
    });
    expect(report.mutants.map((m) => m.status)).toEqual(["error", "survived"]);
    expect(report.code).toBe(1);
  });

  it("a suite the unmutated node fails (invalid, or faults unverified) is broken: no mutant runs, exit 2", async () => {
    const log: RunRequest[] = [];
    const report = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["a"],
      run: fakeRunner({ none: { 2: 1 } }, log),
    });
    expect(report.suiteOk).toBe(false);
    expect(report.mutants).toEqual([]);
    expect(log.every((r) => r.mutant === undefined)).toBe(true);
    expect(report.code).toBe(2);
    expect(reportText(report)).toContain(
      "validate: the suite cannot tell right from wrong: test 2 without a mutant: INVALID; no mutant was run",
    );

    const unverified = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["a"],
      run: async (request) => ({
        ...(await fakeRunner({})(request)),
        faults: { clock: { started: 2, verified: 0, seconds: 4 } },
      }),
    });
    expect(unverified.suiteOk).toBe(false);
    expect(unverified.baseline[0]?.why).toBe("faults not verified: clock 2 started, 0 verified");
    expect(unverified.code).toBe(2);
  });

  it("Ctrl-C: no further run starts, the report says so, exit 2", async () => {
    const controller = new AbortController();
    const log: RunRequest[] = [];
    const runner = fakeRunner({}, log);
    const report = await validate({
      suite: "s.yaml",
      tests: TESTS,
      mutants: ["a", "b"],
      signal: controller.signal,
      run: async (request) => {
        const r = await runner(request);
        if (request.mutant === "a") controller.abort();
        return r;
      },
    });
    expect(log.map((r) => `${r.mutant ?? "-"}:${r.test.index}`)).toEqual(["-:1", "-:2", "a:1"]);
    expect(report.mutants).toEqual([
      expect.objectContaining({ mutant: "a", status: "unknown", why: "interrupted" }),
    ]);
    expect(report.code).toBe(2);
  });
});

describe("faultAt / findingOf", () => {
  const events = [
    { time: 2e9, f: "start-partition", value: { shape: "isolate-one" } },
    { time: 4e9, f: "stop-partition", value: {} },
    { time: 6e9, f: "start-kill", value: { target: "majority", killed: ["n1", "n3", "n4"] } },
    { time: 8e9, f: "stop-kill", value: {} },
  ];

  it("the fault in force at a time, else the last one healed before it, else none", () => {
    expect(faultAt(events, 1e9)).toBeUndefined();
    expect(faultAt(events, 3e9)).toEqual({
      kind: "partition",
      detail: "isolate-one",
      inForce: true,
      start: 2e9,
    });
    expect(faultAt(events, 5e9)).toEqual({
      kind: "partition",
      detail: "isolate-one",
      inForce: false,
      start: 2e9,
    });
    expect(faultAt(events, 7e9)).toEqual({
      kind: "kill",
      detail: "majority n1,n3,n4",
      inForce: true,
      start: 6e9,
    });
  });

  it("places the first illegal operation of a real history: a stale read under a partition", () => {
    // r0 is written 1, then 2 (both ok), then a read returns 1: illegal at the read's return.
    const dir = mkdtempSync(path.join(tmpdir(), "paxos-finding-"));
    const file = path.join(dir, "history.jsonl");
    const lines = [
      { time: 1.0e9, process: 0, type: "invoke", f: "write", key: "r0", value: 1 },
      { time: 1.1e9, process: 0, type: "ok", f: "write", key: "r0", value: 1 },
      {
        time: 2.0e9,
        process: "nemesis",
        type: "info",
        f: "start-partition",
        value: { shape: "majority-minority" },
      },
      { time: 3.0e9, process: 1, type: "invoke", f: "write", key: "r0", value: 2 },
      { time: 3.1e9, process: 1, type: "ok", f: "write", key: "r0", value: 2 },
      { time: 4.0e9, process: 0, type: "invoke", f: "read", key: "r0", value: null },
      { time: 4.5e9, process: 0, type: "ok", f: "read", key: "r0", value: 1 },
      { time: 6.0e9, process: "nemesis", type: "info", f: "stop-partition", value: {} },
    ];
    writeFileSync(file, `${lines.map((l, index) => JSON.stringify({ index, ...l })).join("\n")}\n`);
    expect(findingOf(file, "cas-register")).toEqual({
      at: 3.5,
      fault: { kind: "partition", detail: "majority-minority", inForce: true, startedAt: 1 },
    });
    // The set model has no linearization to place: no time, the caller uses the run's length.
    expect(findingOf(file, "set")).toEqual({});
  });
});

describe("the mutants", () => {
  it("--mutants: node/core/mutants.ts's list but the equivalent ones by default, or those named, in its order", () => {
    const equivalent = equivalentMutants().map((e) => e.mutant);
    expect(equivalent).toEqual(["prepare-before-durable-promise"]);
    expect(pickMutants(undefined)).toEqual(MUTANTS.filter((m) => !equivalent.includes(m)));
    // Named, an equivalent mutant runs like any other.
    expect(pickMutants("prepare-before-durable-promise")).toEqual([
      "prepare-before-durable-promise",
    ]);
    expect(pickMutants(`${MUTANTS[1]},${MUTANTS[0]}`)).toEqual([MUTANTS[0], MUTANTS[1]]);
    expect(() => pickMutants("nope")).toThrow(/^--mutants nope: no mutant "nope" \(known: /);
    expect(() => pickMutants(`${MUTANTS[0]},`)).toThrow(/an empty item/);
  });

  it("builtinBackend({mutant}) puts --mutant NAME on the node's command line, and nothing without", () => {
    const spec: NodeSpec = {
      id: "n1",
      host: "10.0.0.1",
      httpPort: 8000,
      peerPort: 7000,
      dataDir: "/d",
    };
    const args = builtinBackend({ mutant: "leader-local-reads" }).localCommand(spec, [spec]).args;
    expect(args.slice(-2)).toEqual(["--mutant", "leader-local-reads"]);
    const container = builtinBackend({ mutant: "leader-local-reads" }).containerCommand?.(spec, [
      spec,
    ]);
    expect(container?.args.slice(-2)).toEqual(["--mutant", "leader-local-reads"]);
    expect(builtinBackend().localCommand(spec, [spec]).args).not.toContain("--mutant");
  });
});

describe("paxos-harness validate: bad input (exit 3, one line, nothing started)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "paxos-validate-bad-"));
  const suite = path.join(dir, "s.yaml");
  writeFileSync(
    suite,
    "tests:\n  - workload: register\n    nemesis: partition\n    time-limit: 10\n",
  );

  const cases: [string, string[], RegExp][] = [
    ["an unknown flag", ["validate", suite, "--nodes", "3"], /unknown option '--nodes'/],
    [
      "an unknown mutant",
      ["validate", suite, "--mutants", "nope"],
      /^paxos-harness: --mutants nope: no mutant "nope"/m,
    ],
    [
      "a missing suite",
      ["validate", path.join(dir, "none.yaml")],
      /none\.yaml: cannot read \(ENOENT\)/,
    ],
    [
      "a bad runtime",
      ["validate", suite, "--runtime", "vm"],
      /--runtime: must be auto, local or docker \(got "vm"\)/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const r = runCli(args, { timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe("");
    });
  }

  it("a suite naming a backend (validate runs the built-in node), with its line", () => {
    const bad = path.join(dir, "backend.yaml");
    writeFileSync(bad, "tests:\n  - workload: kv\n    backend: memory\n");
    const r = runCli(["validate", bad], { timeoutMs: 30_000 });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${bad}:3: test 1: backend: not for validate`);
  });

  it("a bad field, with its line", () => {
    const bad = path.join(dir, "field.yaml");
    writeFileSync(bad, "tests:\n  - workload: kv\n  - workload: kv\n    rate: fast\n");
    const r = runCli(["validate", bad], { timeoutMs: 30_000 });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${bad}:4: test 2: rate: must be a number (got "fast")`);
  });
});
