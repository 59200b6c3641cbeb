// The must-shows for the local runtime in network namespaces, every fault verified:
// - a node program that binds nothing (peer connections from the default address) is really
//   partitioned, and the run records the fault as verified;
// - faults made to fail through the runtime's exec seam (iptables that silently does nothing,
//   a rule that cannot be installed) end the run with exit 3 and a line naming them;
// - a harness SIGKILLed mid-run: the next test, with another --store, leaves nothing of it
//   (namespaces, bridge, veths, chain, processes);
// - the clock nemesis refuses a statically linked node program at start-up (exit 3).

import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { memoryBackend } from "../backends/index.js";
import { resolveConfig, type TestConfig } from "../config.js";
import { makeNemeses } from "../nemesis/index.js";
import { runTest } from "../runner.js";
import { elfFacts, faketimeUnreachable } from "../runtime/elf.js";
import { LocalRuntime } from "../runtime/local.js";
import { inNamespace } from "../runtime/netns.js";
import type { NodeHandle } from "../types.js";
import {
  get,
  gone,
  needRoot,
  netnsObjectsOf,
  put,
  runContext,
  tempStore,
} from "./local-helpers.js";
import { ROOT, runCli } from "./run-cli.js";

const root = needRoot("the network namespace tests");
const NOTHING = { namespaces: [], interfaces: [], chains: [] };

function config(store: string, over: Record<string, string | number> = {}): TestConfig {
  return resolveConfig({
    backend: "memory",
    nodes: 3,
    nemesis: "partition",
    "nemesis-interval": 1,
    "time-limit": 3,
    rate: 100,
    concurrency: 4,
    seed: 5,
    store,
    recovery: 0,
    "op-timeout": 1,
    ...over,
  });
}

interface Line {
  process: number | "nemesis";
  f: string;
  type: string;
  value?: unknown;
  error?: string;
}

