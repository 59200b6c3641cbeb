// Network and clock faults of the local runtime on a live memory cluster: one network
// namespace per node, partitions, cuts and loss as iptables rules inside the namespaces (and
// nothing of ours left after stop), the bridge working with the Docker engine's FORWARD DROP,
// libfaketime skew inside the namespaces.

import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryBackend } from "../backends/index.js";
import { formatOffset } from "../runtime/faketime.js";
import { NO_NETEM } from "../runtime/iptables.js";
import { LocalRuntime, localNodeSpecs, NAMESPACE_CHAIN } from "../runtime/local.js";
import type { NodeHandle } from "../types.js";
import {
  get,
  namespaceRules,
  needRoot,
  netnsObjectsOf,
  put,
  randomSubnet,
  request,
  runContext,
  tempStore,
} from "./local-helpers.js";

const SUBNET = randomSubnet();
const root = needRoot("the local runtime's network faults");

async function nodeTime(node: NodeHandle): Promise<number> {
  const r = await request(`${node.url}/status`, "GET", undefined);
  return (JSON.parse(r.body) as { time: number }).time - Date.now();
}

describe.runIf(root)("network namespaces and iptables faults between local nodes", () => {
  const store = tempStore();
  const run = runContext(store);
  const runtime = new LocalRuntime({ subnet: SUBNET });
  let nodes: NodeHandle[];
  let n1: NodeHandle;
  let n2: NodeHandle;
  const drops = () =>
    (runtime.fabric?.nodes ?? []).flatMap((n) =>
      namespaceRules(n.namespace).filter((l) => l.includes("DROP")),
    );

  beforeAll(async () => {
    const specs = await localNodeSpecs(3, run.dir, { subnet: SUBNET });
    nodes = await runtime.start(specs, memoryBackend(), run);
    [n1, n2] = nodes as [NodeHandle, NodeHandle];
    expect((await put(n1, "k", 1)).status).toBe(200);
  });
  afterAll(() => runtime.stop());

  it("puts each node in a namespace of its own on 10.214.S.i, joined by a bridge of ours", () => {
    const fabric = runtime.fabric;
    expect(fabric).toBeDefined();
    const s = fabric?.subnet as number;
    expect(nodes.map((n) => n.spec.host)).toEqual([1, 2, 3].map((i) => `10.214.${s}.${i}`));
    const mine = netnsObjectsOf(process.pid);
    expect(mine.namespaces.sort()).toEqual(fabric?.nodes.map((n) => n.namespace).sort());
    for (const ns of mine.namespaces) expect(ns).toMatch(/^paxos-\d+-\d+-\d+-n\d$/);
    expect(mine.interfaces.sort()).toEqual(
      [`pxb${s}`, ...[1, 2, 3].map((i) => `pxv${s}-${i}`)].sort(),
    );
    // The root chain: jumped to first from FORWARD (and INPUT from our bridge).
    expect(mine.chains).toContain(`-N ${fabric?.chain}`);
    expect(mine.chains).toContain(`-A FORWARD -j ${fabric?.chain}`);
    expect(mine.chains).toContain(`-A INPUT -i pxb${s} -j ${fabric?.chain}`);
    for (const n of fabric?.nodes ?? []) {
      expect(namespaceRules(n.namespace)).toEqual([
        `-N ${NAMESPACE_CHAIN}`,
        `-A OUTPUT -j ${NAMESPACE_CHAIN}`,
      ]);
    }
  });

  it("bridges node to node even under the Docker engine's FORWARD policy DROP", async () => {
    const forward = execFileSync("iptables", ["-w", "-S", "FORWARD"], { encoding: "utf8" });
    const brNetfilter = (() => {
      try {
        return execFileSync("sysctl", ["-n", "net.bridge.bridge-nf-call-iptables"], {
          encoding: "utf8",
        }).trim();
      } catch {
        return "absent";
      }
    })();
    console.log(
      `FORWARD policy: ${/^-P FORWARD (\S+)/m.exec(forward)?.[1]}, bridge-nf-call-iptables: ${brNetfilter}`,
    );
    const probes = await runtime.probe.reach(
      [
        ["n1", "n2"],
        ["n2", "n3"],
        ["n3", "n1"],
      ],
      1000,
    );
    expect(probes.map((p) => p.outcome)).toEqual(["connected", "connected", "connected"]);
    expect(JSON.parse((await get(n2, "k")).body)).toEqual({ value: 1 }); // n2 -> n1 -> n2
  });

  it("{n1} | {n2, n3}: n2 cannot reach n1 (503 definite), n1 still answers, heal restores", async () => {
    await runtime.network.partition([["n1"], ["n2", "n3"]]);
    expect(drops()).toHaveLength(4); // n1 drops to n2 and n3; n2 and n3 drop to n1
    const cut = await get(n2, "k");
    expect(cut.status).toBe(503);
    expect(JSON.parse(cut.body)).toMatchObject({ definite: true });
    expect(JSON.parse((await get(n1, "k")).body)).toEqual({ value: 1 });
    await runtime.network.heal();
    expect(JSON.parse((await get(n2, "k")).body)).toEqual({ value: 1 });
  });

  it("keys rules by the peer's address only, in the sender's namespace", async () => {
    await runtime.network.cut([["n1", "n3"]]);
    const [p1, , p3] = runtime.fabric?.nodes ?? [];
    expect(namespaceRules(p1?.namespace as string)).toContain(
      `-A ${NAMESPACE_CHAIN} -d ${p3?.address}/32 -j DROP`,
    );
    expect(namespaceRules(p3?.namespace as string)).toContain(
      `-A ${NAMESPACE_CHAIN} -d ${p1?.address}/32 -j DROP`,
    );
    await runtime.network.cut([]);
  });

  it("cuts exact links (both ways) and heals only the partition, not a loss", async () => {
    await runtime.network.cut([["n1", "n3"]]);
    await runtime.network.loss(["n2"], 0.5);
    expect(drops()).toHaveLength(4);
    await runtime.network.cut([]);
    expect(drops()).toHaveLength(2);
    await runtime.network.loss(["n2"], 0);
    expect(drops()).toHaveLength(0);
  });

  it("loss 1.0 from n2 drops everything it sends to the others; heal restores", async () => {
    await runtime.network.loss(["n2"], 1);
    expect(drops().filter((l) => l.includes("--probability"))).toHaveLength(2);
    expect((await get(n2, "k")).status).toBe(503);
    await runtime.network.heal();
    expect((await get(n2, "k")).status).toBe(200);
  });

  it("rejects delay saying why, and bad arguments naming them", async () => {
    await expect(runtime.network.delay(["n1"], 50)).rejects.toThrow(NO_NETEM);
    await expect(runtime.network.partition([["n1"], ["n9"]])).rejects.toThrow("no node n9");
    await expect(runtime.network.loss(["n1"], 2)).rejects.toThrow("not between 0 and 1");
  });

  it("after stop, no namespace, interface, chain or process of ours is left", async () => {
    await runtime.network.partition([["n1", "n2"], ["n3"]]);
    const pids = [...runtime.pids().values(), ...runtime.agentPids().values()];
    expect(pids).toHaveLength(6);
    const began = Date.now();
    await runtime.stop();
    console.log(`stop with 3 namespaces: ${Date.now() - began} ms`);
    expect(netnsObjectsOf(process.pid)).toEqual({ namespaces: [], interfaces: [], chains: [] });
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe("libfaketime clock skew", () => {
  it("formats offsets in libfaketime's syntax", () => {
    expect([0, 7_200_000, -30_500, 1].map(formatOffset)).toEqual([
      "+0",
      "+7200s",
      "-30.5s",
      "+0.001s",
    ]);
  });

  it("moves a skewed node's Date.now() (in its namespace) by the offset while the others stay", async () => {
    const store = tempStore();
    const run = runContext(store);
    const runtime = new LocalRuntime({ subnet: SUBNET });
    expect((await runtime.capabilities()).clock).toEqual({ ok: true });
    const specs = await localNodeSpecs(3, run.dir, { subnet: SUBNET });
    const nodes = await runtime.start(specs, memoryBackend(), run);
    try {
      const [n1, n2, n3] = nodes as [NodeHandle, NodeHandle, NodeHandle];
      expect(Math.abs(await nodeTime(n2))).toBeLessThan(1000);
      await runtime.clock.skew("n2", 2 * 3600_000);
      // libfaketime re-reads the file every second (FAKETIME_CACHE_DURATION=1).
      const deadline = Date.now() + 5000;
      while (Math.abs((await nodeTime(n2)) - 7_200_000) > 1000 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(Math.abs((await nodeTime(n2)) - 7_200_000)).toBeLessThan(1000);
      expect(Math.abs(await nodeTime(n1))).toBeLessThan(1000);
      expect(Math.abs(await nodeTime(n3))).toBeLessThan(1000);
      await runtime.clock.reset();
      while (Math.abs(await nodeTime(n2)) > 1000 && Date.now() < deadline + 5000) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(Math.abs(await nodeTime(n2))).toBeLessThan(1000);
      await expect(runtime.clock.skew("n7", 1)).rejects.toThrow("no node n7");
    } finally {
      await runtime.stop();
    }
  });
});
