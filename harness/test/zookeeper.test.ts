// The ZooKeeper adapter: its error mapping, options and srvr parsing, the config its
// descriptor writes; then a real 3-node ensemble (Debian's zookeeper) on the local runtime:
// - the client's operations against it, and readiness and the leader from srvr;
// - without sync, under partitions that isolate a follower: invalid, with a stale read (a read
//   on the isolated follower of a value that a write acknowledged before it had replaced);
// - with sync, the same: the run completes with every fault verified (the verdict is
//   reported, not asserted: Jepsen found sync-then-read not strictly linearizable either).
// Skipped only when ZooKeeper is absent and PAXOS_REQUIRE_ZOOKEEPER is not 1 (CI sets it).

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ZOOKEEPER_JAR, zookeeperBackend } from "../backends/index.js";
import { writeOutcome, ZooKeeperClient, znodeOf } from "../client/zookeeper.js";
import { ZK, ZkSession } from "../client/zookeeper-session.js";
import { resolveConfig, type TestConfig } from "../config.js";
import { linksBetween } from "../nemesis/shapes.js";
import { Verifier } from "../nemesis/verify.js";
import { modeOf, zookeeperOptions } from "../protocols/zookeeper.js";
import { runTest } from "../runner.js";
import { LocalRuntime } from "../runtime/local.js";
import type { Invocation, Nemesis, NodeSpec, Runtime } from "../types.js";
import { needRoot, runContext, tempStore } from "./local-helpers.js";

/** Whether ZooKeeper's tests run: Debian's package is installed (else skip, or fail in CI). */
function zookeeperOrSkip(): boolean {
  if (existsSync(ZOOKEEPER_JAR) && existsSync("/usr/bin/java")) return true;
  if (process.env.PAXOS_REQUIRE_ZOOKEEPER === "1") {
    throw new Error(
      `PAXOS_REQUIRE_ZOOKEEPER=1 but ZooKeeper is not installed (${ZOOKEEPER_JAR}, /usr/bin/java): apt-get install zookeeper`,
    );
  }
  return false;
}

const haveZooKeeper = zookeeperOrSkip();
const real = haveZooKeeper && needRoot("the ZooKeeper ensemble's runs with partitions");
const figures: string[] = [];
afterAll(() => {
  if (figures.length > 0) console.log(`zookeeper figures:\n${figures.join("\n")}`);
});

describe("the zookeeper adapter", () => {
  it("maps ZooKeeper's errors on a write: refused before proposing = fail, the rest = info", () => {
    for (const code of [ZK.BAD_VERSION, ZK.NO_NODE, ZK.NODE_EXISTS, ZK.NO_AUTH, ZK.BAD_ARGUMENTS]) {
      expect(writeOutcome({ code, name: `E${code}` })).toEqual({ type: "fail", error: `E${code}` });
    }
    for (const code of [ZK.CONNECTION_LOSS, ZK.SESSION_EXPIRED, ZK.OPERATION_TIMEOUT, -1]) {
      expect(writeOutcome({ code, name: "E" }).type).toBe("info");
    }
  });

  it("takes options.sync (a boolean) and nothing else, one line naming the option", () => {
    expect(zookeeperOptions({})).toEqual({ sync: false });
    expect(zookeeperOptions({ sync: true })).toEqual({ sync: true });
    expect(() => zookeeperOptions({ sync: "yes" })).toThrow(
      /^options\.sync must be true or false$/,
    );
    expect(() => zookeeperOptions({ reads: "x" })).toThrow(
      /^options\.reads: zookeeper takes only sync$/,
    );
  });

  it("reads the Mode of a srvr answer; keys are znodes under the root", () => {
    const srvr =
      "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nMode: follower\nNode count: 5\n";
    expect(modeOf(srvr)).toBe("follower");
    expect(modeOf("This ZooKeeper instance is not currently serving requests\n")).toBeUndefined();
    expect(modeOf(undefined)).toBeUndefined();
    expect(znodeOf("r0")).toBe("/paxos-r0");
    expect(znodeOf("a/b")).toBe("/paxos-a%2Fb");
  });

  it.runIf(haveZooKeeper)(
    "its descriptor writes zoo.cfg (a server line per node, election port = peer port + 1) and myid",
    () => {
      const backend = zookeeperBackend("zookeeper.yaml");
      const cluster: NodeSpec[] = [1, 2, 3].map((i) => ({
        id: `n${i}`,
        host: `10.214.9.${i}`,
        httpPort: 8000,
        peerPort: 7000,
        dataDir: `/run/x/data/n${i}`,
      }));
      const cmd = backend.localCommand(cluster[1] as NodeSpec, cluster);
      expect(cmd.command).toBe("/usr/bin/java");
      expect(cmd.args).toContain("org.apache.zookeeper.server.quorum.QuorumPeerMain");
      expect(cmd.args.at(-1)).toBe("/run/x/data/n2/zoo.cfg");
      expect(cmd.args).toContain("-Xmx256m");
      const files = Object.fromEntries((cmd.files ?? []).map((f) => [f.path, f.text]));
      expect(files["/run/x/data/n2/myid"]).toBe("2\n");
      const cfg = (files["/run/x/data/n2/zoo.cfg"] ?? "").split("\n");
      expect(cfg).toEqual(
        expect.arrayContaining([
          "dataDir=/run/x/data/n2",
          "clientPort=8000",
          "clientPortAddress=10.214.9.2",
          "admin.enableServer=false",
          "server.1=10.214.9.1:7000:7001",
          "server.2=10.214.9.2:7000:7001",
          "server.3=10.214.9.3:7000:7001",
        ]),
      );
      expect(cfg.find((l) => l.startsWith("4lw.commands.whitelist="))).toMatch(/srvr/);
      expect(backend.startTimeoutMs).toBe(90_000);
      expect(zookeeperBackend("zookeeper-sync.yaml").name).toBe("zookeeper-sync");
    },
  );
});

