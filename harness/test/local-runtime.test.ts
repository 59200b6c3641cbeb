// The local runtime with the memory backend: start, answer, kill and restart, pause and resume,
// stop leaving no process; a node that cannot start is named with the end of its log. As root
// each node is in a network namespace of its own (10.214.S.i); without namespaces (not root, or
// turned off) on its own loopback address, with kill, pause and clock only.

import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryBackend } from "../backends/index.js";
import { Verifier } from "../nemesis/verify.js";
import { httpKvProtocol } from "../protocols/http-kv.js";
import { LocalRuntime, localNodeSpecs } from "../runtime/local.js";
import type { Backend, NodeHandle } from "../types.js";
import { get, gone, put, randomSubnet, request, runContext, tempStore } from "./local-helpers.js";

const SUBNET = randomSubnet();

describe("local runtime (memory backend, 3 nodes)", () => {
  const store = tempStore();
  const run = runContext(store);
  const runtime = new LocalRuntime();
  let nodes: NodeHandle[] = [];
  const pids: number[] = [];

  beforeAll(async () => {
    const specs = await localNodeSpecs(3, run.dir, { subnet: SUBNET });
    const started = Date.now();
    nodes = await runtime.start(specs, memoryBackend(), run);
    console.log(`3 memory nodes answer /status after ${Date.now() - started} ms`);
    pids.push(...runtime.pids().values());
  });
  afterAll(() => runtime.stop());

  it("puts each node on its own address (its namespace's, as root), with its log and data dir in the run", () => {
    const s = runtime.fabric?.subnet;
    const expected = s === undefined ? `127.0.${SUBNET}` : `10.214.${s}`;
    if (process.getuid?.() === 0) expect(s).toBeDefined();
    expect(nodes.map((n) => n.spec.host)).toEqual([1, 2, 3].map((i) => `${expected}.${i}`));
    for (const n of nodes) expect(n.url).toBe(`http://${n.spec.host}:${n.spec.httpPort}`);
    for (const n of nodes) {
      expect(n.spec.dataDir).toBe(path.join(run.dir, "data", n.spec.id));
      expect(readFileSync(path.join(run.dir, "nodes", `${n.spec.id}.log`), "utf8")).toContain(
        "listening",
      );
    }
    expect(pids).toHaveLength(3);
  });

  it("serves the client protocol on every node, n2 and n3 through n1", async () => {
    const [n1, n2, n3] = nodes as [NodeHandle, NodeHandle, NodeHandle];
    expect((await put(n2, "k", 1)).status).toBe(200);
    expect(JSON.parse((await get(n3, "k")).body)).toEqual({ value: 1 });
    expect((await request(`${n1.url}/kv/k/cas`, "POST", { from: 2, to: 3 })).status).toBe(409);
    expect((await request(`${n3.url}/kv/k/cas`, "POST", { from: 1, to: 3 })).status).toBe(200);
    expect(JSON.parse((await get(n1, "k")).body)).toEqual({ value: 3 });
    expect((await get(n2, "absent")).status).toBe(404);
    const status = JSON.parse((await request(`${n2.url}/status`, "GET", undefined)).body);
    expect(status).toMatchObject({ id: "n2", role: "follower", leader: "n1" });
  });

  it("kills a node by PID and restarts it serving from the same data dir", async () => {
    const n3 = nodes[2] as NodeHandle;
    const old = runtime.pids().get("n3") as number;
    const t0 = Date.now();
    await runtime.killer.kill("n3");
    const killMs = Date.now() - t0;
    expect(gone(old)).toBe(true);
    expect((await get(n3, "k", 500)).status).toBe(0);
    const t1 = Date.now();
    await runtime.killer.restart("n3");
    console.log(`kill ${killMs} ms, restart until /status answers ${Date.now() - t1} ms`);
    const now = runtime.pids().get("n3") as number;
    expect(now).not.toBe(old);
    pids.push(now);
    expect(JSON.parse((await get(n3, "k")).body)).toEqual({ value: 3 }); // n1 kept it
    expect(
      readFileSync(path.join(run.dir, "nodes", "n3.log"), "utf8").match(/listening/g),
    ).toHaveLength(2);
  });

  it("a killed and restarted leader (n1) keeps what it acknowledged, from its data dir", async () => {
    await runtime.killer.kill("n1");
    expect((await get(nodes[1] as NodeHandle, "k")).status).toBe(503);
    await runtime.killer.restart("n1");
    pids.push(runtime.pids().get("n1") as number);
    expect(JSON.parse((await get(nodes[1] as NodeHandle, "k")).body)).toEqual({ value: 3 });
  });

  it("pauses a node (it stops answering) and resumes it", async () => {
    const n2 = nodes[1] as NodeHandle;
    await runtime.pauser.pause("n2");
    expect((await get(n2, "k", 500)).status).toBe(0);
    await runtime.pauser.resume("n2");
    expect((await get(n2, "k")).status).toBe(200);
  });

  it("stops every node it started, pausing first does not matter, and is idempotent", async () => {
    await runtime.pauser.pause("n1");
    await runtime.stop();
    await runtime.stop();
    for (const pid of pids) expect(gone(pid), `pid ${pid}`).toBe(true);
    expect(runtime.pids().size).toBe(0);
  });
});