function history(dir: string): Line[] {
  return readFileSync(path.join(dir, "history.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);
}

describe.runIf(root)("a node program that binds nothing, in network namespaces", () => {
  it("is cut off by a partition: its peer requests fail during the cut, pass after the heal", async () => {
    const store = tempStore();
    const run = runContext(store);
    const runtime = new LocalRuntime();
    const specs = await runtime.nodeSpecs(3, run.dir);
    const nodes = await runtime.start(specs, memoryBackend({ unboundDial: true }), run);
    try {
      const [n1, n2] = nodes as [NodeHandle, NodeHandle];
      // n2 forwards to n1 over a connection of its own, from whatever address the kernel picks.
      expect((await put(n2, "k", 1)).status).toBe(200);
      await runtime.network.partition([["n1"], ["n2", "n3"]]);
      const during = await get(n2, "k");
      expect(during.status, during.body).toBe(503);
      expect(JSON.parse(during.body)).toMatchObject({ definite: true });
      expect(JSON.parse((await get(n1, "k")).body)).toEqual({ value: 1 });
      await runtime.network.heal();
      expect(JSON.parse((await get(n2, "k")).body)).toEqual({ value: 1 });
    } finally {
      await runtime.stop();
    }
  });

  it("a run with partitions records each one as verified, and is valid", async () => {
    const store = tempStore();
    const runtime = new LocalRuntime();
    let printed = "";
    // Faults of 1 s; an operation may take 3 s, longer than a follower's 1 s try to reach n1.
    const c = config(store, { "nemesis-interval": 2, "time-limit": 5, "op-timeout": 3 });
    const r = await runTest(c, {
      runtime,
      backend: memoryBackend({ unboundDial: true }),
      nemeses: await makeNemeses(["partition"], runtime),
      nodeSpecs: (count, dir) => runtime.nodeSpecs(count, dir),
      out: (t) => {
        printed += t;
      },
    });
    expect(r.code, printed).toBe(0);
    const events = history(r.dir).filter((l) => l.process === "nemesis");
    const starts = events.filter((e) => e.f === "start-partition");
    expect(starts.length).toBeGreaterThanOrEqual(1);
    for (const s of starts) {
      expect(s.value).toMatchObject({ verified: true, probes: { cut: expect.any(Number) } });
      const v = s.value as { probes: { cut: number; timed_out: number }; probe_ms: number };
      expect(v.probes.timed_out).toBe(v.probes.cut);
      expect(v.probe_ms).toBeLessThan(300);
    }
    for (const s of events.filter((e) => e.f === "stop-partition")) {
      expect(s.value).toMatchObject({ healed: true, verified: true });
    }
    // Requests through a cut link failed during the partition (the followers could not forward).
    expect(history(r.dir).some((l) => l.type === "fail" && /leader/.test(l.error ?? ""))).toBe(
      true,
    );
  });
});

describe.runIf(root)("runs side by side", () => {
  it("two runtimes asking for the same subnet: the second moves to a free one; their faults stay apart", async () => {
    const store = tempStore();
    const subnet = 2 + Math.floor(Math.random() * 240);
    const [a, b] = [new LocalRuntime({ subnet }), new LocalRuntime({ subnet })];
    const [runA, runB] = [runContext(store, "a"), runContext(store, "b")];
    try {
      const [nodesA, nodesB] = await Promise.all([
        a.start(await a.nodeSpecs(2, runA.dir), memoryBackend(), runA),
        b.start(await b.nodeSpecs(2, runB.dir), memoryBackend(), runB),
      ]);
      expect(a.fabric?.subnet).not.toBe(b.fabric?.subnet);
      expect(nodesA[0]?.spec.host).not.toBe(nodesB[0]?.spec.host);
      await a.network.partition([["n1"], ["n2"]]);
      const cutA = await a.probe.reach([["n1", "n2"]], 150);
      const keptB = await b.probe.reach([["n1", "n2"]], 1000);
      expect(cutA[0]?.outcome).toBe("timeout");
      expect(keptB[0]?.outcome).toBe("connected");
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(netnsObjectsOf(process.pid)).toEqual(NOTHING);
  });
});

describe.runIf(root)("a fault that does not take ends the run: exit 3, one line naming it", () => {
  const real = (ns: string, args: readonly string[]) =>
    inNamespace(ns, ["iptables", "-w", ...args]);
  const isDrop = (args: readonly string[]) => args[0] === "-A" && args.at(-1) === "DROP";

  async function brokenRun(
    kind: "partition" | "loss",
    iptablesIn: (ns: string, args: readonly string[]) => Promise<string>,
  ) {
    const store = tempStore();
    const runtime = new LocalRuntime({ iptablesIn });
    let printed = "";
    const began = performance.now();
    const r = await runTest(config(store, { nemesis: kind, "time-limit": 10 }), {
      runtime,
      backend: memoryBackend(),
      nemeses: await makeNemeses([kind], runtime),
      nodeSpecs: (count, dir) => runtime.nodeSpecs(count, dir),
      out: (t) => {
        printed += t;
      },
    });
    return { ...r, printed, ms: performance.now() - began, runtime };
  }

  it("partition with an iptables that silently does nothing", async () => {
    const r = await brokenRun("partition", async (ns, args) =>
      isDrop(args) ? "" : real(ns, args),
    );
    expect(r.code).toBe(3);
    expect(r.results.error).toMatch(
      /^partition [n\d,|]+( \(n\d bridging\))?: n\d -> n\d still connects after the cut$/,
    );
    expect(r.printed.split("\n")[0]).toBe(`memory-kv: ERROR: ${r.results.error}`);
    // The run ended at the first fault (at 1 s), not at its 10 s time limit.
    expect(r.results.duration_s).toBeLessThan(3);
    expect(netnsObjectsOf(process.pid)).toEqual(NOTHING);
  });

  it("loss with an iptables that silently does nothing", async () => {
    const r = await brokenRun("loss", async (ns, args) => (isDrop(args) ? "" : real(ns, args)));
    expect(r.code).toBe(3);
    expect(r.results.error).toMatch(
      /^loss 0\.3 from [n\d,]+: (\d+) of \1 probe datagrams from n\d came back \(expected \d+ ± \d+\)$/,
    );
  });

  it("partition with a rule that cannot be installed", async () => {
    const r = await brokenRun("partition", async (ns, args) => {
      if (isDrop(args))
        throw new Error(`iptables ${args.join(" ")}: No chain/target/match by that name`);
      return real(ns, args);
    });
    expect(r.code).toBe(3);
    expect(r.results.error).toMatch(
      /^iptables -A PAXOS-NEMESIS -d 10\.214\.\d+\.\d+ -j DROP: No chain/,
    );
    const start = history(r.dir).find((l) => l.f === "start-partition");
    expect(start?.value).toEqual({ error: r.results.error });
  });
});

describe.runIf(root)("a harness SIGKILLed during a local run", () => {
  it("the next test, with another --store, leaves nothing of it", async () => {
    const storeA = tempStore();
    const child: ChildProcess = spawn(
      process.execPath,
      [
        ...["--import", "tsx", path.join(ROOT, "harness/main.ts"), "test"],
        ...["--runtime", "local", "--backend", "memory", "--nodes", "3", "--store", storeA],
        ...["--nemesis", "partition", "--nemesis-interval", "1", "--time-limit", "60"],
      ],
      { cwd: ROOT, stdio: "ignore" },
    );
    const pid = child.pid as number;
    const stateDir = "/run/paxos-harness";
    const recorded = new Set<number>();
    const historyFile = path.join(storeA, "latest", "history.jsonl");
    const deadline = Date.now() + 30_000;
    for (;;) {
      for (const name of existsSync(stateDir) ? readdirSync(stateDir) : []) {
        if (!name.startsWith(`local-${pid}-`) || !name.endsWith(".json")) continue;
        try {
          const state = JSON.parse(readFileSync(path.join(stateDir, name), "utf8")) as {
            processes: { pid: number }[];
          };
          for (const p of state.processes) recorded.add(p.pid);
        } catch {}
      }
      const text = existsSync(historyFile) ? readFileSync(historyFile, "utf8") : "";
      if (text.includes('"f":"start-partition"') && recorded.size === 6) break;
      if (Date.now() > deadline) throw new Error("no start-partition within 30 s");
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const left = netnsObjectsOf(pid);
    expect(left.namespaces).toHaveLength(3);
    expect(left.interfaces).toHaveLength(4);
    expect(left.chains.length).toBeGreaterThan(0);
    for (const p of recorded) expect(gone(p), `process ${p} outlives its harness`).toBe(false);

    const storeB = tempStore();
    const began = Date.now();
    const next = runCli([
      "test",
      ...["--runtime", "local", "--backend", "memory", "--nodes", "1", "--store", storeB],
      ...["--nemesis", "none", "--time-limit", "1", "--recovery", "0"],
    ]);
    console.log(`the next run, cleaning up first: ${Date.now() - began} ms`);
    expect(next.code, next.stderr).toBe(0);
    expect(netnsObjectsOf(pid)).toEqual(NOTHING);
    for (const p of recorded) expect(gone(p), `process ${p}`).toBe(true);
    expect(readdirSync(stateDir).filter((f) => f.startsWith(`local-${pid}-`))).toEqual([]);
    // (It says so in its harness.log, unless a run side by side was first to remove them.)
    const log = readFileSync(path.join(storeB, "latest", "harness.log"), "utf8");
    console.log(
      log.split("\n").find((l) => l.includes("removed leftovers")) ?? "(removed by another run)",
    );
  }, 90_000);
});

/** A minimal ELF64 header (+ one program header): static unless `interp`, Go-marked if `go`. */
function fakeElf(file: string, options: { interp?: boolean; go?: boolean } = {}): string {
  const names = Buffer.from("\0.shstrtab\0.go.buildinfo\0");
  const ehdr = Buffer.alloc(64);
  ehdr.writeUInt32BE(0x7f454c46, 0);
  ehdr[4] = 2; // 64-bit
  ehdr[5] = 1; // little-endian
  ehdr[6] = 1;
  ehdr.writeUInt16LE(2, 0x10); // ET_EXEC
  ehdr.writeUInt16LE(0x3e, 0x12);
  ehdr.writeBigUInt64LE(64n, 0x20); // e_phoff
  const shoff = 64 + 56 + names.length;
  ehdr.writeBigUInt64LE(BigInt(shoff), 0x28);
  ehdr.writeUInt16LE(64, 0x34);
  ehdr.writeUInt16LE(56, 0x36);
  ehdr.writeUInt16LE(1, 0x38);
  ehdr.writeUInt16LE(64, 0x3a);
  ehdr.writeUInt16LE(options.go ? 3 : 2, 0x3c); // null, .shstrtab[, .go.buildinfo]
  ehdr.writeUInt16LE(1, 0x3e);
  const phdr = Buffer.alloc(56);
  phdr.writeUInt32LE(options.interp ? 3 : 1, 0); // PT_INTERP or PT_LOAD
  const sh = Buffer.alloc(64 * 3);
  sh.writeUInt32LE(1, 64); // .shstrtab's name
  sh.writeBigUInt64LE(BigInt(64 + 56), 64 + 0x18);
  sh.writeBigUInt64LE(BigInt(names.length), 64 + 0x20);
  sh.writeUInt32LE(11, 128); // .go.buildinfo's name
  writeFileSync(file, Buffer.concat([ehdr, phdr, names, options.go ? sh : sh.subarray(0, 128)]));
  chmodSync(file, 0o755);
  return file;
}

describe("clock: node programs libfaketime cannot reach", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "elf-"));

  it("tells static, Go and dynamic executables and scripts apart", () => {
    const stat = fakeElf(path.join(dir, "static"));
    const go = fakeElf(path.join(dir, "go"), { interp: true, go: true });
    const dyn = fakeElf(path.join(dir, "dyn"), { interp: true });
    expect(elfFacts(stat)).toEqual({ interpreter: false, go: false });
    expect(elfFacts(go)).toEqual({ interpreter: true, go: true });
    expect(elfFacts(dyn)).toEqual({ interpreter: true, go: false });
    expect(elfFacts(process.execPath)).toEqual({ interpreter: true, go: false });
    expect(faketimeUnreachable(stat)).toMatch(/statically linked executable \(no PT_INTERP/);
    expect(faketimeUnreachable(go)).toMatch(/is a Go program: it reads the clock through the vDSO/);
    expect(faketimeUnreachable(dyn)).toBeUndefined();
    expect(faketimeUnreachable(process.execPath)).toBeUndefined();
    const script = path.join(dir, "script");
    writeFileSync(script, `#!${stat} --flag\n`);
    expect(faketimeUnreachable(script)).toMatch(/statically linked/);
    writeFileSync(script, "#!/usr/bin/env node\n");
    expect(faketimeUnreachable(script)).toBeUndefined();
  });

  it("--nemesis clock with a static node program: exit 3 at start-up, one line naming it", () => {
    const stat = fakeElf(path.join(dir, "my-node"));
    const descriptor = path.join(dir, "static.yaml");
    writeFileSync(
      descriptor,
      `name: static\nprotocol: http-kv\nlocal:\n  command: ${stat}\n  args: ["{id}"]\n`,
    );
    const store = mkdtempSync(path.join(tmpdir(), "elf-store-"));
    const r = runCli([
      "test",
      "--runtime",
      "local",
      "--backend",
      descriptor,
      "--nemesis",
      "clock",
      "--store",
      store,
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n").at(-1)).toBe(
      `paxos-harness: --nemesis clock: the node program ${stat} is a statically linked executable (no PT_INTERP in its ELF header): libfaketime, preloaded by the dynamic loader, cannot reach it`,
    );
    expect(existsSync(path.join(store, "latest"))).toBe(false);
  });
});