describe.runIf(real)("a real ZooKeeper ensemble (local runtime, namespaces)", () => {
  it("serves the client's operations; ready and the leader come from srvr", async () => {
    const runtime = new LocalRuntime({ stopGraceMs: 5000 });
    const backend = zookeeperBackend("zookeeper-sync.yaml");
    const store = tempStore();
    const run = runContext(store);
    const nodes = await runtime.start(await runtime.nodeSpecs(3, run.dir), backend, run);
    try {
      // Right after the start a loaded machine may be slow to answer srvr: a few looks.
      let leader: string | undefined;
      for (let i = 0; i < 10 && leader === undefined; i++) {
        leader = await backend.protocol.leader(nodes);
      }
      expect(nodes.map((n) => n.spec.id)).toContain(leader);
      const follower = nodes.find((n) => n.spec.id !== leader) ?? nodes[0];
      if (follower === undefined) throw new Error("no node");
      expect(await backend.protocol.ready(follower, 2000)).toBe(true);
      const client = backend.protocol.client(follower, "c1");
      const op = (o: Invocation) => client.invoke(o, AbortSignal.timeout(20_000));
      expect(await op({ f: "read", key: "k" })).toEqual({ type: "ok", value: null });
      expect(await op({ f: "cas", key: "k", value: [1, 2] })).toMatchObject({ type: "fail" });
      expect(await op({ f: "write", key: "k", value: 1 })).toEqual({ type: "ok" });
      expect(await op({ f: "write", key: "k", value: 3 })).toEqual({ type: "ok" });
      expect(await op({ f: "cas", key: "k", value: [1, 2] })).toMatchObject({ type: "fail" });
      expect(await op({ f: "cas", key: "k", value: [3, 2] })).toEqual({ type: "ok" });
      expect(await op({ f: "read", key: "k" })).toEqual({ type: "ok", value: 2 });
      expect(await op({ f: "add", key: "s", value: 5 })).toEqual({ type: "ok" });
      expect(await op({ f: "add", key: "s", value: 6 })).toEqual({ type: "ok" });
      expect(await op({ f: "read-all", key: "s" })).toEqual({ type: "ok", value: [5, 6] });
      // Another node sees the writes (with sync: at once).
      const other = nodes.find((n) => n !== follower) ?? follower;
      const second = new ZooKeeperClient({
        sync: true,
        session: () =>
          new ZkSession(`${other.spec.host}:${other.spec.httpPort}`, {
            sessionTimeoutMs: 10_000,
            spinDelayMs: 500,
          }),
      });
      expect(await second.invoke({ f: "read", key: "k" }, AbortSignal.timeout(20_000))).toEqual({
        type: "ok",
        value: 2,
      });
      await second.close();
      await client.close();
      // The node's log is ZooKeeper's own output (stdout), not /var/log.
      const log = readFileSync(path.join(run.dir, "nodes", `${follower.spec.id}.log`), "utf8");
      expect(log).toMatch(/QuorumPeer/);
    } finally {
      await backend.protocol.close();
      await runtime.stop();
    }
  }, 150_000);

  for (const [name, descriptor] of [
    ["without sync", "zookeeper.yaml"],
    ["with sync", "zookeeper-sync.yaml"],
  ] as const) {
    it(`${name}, followers cut off from the leader: ${
      descriptor === "zookeeper.yaml" ? "invalid, a stale read" : "completes, faults verified"
    }`, async () => {
      const runtime = new LocalRuntime({ stopGraceMs: 5000 });
      const backend = zookeeperBackend(descriptor);
      const store = tempStore();
      const config = testConfig(store);
      const r = await runTest(config, {
        runtime,
        backend,
        nemeses: [isolateFollower(runtime)],
        nodeSpecs: (count, dir) => runtime.nodeSpecs(count, dir),
        out: () => {},
      });
      const history = readHistory(r.dir);
      const faults = r.results.faults.partition;
      expect(faults?.started ?? 0).toBeGreaterThan(0);
      expect(faults?.verified).toBe(faults?.started);
      const served = cutOffReads(history, config);
      const violating = r.results.violating_keys ?? [];
      const stale = served.filter((s) => s.key !== undefined && violating.includes(s.key));
      const verdict = { true: "valid", false: "INVALID", unknown: "unknown" }[
        String(r.results.valid)
      ];
      figures.push(
        `${backend.name} seed ${config.seed}: ${verdict}, violating keys ${violating.length}; ` +
          `ops ${JSON.stringify(r.results.ops)}; partitions ${faults?.started}; ` +
          `ok reads by cut-off followers ${served.length} (latest ${Math.max(-1, ...served.map((s) => s.afterCutMs))} ms after the cut), ` +
          `${stale.length} on violating keys` +
          (stale[0]
            ? ` (the first in partition ${stale[0].partition}, ${stale[0].afterCutMs} ms after the cut, at ${stale[0].atS} s)`
            : ""),
      );
      if (descriptor === "zookeeper.yaml") {
        // Stale: the violating keys were read on a follower cut off from the leader.
        expect(r.results.valid, JSON.stringify(r.results)).toBe(false);
        expect(stale.length).toBeGreaterThan(0);
      } else {
        // The verdict is reported (figures), not asserted: see the header.
        expect(r.code, JSON.stringify(r.results)).not.toBe(3);
        expect(r.results.ops.ok).toBeGreaterThan(0);
      }
    }, 180_000);
  }
});