describe("local runtime: failures", () => {
  it("names a node that exits before answering, with the end of its log", async () => {
    const store = tempStore();
    const run = runContext(store);
    const failing: Backend = {
      name: "failing",
      protocol: httpKvProtocol(),
      localCommand: (node) => ({
        command: process.execPath,
        args: ["-e", `console.error("cannot open ${node.dataDir}: boom"); process.exit(3)`],
      }),
    };
    const runtime = new LocalRuntime();
    const specs = await localNodeSpecs(2, run.dir, { subnet: SUBNET });
    await expect(runtime.start(specs, failing, run)).rejects.toThrow(
      /node n\d exited before it was ready.*\n.*boom/,
    );
    expect(runtime.pids().size).toBe(0);
  });

  it("names a node that never answers, after the start timeout", async () => {
    const store = tempStore();
    const run = runContext(store);
    const silent: Backend = {
      name: "silent",
      protocol: httpKvProtocol(),
      localCommand: () => ({
        command: process.execPath,
        args: ["-e", "console.log('thinking'); setInterval(() => {}, 1000)"],
      }),
    };
    const runtime = new LocalRuntime({ startTimeoutMs: 1000 });
    const specs = await localNodeSpecs(1, run.dir, { subnet: SUBNET });
    await expect(runtime.start(specs, silent, run)).rejects.toThrow(
      /node n1 did not answer GET http:\/\/[\d.]+:\d+\/status within 1000 ms.*\n.*thinking/s,
    );
  });

  it("the broken memory backend serves stale reads (not linearizable)", async () => {
    const store = tempStore();
    const run = runContext(store);
    const runtime = new LocalRuntime();
    const specs = await localNodeSpecs(2, run.dir, { subnet: SUBNET });
    const [a, b] = (await runtime.start(specs, memoryBackend({ broken: true }), run)) as [
      NodeHandle,
      NodeHandle,
    ];
    try {
      expect((await put(a, "x", 1)).status).toBe(200);
      expect((await get(b, "x")).status).toBe(404); // stale: not replicated yet
      await new Promise((r) => setTimeout(r, 600));
      expect(JSON.parse((await get(b, "x")).body)).toEqual({ value: 1 });
    } finally {
      await runtime.stop();
    }
  });
});

describe("local runtime without network namespaces (loopback addresses)", () => {
  it("offers kill and pause but no partition or loss, saying why; nodes on 127.0.X.i", async () => {
    const store = tempStore();
    const run = runContext(store);
    const runtime = new LocalRuntime({ namespaces: false });
    const caps = await runtime.capabilities();
    expect(caps.partition).toEqual({
      ok: false,
      why: "partition needs a network namespace per node: namespaces are turned off for this runtime",
    });
    expect(caps.loss.ok).toBe(false);
    expect(caps.kill).toEqual({ ok: true });
    expect(caps.pause).toEqual({ ok: true });
    const specs = await runtime.nodeSpecs(2, run.dir);
    for (const s of specs) expect(s.host).toMatch(/^127\.0\.\d+\.\d$/);
    const nodes = await runtime.start(specs, memoryBackend(), run);
    try {
      expect(runtime.fabric).toBeUndefined();
      expect((await put(nodes[1] as NodeHandle, "k", 1)).status).toBe(200);
      // Verified as every pause and kill is (signals land asynchronously: it waits a little).
      const verify = new Verifier(runtime.probe);
      await runtime.pauser.pause("n2");
      expect(await verify.state(["n2"], "stopped", () => "not stopped")).toMatchObject({
        verified: true,
        states: { n2: "stopped" },
      });
      await runtime.pauser.resume("n2");
      await runtime.killer.kill("n2");
      expect(await runtime.probe.processState("n2")).toBe("gone");
      await expect(runtime.probe.reach([["n1", "n2"]], 100)).rejects.toThrow(
        "the nodes do not run in network namespaces",
      );
    } finally {
      await runtime.stop();
    }
  });
});
