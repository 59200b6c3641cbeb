// The harness issue's must-shows with the built-in Multi-Paxos node on the local runtime,
// through the real CLI in child processes (`--runtime local`, a temporary store each):
// - a run with each nemesis kind this machine supports is valid; delay is refused (no
//   sch_netem); `--nemesis all` runs every supported kind and says which it left out and why;
// - the broken backend is caught: exit 1, the violating keys named;
// - the default main job, shortened to `--time-limit 20`;
// - Ctrl-C mid-fault: healed, stopped, no process, namespace or rule of the run left behind,
//   the history so far checked and kept.
// Every fault and every heal is verified (`"verified": true` in its history event). Nothing is
// left behind by any run: after each, no namespace, interface or chain of its harness.

import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseHistory } from "../../checker/formats/index.js";
import { resolveConfig } from "../config.js";
import { fuseMounts } from "../lazyfs/mount.js";
import type { Results } from "../results.js";
import { NEMESIS_KINDS, type NemesisKind } from "../types.js";
import { namespaceRules, needRoot, netnsObjectsOf } from "./local-helpers.js";
import { ROOT } from "./run-cli.js";

const root = needRoot("the built-in node's runs with network faults");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The harness's PID: its namespaces, interfaces and root chain carry it. */
  pid: number;
  ms: number;
}

function spawnCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "harness/main.ts"), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs the CLI to its end (killed after timeoutMs). */
function runCli(args: string[], timeoutMs = 60_000): Promise<Run> {
  const began = Date.now();
  const child = spawnCli(args);
  return finished(child, began, timeoutMs);
}

function finished(child: ChildProcess, began: number, timeoutMs: number): Promise<Run> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, pid: child.pid ?? -1, ms: Date.now() - began });
    });
  });
}

const tempStore = () => mkdtempSync(path.join(tmpdir(), "builtin-local-"));

function results(store: string): Results {
  return JSON.parse(readFileSync(path.join(store, "latest", "results.json"), "utf8")) as Results;
}

interface Line {
  process: number | "nemesis";
  type: string;
  f: string;
  value?: unknown;
}

function historyLines(store: string): Line[] {
  const file = path.join(store, "latest", "history.jsonl");
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Line);
}

const nemesisEvents = (store: string) => historyLines(store).filter((l) => l.process === "nemesis");

/**
 * What of this harness PID is left: namespaces, interfaces, root chains, lazyfs mounts (all
 * empty: nothing).
 */
