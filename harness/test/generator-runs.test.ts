// The test as data, on the real local runtime: a seed makes the same operations per worker and
// the same faults with the same parameters, whatever the timing; and a schedule built from
// combinators alone (a partition and a clock skew overlapping) runs without a change to the
// runner, both faults verified.

import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { builtinBackend } from "../backends/index.js";
import { resolveConfig } from "../config.js";
import { any, clients, concat, nemesis, once, sleep, timeLimit } from "../generator/index.js";
import { makeNemeses } from "../nemesis/index.js";
import type { Results } from "../results.js";
import { runTest } from "../runner.js";
import { LocalRuntime } from "../runtime/local.js";
import { workerSequence } from "../test-generator.js";
import { needRoot } from "./local-helpers.js";
import { ROOT } from "./run-cli.js";

const root = needRoot("runs of the built-in node with faults");

interface Line {
  process: number | "nemesis";
  type: string;
  f: string;
  key?: string;
  value?: unknown;
}

function lines(dir: string): Line[] {
  return readFileSync(path.join(dir, "history.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Line);
}

function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "harness/main.ts"), ...args],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c;
    });
    child.stderr.on("data", (c: Buffer) => {
      out += c;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 110_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const CONCURRENCY = 5;

/** Per worker, its invocations (f, key, value) of the main phase, times stripped. */
function perWorker(history: readonly Line[]): string[][] {
  // The heal comes after every operation of the main phase: what follows it is the final phase.
  const lastNemesis = history.map((l) => l.process).lastIndexOf("nemesis");
  const workers: string[][] = Array.from({ length: CONCURRENCY }, () => []);
  history.slice(0, lastNemesis).forEach((l) => {
    if (l.type !== "invoke" || typeof l.process !== "number") return;
    workers[l.process % CONCURRENCY]?.push(JSON.stringify([l.f, l.key, l.value]));
  });
  return workers;
}

/** The faults started, with the parameters their operations carried (shape, target). */
function faults(history: readonly Line[]): string[] {
  return history
    .filter((l) => l.process === "nemesis" && l.f.startsWith("start-"))
    .map((l) => {
      const v = l.value as { shape?: string; target?: string; skew_ms?: unknown };
      return JSON.stringify([l.f, v.shape ?? v.target ?? null, v.skew_ms ?? null]);
    });
}

const prefix = <T>(a: readonly T[], b: readonly T[]) => {
  const n = Math.min(a.length, b.length);
  return [a.slice(0, n), b.slice(0, n)] as const;
};

describe.runIf(root)("the test as data, on the local runtime", () => {
  it("the same seed: the same operations per worker and the same faults; another seed: others", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "replay-seed-"));
    const run = (seed: number, name: string) =>
      cli([
        "test",
        ...["--runtime", "local", "--workload", "kv", "--nemesis", "partition,kill,clock"],
        ...["--time-limit", "20", "--nemesis-interval", "4", "--recovery", "1"],
        ...["--concurrency", String(CONCURRENCY), "--seed", String(seed)],
        ...["--store", store, "--name", name],
      ]);
    // Side by side on purpose: the timings differ, the choices must not.
    const [a, b, c] = await Promise.all([run(42, "a"), run(42, "b"), run(43, "c")]);
    for (const r of [a, b, c]) expect(r.code, r.out).toBe(0);
    const folder = (name: string) =>
      path.join(store, name, readdirSync(path.join(store, name)).find((f) => f !== "latest") ?? "");
    const [ha, hb, hc] = ["a", "b", "c"].map((n) => lines(folder(n))) as [Line[], Line[], Line[]];
    const [wa, wb, wc] = [perWorker(ha), perWorker(hb), perWorker(hc)];
    for (let w = 0; w < CONCURRENCY; w++) {
      const [x, y] = prefix(wa[w] as string[], wb[w] as string[]);
      expect(x.length).toBeGreaterThanOrEqual(20);
      expect(x).toEqual(y);
    }
    const [fa, fb] = prefix(faults(ha), faults(hb));
    expect(fa.length).toBeGreaterThanOrEqual(3);
    expect(fa).toEqual(fb);
    const [x, z] = prefix(wa[0] as string[], wc[0] as string[]);
    expect(x).not.toEqual(z);
  }, 120_000);

  it("a partition and a clock skew overlapping, from combinators alone: both verified", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "overlap-"));
    const config = resolveConfig({
      runtime: "local",
      workload: "register",
      nemesis: "partition,clock",
      "time-limit": 8,
      recovery: 1,
      seed: 3,
      store,
      name: "overlap",
    });
    const runtime = new LocalRuntime();
    const nemeses = await makeNemeses(config.nemesis, runtime);
    const r = await runTest(config, {
      runtime,
      backend: builtinBackend(),
      nemeses,
      nodeSpecs: (count, dir) => runtime.nodeSpecs(count, dir),
      test: (plan, ops) =>
        any(
          clients(timeLimit(plan.timeLimitMs, workerSequence(ops))),
          nemesis(
            concat(
              sleep(1500),
              once({ f: "start-partition", value: { shape: "majority-minority" } }),
              sleep(1000),
              once({ f: "start-clock", value: { target: "all" } }),
              sleep(2500),
              once({ f: "stop-partition" }),
              sleep(1000),
              once({ f: "stop-clock" }),
            ),
          ),
        ),
      out: () => {},
    });
    const results: Results = r.results;
    expect(r.code, JSON.stringify(results)).toBe(0);
    const history = lines(r.dir)
      .filter((l) => l.process === "nemesis")
      .map((l) => l.f);
    expect(history).toEqual(["start-partition", "start-clock", "stop-partition", "stop-clock"]);
    expect(results.faults).toMatchObject({
      partition: { started: 1, verified: 1 },
      clock: { started: 1, verified: 1 },
    });
  }, 90_000);

  it("replay of an invalid run of the broken backend is invalid again, with the same faults", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "replay-"));
    const first = await cli([
      "test",
      ...["--backend", "broken", "--runtime", "local", "--nemesis", "partition"],
      ...["--time-limit", "6", "--nemesis-interval", "2", "--recovery", "1", "--seed", "5"],
      ...["--store", store, "--name", "recorded"],
    ]);
    expect(first.code, first.out).toBe(1);
    const recorded = path.join(
      store,
      "recorded",
      readdirSync(path.join(store, "recorded"))[0] as string,
    );
    const again = await cli(["replay", recorded, "--name", "again"]);
    expect(again.code, again.out).toBe(1);
    expect(again.out).toContain("not linearizable");
    const replayed = path.join(store, "again", readdirSync(path.join(store, "again"))[0] as string);
    expect(readFileSync(path.join(replayed, "config.yaml"), "utf8")).toContain(
      `replay-of: ${recorded}`,
    );
    const ops = (dir: string) =>
      readFileSync(path.join(dir, "nemesis-ops.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => {
          const { f, value } = JSON.parse(l) as { f: string; value?: unknown };
          return JSON.stringify([f, value]);
        });
    expect(ops(replayed)).toEqual(ops(recorded));
    expect(ops(recorded).length).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it("replay of a folder that is not a run: one line, exit 3", async () => {
    const empty = mkdtempSync(path.join(tmpdir(), "not-a-run-"));
    const r = await cli(["replay", empty]);
    expect(r.code).toBe(3);
    expect(r.out.trim()).toBe(
      `paxos-harness: replay: ${empty} has no config.yaml (not a run's folder?)`,
    );
  });
});