/**
 * kv on 10 keys: the writes the cut-off follower's workers start end `info` (it cannot reach
 * the leader), and an `info` write of v may take effect at any later time, so it explains a
 * stale read of v on its key; with few keys and values 0..4 nearly every stale read is so
 * explained. 6 workers per node, partitions of 7 s (the follower notices after syncLimit =
 * 5 s), three of them.
 */
function testConfig(store: string): TestConfig {
  return resolveConfig({
    nodes: 3,
    workload: "kv",
    keys: 10,
    nemesis: "partition",
    "nemesis-interval": 14,
    "time-limit": 45,
    rate: 90,
    concurrency: 18,
    seed: Number(process.env.PAXOS_ZK_SEED ?? 1),
    store,
    recovery: 3,
    "op-timeout": 2,
    "check-timeout": 60,
  });
}

/**
 * partition, always of a follower: the leader (by srvr) stays with the majority, and one of
 * the other nodes is cut off from both. Verified as the partition nemesis verifies.
 */
function isolateFollower(runtime: Runtime): Nemesis {
  const network = runtime.network;
  if (network === undefined) throw new Error("the runtime has no network faults");
  const verify = new Verifier(runtime.probe);
  let active: string | undefined;
  return {
    kind: "partition",
    async start(cluster) {
      const ids = cluster.nodes.map((n) => n.spec.id);
      const leader = await cluster.leader();
      const followers = ids.filter((id) => id !== leader);
      const loner = followers[Math.floor(cluster.random() * followers.length)] as string;
      const groups = [[loner], ids.filter((id) => id !== loner)];
      const cut = linksBetween(ids, groups);
      await network.partition(groups);
      active = `${loner}|${groups[1]?.join(",")}`;
      return {
        shape: "isolate-follower",
        leader: leader ?? null,
        groups,
        cut,
        ...(await verify.cut(ids, cut, active)),
      };
    },
    async stop(cluster) {
      const ids = cluster.nodes.map((n) => n.spec.id);
      await network.partition([ids]);
      const name = active ?? "";
      active = undefined;
      return { healed: true, ...(await verify.healed(ids, name)) };
    },
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

function readHistory(dir: string): Line[] {
  return readFileSync(path.join(dir, "history.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);
}

/**
 * The ok reads served by a follower while it was cut off: invoked between a start-partition
 * (whose first group is the follower) and its stop, by a worker on it (worker i is on node
 * i mod n; process p is worker p mod concurrency). afterCutMs: how long after the cut;
 * partition: which one (1, 2, ...); atS: when, in seconds of the history.
 */
function cutOffReads(
  history: Line[],
  config: TestConfig,
): { key: string | undefined; afterCutMs: number; partition: number; atS: number }[] {
  const ids = Array.from({ length: config.nodes }, (_, i) => `n${i + 1}`);
  const nodeOf = (p: number) => ids[(p % config.concurrency) % config.nodes];
  const out: { key: string | undefined; afterCutMs: number; partition: number; atS: number }[] = [];
  let cut: { node: string; time: number } | undefined;
  let partitions = 0;
  const invoked = new Map<number, Line>();
  for (const l of history) {
    if (l.process === "nemesis") {
      const groups = (l.value as { groups?: string[][] } | undefined)?.groups;
      if (l.f === "start-partition" && groups?.[0]?.[0]) {
        cut = { node: groups[0][0], time: l.time };
        partitions++;
      }
      if (l.f === "stop-partition") cut = undefined;
      continue;
    }
    if (l.type === "invoke") {
      invoked.set(l.process, l);
      continue;
    }
    const start = invoked.get(l.process);
    if (l.f !== "read" || l.type !== "ok" || !start || !cut) continue;
    if (nodeOf(l.process) !== cut.node || start.time < cut.time) continue;
    out.push({
      key: l.key,
      afterCutMs: Math.round((start.time - cut.time) / 1e6),
      partition: partitions,
      atS: Math.round(start.time / 1e8) / 10,
    });
  }
  return out;
}