const leftOf = (pid: number) => {
  const left = netnsObjectsOf(pid);
  const mounts = fuseMounts().filter((m) => m.source.startsWith(`paxos-lazyfs-${pid}-`));
  return [
    ...left.namespaces,
    ...left.interfaces,
    ...left.chains,
    ...mounts.map((m) => m.mountpoint),
  ];
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

/** What the run printed, for a failing assertion's message. */
const shown = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

const KINDS: readonly NemesisKind[] = NEMESIS_KINDS;
const figures: string[] = [];

describe("--nemesis all", () => {
  it("is marked as `all` (flag, file string or one-item list), so the glue may narrow it", () => {
    expect(resolveConfig({ nemesis: "all" })).toMatchObject({ nemesisAll: true });
    const file = { path: "t.yaml", fields: { nemesis: ["all"] } };
    expect(resolveConfig({}, file)).toMatchObject({ nemesisAll: true });
    expect(resolveConfig({ nemesis: "partition,kill" }, file).nemesisAll).toBe(false);
    expect(resolveConfig({}).nemesisAll).toBe(false);
  });
});

describe.runIf(root)("the built-in node on the local runtime, through the CLI", () => {
  // 8 s of workload with a fault every 2.5 s: faults start at 2.5, 5 and 7.5 s.
  for (const kind of KINDS) {
    it(`--nemesis ${kind}: the fault starts at least twice, the run is valid`, async () => {
      const store = tempStore();
      const r = await runCli([
        "test",
        ...["--runtime", "local", "--store", store, "--nodes", "3", "--nemesis", kind],
        ...["--time-limit", "8", "--nemesis-interval", "2.5", "--recovery", "1", "--seed", "7"],
      ]);
      expect(r.code, shown(r)).toBe(0);
      expect(r.stdout).toContain("builtin-kv: VALID");
      const res = results(store);
      expect(res).toMatchObject({
        valid: true,
        backend: "builtin",
        runtime: "local",
        nodes: 3,
        nemesis: [kind],
        interrupted: false,
        // After the faults, the three replicas reached one applied index and agreed there.
        convergence: { checked: true, nodes: 3 },
      });
      expect((res.convergence as { applied: number }).applied).toBeGreaterThan(res.ops.ok / 10);
      expect(res.ops.ok).toBeGreaterThanOrEqual(50);
      const events = nemesisEvents(store);
      const starts = events.filter((e) => e.f === `start-${kind}`);
      expect(starts.length).toBeGreaterThanOrEqual(2);
      // Each fault really started (a failed start is recorded with an error), was verified,
      // and was healed (network and process heals verified too).
      for (const s of starts) expect(JSON.stringify(s.value)).not.toContain('"error"');
      for (const s of starts)
        expect(s.value, JSON.stringify(s.value)).toMatchObject({ verified: true });
      const stops = events.filter((e) => e.f === `stop-${kind}`);
      expect(stops).toHaveLength(starts.length);
      if (kind !== "clock")
        for (const s of stops) expect(s.value).toMatchObject({ verified: true });
      if (kind === "power") {
        // Each node cut off had its unsynced writes dropped, and the drop was counted.
        for (const s of starts) {
          const v = s.value as { powered_off: string[]; lost: Record<string, unknown> };
          expect(Object.keys(v.lost).sort()).toEqual([...v.powered_off].sort());
          for (const lost of Object.values(v.lost)) {
            expect(lost).toEqual({ files: expect.any(Number), bytes: expect.any(Number) });
          }
        }
        // The data is back in the run's data folders, and the lazy views are gone.
        const data = path.join(realpathSync(path.join(store, "latest")), "data");
        expect(readdirSync(data).sort()).toEqual(["n1", "n2", "n3"]);
        // The node's log: segment files `log`, `log.00000001`, ... (node/io/log-segments.ts).
        const segments = readdirSync(path.join(data, "n1")).filter((n) => /^log(\.\d+)?$/.test(n));
        const bytes = segments.map((n) => statSync(path.join(data, "n1", n)).size);
        expect(bytes.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      }
      const probeMs = starts.map((s) => (s.value as { probe_ms: number }).probe_ms);
      for (const ms of probeMs) expect(ms).toBeLessThan(300);
      expect(events.every((e) => e.f === `start-${kind}` || e.f === `stop-${kind}`)).toBe(true);
      expect(leftOf(r.pid)).toEqual([]);
      figures.push(
        `${kind}: ${r.ms} ms, ${res.ops.ok} ok of ${res.ops.invoke}, ${starts.length}x, verification ${probeMs.join("/")} ms`,
      );
    });
  }

  it("--nemesis all: every kind runs (delay through the relays, this kernel having no netem)", async () => {
    const store = tempStore();
    // A fault every 0.8 s (each healed 0.4 s later) for 9 s: every kind in turn, each at least once.
    const r = await runCli([
      "test",
      ...["--runtime", "local", "--store", store, "--nodes", "3", "--nemesis", "all"],
      ...["--time-limit", "9", "--nemesis-interval", "0.8", "--recovery", "1", "--seed", "3"],
    ]);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stderr).not.toContain("left out");
    const res = results(store);
    expect(res.valid).toBe(true);
    expect(res.nemesis).toEqual(KINDS);
    const started = new Set(
      nemesisEvents(store)
        .filter((e) => e.f.startsWith("start-"))
        .map((e) => e.f.slice("start-".length)),
    );
    expect([...started].sort()).toEqual([...KINDS].sort());
    expect(leftOf(r.pid)).toEqual([]);
    figures.push(`all: ${r.ms} ms, ${res.ops.ok} ok of ${res.ops.invoke}`);
  });

  it("--backend broken: exit 1, the summary and results.json name the violating keys", async () => {
    const store = tempStore();
    const r = await runCli([
      "test",
      ...["--runtime", "local", "--store", store, "--backend", "broken", "--nodes", "3"],
      ...["--nemesis", "none", "--time-limit", "3", "--recovery", "0", "--seed", "5"],
    ]);
    expect(r.code, shown(r)).toBe(1);
    expect(r.stdout).toContain("broken-kv: INVALID: the history is not linearizable");
    const res = results(store);
    expect(res.valid).toBe(false);
    expect(res.checker.result).toBe("illegal");
    const keys = res.violating_keys ?? [];
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toMatch(/^k\d+$/);
    expect(r.stdout).toContain(`  illegal keys: ${keys.join(", ")} (of `);
    expect(leftOf(r.pid)).toEqual([]);
  });

  it("the main job, shortened: `test --time-limit 20 --runtime local`, every other default", async () => {
    const store = tempStore();
    const r = await runCli(
      ["test", "--time-limit", "20", "--runtime", "local", "--store", store],
      85_000,
    );
    expect(r.code, shown(r)).toBe(0);
    const res = results(store);
    expect(res).toMatchObject({
      valid: true,
      backend: "builtin",
      runtime: "local",
      nodes: 5,
      workload: "kv",
      nemesis: ["partition", "kill", "pause"],
      interrupted: false,
    });
    // It ends with the verdict, a summary and the run's folder; store/latest points to it.
    const lines = r.stdout.trimEnd().split("\n");
    const at = lines.findIndex((l) => l.startsWith("builtin-kv: VALID"));
    expect(at, shown(r)).toBeGreaterThanOrEqual(0);
    const tail = lines.slice(at);
    expect(tail.map((l) => l.trim().split(/[: ]/)[0])).toEqual([
      "builtin-kv",
      "ops",
      "faults",
      "latency",
      "checker",
      "run",
      "report",
    ]);
    // Faults fired (the first after a warm-up of 5 s, then every 10 s), each one verified.
    const faults = tail.find((l) => l.trim().startsWith("faults:")) ?? "";
    let started = 0;
    for (const kind of ["partition", "kill", "pause"]) {
      const m = new RegExp(`${kind} (\\d+) started, (\\d+) verified`).exec(faults);
      expect(m?.[1], shown(r)).toBe(m?.[2]);
      started += Number(m?.[1]);
    }
    expect(started, faults).toBeGreaterThanOrEqual(2);
    const folder = (tail.find((l) => l.trim().startsWith("run: ")) ?? "")
      .trim()
      .slice("run: ".length);
    expect((tail.at(-1) ?? "").trim()).toBe(`report: ${path.join(folder, "report.html")}`);
    expect(path.dirname(folder)).toBe(path.join(store, "builtin-kv"));
    expect(realpathSync(path.join(store, "latest"))).toBe(realpathSync(folder));
    for (const file of [
      "config.yaml",
      "history.jsonl",
      "results.json",
      "harness.log",
      "report.html",
    ]) {
      expect(existsSync(path.join(folder, file)), file).toBe(true);
    }
    expect(nemesisEvents(store).some((e) => e.f.startsWith("start-"))).toBe(true);
    expect(res.ops.ok).toBeGreaterThanOrEqual(500);
    expect(leftOf(r.pid)).toEqual([]);
    figures.push(`main job: ${r.ms} ms, ${res.ops.ok} ok of ${res.ops.invoke}`);
  }, 90_000);

  it("Ctrl-C mid-partition: healed, every node gone, no rule left, the history checked and kept", async () => {
    const store = tempStore();
    const began = Date.now();
    const child = spawnCli([
      "test",
      ...["--runtime", "local", "--store", store, "--nodes", "3", "--nemesis", "partition"],
      ...["--nemesis-interval", "3", "--time-limit", "60", "--seed", "11"],
    ]);
    const run = finished(child, began, 60_000);
    const harnessPid = child.pid ?? -1;
    const history = path.join(store, "latest", "history.jsonl");
    // The machine-wide record of the local runtime: its processes and namespaces.
    const stateDir = "/run/paxos-harness";
    const nodePids = new Set<number>();
    let namespaces: string[] = [];
    const deadline = Date.now() + 30_000;
    for (;;) {
      for (const name of existsSync(stateDir) ? readdirSync(stateDir) : []) {
        if (!name.startsWith(`local-${harnessPid}-`) || !name.endsWith(".json")) continue;
        try {
          const state = JSON.parse(readFileSync(path.join(stateDir, name), "utf8")) as {
            fabric?: { nodes: { namespace: string }[] };
            processes: { pid: number; role: string }[];
          };
          for (const p of state.processes) if (p.role === "node") nodePids.add(p.pid);
          namespaces = state.fabric?.nodes.map((n) => n.namespace) ?? namespaces;
        } catch {} // being rewritten
      }
      const text = existsSync(history) ? readFileSync(history, "utf8") : "";
      if (text.includes('"f":"start-partition"')) break;
      if (Date.now() > deadline) throw new Error("no start-partition within 30 s");
      await new Promise((r) => setTimeout(r, 25));
    }
    // The partition is in force: its DROP rules are in our namespaces, one per direction cut.
    const start = nemesisEvents(store).find((e) => e.f === "start-partition");
    const cut = (start?.value as { cut?: unknown[] } | undefined)?.cut ?? [];
    expect(cut.length).toBeGreaterThan(0);
    expect(start?.value).toMatchObject({ verified: true });
    expect(namespaces).toHaveLength(3);
    const drops = namespaces.flatMap((ns) =>
      namespaceRules(ns).filter((l) => l.endsWith("-j DROP")),
    );
    expect(drops).toHaveLength(2 * cut.length);
    expect(nodePids.size).toBe(3);
    for (const pid of nodePids) expect(alive(pid)).toBe(true);

    const sigint = Date.now();
    child.kill("SIGINT");
    const r = await run;
    expect(Date.now() - sigint).toBeLessThan(15_000);
    expect(r.code, shown(r)).toBe(2);
    expect(r.stderr).toContain("SIGINT: stopping");
    expect(r.stdout).toContain(
      "builtin-kv: UNKNOWN: interrupted; the history so far is linearizable, but a run cut short is not a pass",
    );
    // Nothing of the run is left: no node process, no namespace, no interface, no chain, no state file.
    for (const pid of nodePids) expect(alive(pid), `node pid ${pid}`).toBe(false);
    expect(leftOf(harnessPid)).toEqual([]);
    expect(readdirSync(stateDir).filter((f) => f.startsWith(`local-${harnessPid}-`))).toEqual([]);
    // The fault was healed (a stop after the last start), the history checked and kept.
    const events = nemesisEvents(store);
    expect(events.at(-1)?.f).toBe("stop-partition");
    const res = results(store);
    expect(res).toMatchObject({ valid: "unknown", interrupted: true, checker: { result: "ok" } });
    const text = readFileSync(history, "utf8");
    expect(parseHistory(text, history, "jsonl").ops.length).toBeGreaterThan(0);
    const invokes = text.split("\n").filter((l) => l.includes('"type":"invoke"')).length;
    expect(invokes).toBe(res.ops.invoke);
    figures.push(`ctrl-c: ${r.ms} ms, SIGINT to exit ${Date.now() - sigint} ms`);
    console.log(`builtin-local figures:\n  ${figures.join("\n  ")}`);
  });
});
