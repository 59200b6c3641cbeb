// Clusters of 3 and 5 REAL node processes on loopback (tsx node/main.ts), each on its own address,
// ports and temp data dir: the client protocol end to end, concurrent clients on every node
// checked for linearizability, and SIGKILL of the leader with a restart from its data dir.

import { afterEach, describe, expect, it } from "vitest";
import { checkOperations } from "../../checker/check.js";
import { kvModel } from "../../checker/models/register.js";
import { compareBallots } from "../core/index.js";
import { ProcCluster, sleep } from "./procs.js";
import { Workload } from "./workload.js";

let cluster: ProcCluster | undefined;

afterEach(async () => {
  await cluster?.destroy();
  cluster = undefined;
});

async function startCluster(nodes: number, args: string[] = []): Promise<ProcCluster> {
  cluster = await ProcCluster.create({ nodes, args });
  cluster.startAll();
  await cluster.waitForLeader();
  return cluster;
}

function check(w: Workload): void {
  const started = performance.now();
  const outcome = checkOperations(kvModel(), w.history, { timeout: 60 });
  const ms = Math.round(performance.now() - started);
  const what = `history of ${w.history.length} ops ${JSON.stringify(w.counts)}, checked in ${ms} ms`;
  expect(outcome.result, what).toBe("ok");
}

/** Waits until `id` has applied at least what the leader had chosen when we asked. */
async function waitCaughtUp(c: ProcCluster, id: string, leader: string): Promise<void> {
  const target = (await c.status(leader))?.commitIndex ?? 0;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await c.status(id);
    if (s && s.appliedIndex >= target) return;
    if (Date.now() > deadline) {
      throw new Error(`${id} stuck at ${s?.appliedIndex} below ${target}\n${c.tail()}`);
    }
    await sleep(100);
  }
}

