import { mkdtempSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseHistory } from "../../checker/formats/index.js";
import { resolveConfig, type TestConfig } from "../config.js";
import { summary } from "../results.js";
import { runTest } from "../runner.js";
import type { Completion, Invocation } from "../types.js";
import { FakeRuntime, fakeBackend, fakePauseNemesis } from "./fake-cluster.js";

function config(store: string, over: Partial<TestConfig> = {}): TestConfig {
  return {
    ...resolveConfig({
      nodes: 3,
      nemesis: "none",
      "time-limit": 1.5,
      rate: 400,
      concurrency: 6,
      seed: 7,
      store,
      recovery: 0,
      "op-timeout": 0.3,
      "check-timeout": 30,
    }),
    ...over,
  };
}

interface Line {
  index: number;
  time: number;
  process: number | "nemesis";
  type: string;
  f: string;
  key?: string;
  value?: unknown;
}

function history(dir: string): Line[] {
  return readFileSync(path.join(dir, "history.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);
}

const quiet = () => {};

describe("runTest", () => {
  it("a linearizable cluster: valid, exit 0, results.json with the README's fields", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "runner-"));
    const runtime = new FakeRuntime();
    let printed = "";
    const r = await runTest(config(store), {
      runtime,
      backend: fakeBackend,
      nemeses: [],
      out: (t) => {
        printed += t;
      },
    });
    expect(r.code).toBe(0);
    expect(runtime.stopped).toBeGreaterThan(0);
    const results = JSON.parse(readFileSync(path.join(r.dir, "results.json"), "utf8"));
    expect(results).toMatchObject({
      valid: true,
      backend: "fake",
      runtime: "local",
      nodes: 3,
      workload: "kv",
      nemesis: [],
      checker: { result: "ok", model: "kv" },
    });
    for (const k of ["invoke", "ok", "fail", "info"]) expect(typeof results.ops[k]).toBe("number");
    expect(results.ops.ok).toBeGreaterThan(50);
    expect(results.throughput.ok_per_s).toBeGreaterThan(0);
    for (const k of ["p50", "p95", "p99", "max"]) expect(results.latency_ms[k]).toBeGreaterThan(0);
    expect(results.checker.partitions).toBeGreaterThan(1);
    expect(typeof results.checker.duration_ms).toBe("number");
    expect(printed).toContain("VALID");
    expect(printed).toContain(r.dir);
    // The store: latest -> this run; config.yaml records the resolved config with its seed.
    expect(realpathSync(path.join(store, "latest"))).toBe(realpathSync(r.dir));
    expect(readlinkSync(path.join(store, "latest"))).not.toMatch(/^\//);
    const recorded = parse(readFileSync(path.join(r.dir, "config.yaml"), "utf8"));
    expect(recorded).toMatchObject({ nodes: 3, seed: 7, workload: "kv", nemesis: "none" });
    expect(readFileSync(path.join(r.dir, "harness.log"), "utf8")).toContain("nodes ready");
    // The history parses with the checker's parser; every invoke has one completion; the
    // final phase read every key from every node.
    const lines = history(r.dir);
    const text = readFileSync(path.join(r.dir, "history.jsonl"), "utf8");
    expect(parseHistory(text, "history.jsonl", "jsonl").model).toBe("kv");
    const invokes = lines.filter((l) => l.type === "invoke").length;
    const completions = lines.filter((l) => l.process !== "nemesis" && l.type !== "invoke").length;
    expect(invokes).toBe(completions);
    expect(invokes).toBe(results.ops.invoke);
    expect(lines.map((l) => l.index)).toEqual(lines.map((_, i) => i));
    const finalReads = lines.filter(
      (l) => l.type === "invoke" && typeof l.process === "number" && l.process >= 6,
    );
    expect(finalReads.length).toBe(3 * 10);
  });

  it("a cluster with stale reads: invalid, exit 1, naming the violating key", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "runner-"));
    let printed = "";
    const r = await runTest(config(store, { keys: 2, timeLimit: 2 }), {
      runtime: new FakeRuntime({ stale: true }),
      backend: fakeBackend,
      nemeses: [],
      out: (t) => {
        printed += t;
      },
    });
    expect(r.code).toBe(1);
    expect(r.results.valid).toBe(false);
    expect(r.results.violating_keys?.length).toBeGreaterThan(0);
    for (const k of r.results.violating_keys ?? []) expect(["k0", "k1"]).toContain(k);
    expect(printed).toContain("INVALID");
    expect(printed).toMatch(/illegal keys: k[01](, k[01])? \(of \d+\)/);
  });

  it("nemesis events in the history; info gives the worker a new process id", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "runner-"));
    const runtime = new FakeRuntime();
    const nemesis = fakePauseNemesis(runtime);
    const c = config(store, {
      nemesis: ["pause"],
      nemesisInterval: 0.8,
      timeLimit: 2,
      concurrency: 3,
      opTimeout: 0.15,
    });
    const r = await runTest(c, { runtime, backend: fakeBackend, nemeses: [nemesis], out: quiet });
    expect(r.code).toBe(0);
    expect(nemesis.starts).toBeGreaterThan(0);
    expect(nemesis.stops).toBe(nemesis.starts);
    const lines = history(r.dir);
    const events = lines.filter((l) => l.process === "nemesis");
    expect(events.map((e) => e.f)).toContain("start-pause");
    expect(events.map((e) => e.f)).toContain("stop-pause");
    for (const e of events) {
      expect(e.type).toBe("info");
      expect(e.value).toEqual({ nodes: ["n1"] });
    }
    // Worker 0 talks to the paused n1: its operations time out (info), and it continues as
    // process 0 + concurrency, and so on.
    const infos = lines.filter((l) => l.type === "info" && typeof l.process === "number");
    expect(infos.length).toBeGreaterThan(0);
    const p = infos[0]?.process as number;
    const after = lines.filter((l) => l.type === "invoke" && l.process === p + 3);
    expect(after.length).toBeGreaterThan(0);
    const afterInfo = lines.slice(lines.indexOf(infos[0] as Line) + 1);
    expect(afterInfo.some((l) => l.type === "invoke" && l.process === p)).toBe(false);
    expect(r.results.ops.info).toBe(infos.length);
    expect(r.results.nemesis_events).toBe(events.length);
  });

  it("set workload: adds as cas on one key, a read-all from every node, no loss", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "runner-"));
    const r = await runTest(config(store, { workload: "set", rate: 200 }), {
      runtime: new FakeRuntime(),
      backend: fakeBackend,
      nemeses: [],
      out: quiet,
    });
    expect(r.code).toBe(0);
    expect(r.results.lost).toEqual([]);
    expect(r.results.phantom).toEqual([]);
    expect(r.results.checker.model).toBe("set");
    const lines = history(r.dir);
    const reads = lines.filter((l) => l.f === "read-all" && l.type === "ok");
    expect(reads.length).toBe(3);
    const acked = lines.filter((l) => l.f === "add" && l.type === "ok").map((l) => l.value);
    expect(acked.length).toBeGreaterThan(10);
    for (const read of reads) expect(read.value).toEqual(expect.arrayContaining(acked));
  });

  it("aborted (Ctrl-C): faults healed, nodes stopped, the history so far checked and kept", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "runner-"));
    const runtime = new FakeRuntime();
    const nemesis = fakePauseNemesis(runtime);
    const controller = new AbortController();
    const c = config(store, { nemesis: ["pause"], nemesisInterval: 0.3, timeLimit: 30 });
    setTimeout(() => controller.abort(), 1000);
    const began = Date.now();
    const r = await runTest(c, {
      runtime,
      backend: fakeBackend,
      nemeses: [nemesis],
      signal: controller.signal,
      out: quiet,
    });
    expect(Date.now() - began).toBeLessThan(10_000);
    // Not a pass: a run cut short exits 2 (unknown), whatever its partial history says.
    expect(r.code).toBe(2);
    expect(r.results).toMatchObject({ interrupted: true, valid: "unknown" });
    expect(r.results.checker.result).toBe("ok");
    expect(nemesis.stops).toBe(nemesis.starts);
    expect(runtime.stopped).toBeGreaterThan(0);
    expect(r.results.ops.invoke).toBeGreaterThan(0);
    const lines = history(r.dir);
    const invokes = lines.filter((l) => l.type === "invoke").length;
    expect(invokes).toBe(r.results.ops.invoke);
  });

  it("a runtime that cannot start: exit 3, the error in results.json", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "runner-"));
    let printed = "";
    const r = await runTest(config(store), {
      runtime: new FakeRuntime({ failStart: true }),
      backend: fakeBackend,
      nemeses: [],
      out: (t) => {
        printed += t;
      },
    });
    expect(r.code).toBe(3);
    expect(r.results.error).toContain("did not start");
    expect(r.results.valid).toBe("unknown");
    expect(printed).toContain("ERROR");
    // No operation ran: the summary must not read "checker: ok" under the ERROR.
    expect(printed).toContain("checker: not run (no operation was recorded before the error)");
    expect(printed).not.toContain("checker: ok");
  });

  it("an error after operations: the checker line says what it saw before the error", () => {
    const base = {
      valid: "unknown" as const,
      backend: "fake",
      runtime: "local",
      nodes: 1,
      workload: "kv",
      nemesis: [],
      ops: { invoke: 12, ok: 10, fail: 1, info: 1, protocol_errors: 0 },
      throughput: { ok_per_s: 5 },
      latency_ms: { p50: 1, p95: 1, p99: 1, max: 1 },
      checker: { result: "ok" as const, model: "kv", partitions: 1, duration_ms: 0.5 },
      name: "t",
      seed: 1,
      interrupted: false,
      duration_s: 2,
      nemesis_events: 0,
      faults: {},
    };
    const c = config("store");
    const failed = summary({ ...base, error: "node n1 died" }, "dir", c);
    expect(failed).toContain("ERROR: node n1 died");
    expect(failed).toContain(
      "checker: ok on the 12 operations recorded before the error, model kv, 1 partition, 0.5 ms",
    );
    expect(failed).not.toMatch(/checker: ok,/);
    // Without an error: the plain line, in the singular where it is one.
    expect(summary({ ...base, valid: true }, "dir", c)).toContain(
      "checker: ok, model kv, 1 partition, 0.5 ms",
    );
  });

  it("replies the client cannot understand are info, counted as protocol errors and shown", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "runner-"));
    const runtime = new FakeRuntime();
    // A backend whose reads answer a 200 the client cannot parse (as HttpKvClient reports it).
    const clients = {
      client: () => ({
        async invoke(op: Invocation): Promise<Completion> {
          if (op.f === "read") {
            return { type: "info", error: "protocol error: 200 with ...", protocolError: true };
          }
          return op.f === "write" ? { type: "ok" } : { type: "fail", error: "409 cas mismatch" };
        },
        async close() {},
      }),
      close() {},
    };
    let printed = "";
    const r = await runTest(config(store, { timeLimit: 0.6 }), {
      runtime,
      backend: fakeBackend,
      nemeses: [],
      clients,
      out: (t) => {
        printed += t;
      },
    });
    const results = JSON.parse(readFileSync(path.join(r.dir, "results.json"), "utf8"));
    expect(results.ops.protocol_errors).toBeGreaterThan(0);
    expect(results.ops.protocol_errors).toBe(results.ops.info);
    expect(printed).toContain(
      `${results.ops.info} info (${results.ops.protocol_errors} protocol errors: replies the client could not understand)`,
    );
    // The reads are indeterminate and the cas failed, so the writes alone check out.
    expect(r.results.valid).toBe(true);
  });

  /** A run of the fake cluster with the fake pause nemesis: its result, the nemesis, the output. */
  async function runWithPause(over: Partial<TestConfig>, signal?: AbortSignal) {
    const store = mkdtempSync(path.join(tmpdir(), "runner-"));
    const runtime = new FakeRuntime();
    const nemesis = fakePauseNemesis(runtime);
    let printed = "";
    const r = await runTest(config(store, over), {
      runtime,
      backend: fakeBackend,
      nemeses: [nemesis],
      ...(signal ? { signal } : {}),
      out: (t) => {
        printed += t;
      },
    });
    return { r, nemesis, printed };
  }

  it("a run shorter than the nemesis interval still injects a fault, and the fault record says so", async () => {
    const { r, nemesis, printed } = await runWithPause({
      nemesis: ["pause"],
      nemesisInterval: 10,
      timeLimit: 1.2,
    });
    expect(nemesis.starts).toBe(1);
    expect(r.code).toBe(0);
    const faults = r.results.faults.pause;
    expect(faults?.started).toBe(1);
    expect(faults?.verified).toBe(0); // the fake nemesis verifies nothing
    // Started after a quarter of the time limit (0.3 s), healed at the end of the workload.
    expect(faults?.seconds).toBeGreaterThan(0.5);
    expect(faults?.seconds).toBeLessThan(1.2);
    expect(printed).toMatch(/faults: pause 1 started, 0 verified, [\d.]+ s/);
  });

  it("faults asked for and none injected (stopped before the first): not a pass (exit 2, NO FAULT)", async () => {
    const controller = new AbortController();
    // The first fault would come after 5 s (half the interval); the run is stopped at 0.5 s.
    setTimeout(() => controller.abort(), 500);
    const { r, nemesis, printed } = await runWithPause(
      { nemesis: ["pause"], nemesisInterval: 10, timeLimit: 30 },
      controller.signal,
    );
    expect(nemesis.starts).toBe(0);
    expect(r.code).toBe(2);
    expect(r.results.valid).toBe("unknown");
    expect(r.results.faults.pause?.started).toBe(0);
    expect(printed).toContain("NO FAULT: asked for pause, but no fault was injected");
  });

  it("a kind asked for that never got its turn: not a pass (exit 2, NO FAULT naming it)", async () => {
    // pause and kill asked for; only the pause's turn fits in 1.2 s.
    const { r, nemesis, printed } = await runWithPause({
      nemesis: ["pause", "kill"],
      nemesisInterval: 10,
      timeLimit: 1.2,
    });
    expect(nemesis.starts).toBe(1);
    expect(r.code).toBe(2);
    expect(r.results.no_faults).toMatch(/^asked for pause, kill, but no kill fault was injected/);
    expect(printed).toContain("NO FAULT: asked for pause, kill, but no kill fault was injected");
  });
});