describe("a 3-node cluster of real processes", () => {
  it("speaks the client protocol on every node (followers forward to the leader)", async () => {
    const c = await startCluster(3);
    for (const n of c.nodes) {
      const key = `proto-${n.id}`;
      expect((await c.http(n.id, "GET", `/kv/${key}`)).status).toBe(404);
      expect((await c.http(n.id, "PUT", `/kv/${key}`, { value: { a: [1, 2] } })).status).toBe(200);
      for (const m of c.nodes) {
        expect(await c.http(m.id, "GET", `/kv/${key}`)).toEqual({
          status: 200,
          body: { value: { a: [1, 2] } },
        });
      }
      const mismatch = await c.http(n.id, "POST", `/kv/${key}/cas`, { from: 7, to: 8 });
      expect(mismatch.status).toBe(409);
      expect(mismatch.body.value).toEqual({ a: [1, 2] });
      const cas = await c.http(n.id, "POST", `/kv/${key}/cas`, { from: { a: [1, 2] }, to: 3 });
      expect(cas.status).toBe(200);
      expect((await c.http(n.id, "GET", `/kv/${key}`)).body).toEqual({ value: 3 });
      expect(
        (await c.http(n.id, "POST", `/kv/absent-${n.id}/cas`, { from: 1, to: 2 })).status,
      ).toBe(409);
      expect((await c.http(n.id, "GET", "/nope")).status).toBe(400);
    }
    const s = await c.status("n1");
    expect(s).toMatchObject({ id: "n1", role: expect.any(String), leader: expect.any(String) });
    expect(s?.log.fsyncs).toBeGreaterThan(0);
    expect(s?.http.requests.write).toBeGreaterThan(0);
  });

  it("serves concurrent clients on every node, linearizably", async () => {
    const c = await startCluster(3);
    const w = new Workload(c, { clients: 12, keys: 4, pick: (i) => c.nodes[i % 3]!.id });
    await w.run(3000);
    expect(w.counts.ok).toBeGreaterThan(200);
    expect(w.counts.casMismatch).toBeGreaterThan(0);
    expect(w.counts.info).toBe(0);
    check(w);
  });

  it("survives SIGKILL of the leader; the restarted node keeps its promise and catches up", async () => {
    const c = await startCluster(3);
    const old = await c.waitForLeader();
    // Acknowledged writes that must survive everything below.
    for (let i = 0; i < 20; i++) {
      const node = c.nodes[i % 3]!.id;
      expect((await c.http(node, "PUT", `/kv/durable-${i}`, { value: i })).status).toBe(200);
    }
    const w = new Workload(c, {
      clients: 9,
      keys: 8,
      thinkMs: 10,
      pick: (i) => c.nodes[i % 3]!.id,
    });
    const running = w.run(7000);
    await sleep(1500);
    const before = (await c.status(old))?.promised;
    expect(before).toBeTruthy();
    await c.kill(old, "SIGKILL");
    const survivors = c.nodes.map((n) => n.id).filter((id) => id !== old);
    const next = await c.waitForLeader(20_000, survivors);
    expect(next).not.toBe(old);
    const okAtKill = w.counts.ok;
    await sleep(1500);
    // The cluster keeps serving without its old leader.
    expect(w.counts.ok).toBeGreaterThan(okAtKill + 20);
    c.start(old);
    let after: { round: number; node: string } | null | undefined;
    for (let i = 0; i < 100 && after === undefined; i++) {
      after = (await c.status(old))?.promised;
      if (after === undefined) await sleep(50);
    }
    // The promise survived the crash (it may only have grown since).
    expect(after).toBeTruthy();
    expect(compareBallots(after!, before!)).toBeGreaterThanOrEqual(0);
    await running;
    const leader = await c.waitForLeader();
    await waitCaughtUp(c, old, leader);
    for (let i = 0; i < 20; i++) {
      for (const n of c.nodes) {
        expect(await c.http(n.id, "GET", `/kv/durable-${i}`)).toEqual({
          status: 200,
          body: { value: i },
        });
      }
    }
    expect(w.counts.ok).toBeGreaterThan(200);
    // Snapshots were taken and the log compacted along the way.
    const ls = await c.status(leader);
    expect(ls?.snapshotIndex).toBeGreaterThan(0);
    expect(ls?.log.rewrites).toBeGreaterThan(0);
    check(w);
  });

  it("keeps every acknowledged write when all nodes are killed at once and restarted", async () => {
    const c = await startCluster(3, ["--tick-ms", "10"]);
    for (let i = 0; i < 30; i++) {
      const node = c.nodes[i % 3]!.id;
      expect((await c.http(node, "PUT", `/kv/all-${i}`, { value: `v${i}` })).status).toBe(200);
    }
    await Promise.all(c.nodes.map((n) => c.kill(n.id, "SIGKILL")));
    c.startAll();
    await c.waitForLeader();
    for (let i = 0; i < 30; i++) {
      expect((await c.http(c.nodes[(i + 1) % 3]!.id, "GET", `/kv/all-${i}`)).body).toEqual({
        value: `v${i}`,
      });
    }
  });

  it("stops cleanly on SIGTERM (exit 0) and recovers from its data dir", async () => {
    const c = await startCluster(3);
    expect((await c.http("n2", "PUT", "/kv/t", { value: 1 })).status).toBe(200);
    await c.kill("n2", "SIGTERM");
    expect(c.node("n2").exits.at(-1)).toEqual({ code: 0, signal: null });
    expect(c.node("n2").output.join("")).toContain('"msg":"stopped"');
    c.start("n2");
    await c.waitForLeader();
    expect((await c.http("n2", "GET", "/kv/t")).body).toEqual({ value: 1 });
  });
});

describe("a 5-node cluster of real processes", () => {
  it("loses its leader and a follower, keeps serving linearizably, and catches both up", async () => {
    const c = await startCluster(5);
    const old = await c.waitForLeader();
    const follower = c.nodes.find((n) => n.id !== old)!.id;
    const w = new Workload(c, {
      clients: 10,
      keys: 8,
      thinkMs: 10,
      pick: (i) => c.nodes[i % 5]!.id,
    });
    const running = w.run(7000);
    await sleep(1500);
    await Promise.all([c.kill(old, "SIGKILL"), c.kill(follower, "SIGKILL")]);
    const survivors = c.nodes.map((n) => n.id).filter((id) => id !== old && id !== follower);
    const next = await c.waitForLeader(20_000, survivors);
    expect(next).not.toBe(old);
    const okAtKill = w.counts.ok;
    await sleep(1500);
    expect(w.counts.ok).toBeGreaterThan(okAtKill + 20);
    c.start(old);
    c.start(follower);
    await running;
    const leader = await c.waitForLeader();
    await waitCaughtUp(c, old, leader);
    await waitCaughtUp(c, follower, leader);
    expect(w.counts.ok).toBeGreaterThan(200);
    check(w);
  });
});
