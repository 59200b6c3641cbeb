// Network and clock faults of the local runtime on a live memory cluster: iptables partitions,
// loss and heal in a chain of ours (and nothing of ours left after stop), libfaketime skew.

import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryBackend } from "../backends/index.js";
import { formatOffset } from "../runtime/faketime.js";
import { IptablesNetwork, NO_NETEM } from "../runtime/iptables.js";
import { LocalRuntime, localNodeSpecs } from "../runtime/local.js";
import type { NodeHandle } from "../types.js";
import {
  get,
  needRoot,
  put,
  randomSubnet,
  request,
  runContext,
  tempStore,
} from "./local-helpers.js";

const SUBNET = randomSubnet();
const root = needRoot("the local runtime's network faults");

function rulesOf(chain: string): string[] {
  return execFileSync("iptables", ["-w", "-S"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(chain));
}

async function nodeTime(node: NodeHandle): Promise<number> {
  const r = await request(`${node.url}/status`, "GET", undefined);
  return (JSON.parse(r.body) as { time: number }).time - Date.now();
}

describe.runIf(root)("iptables partitions and loss between local nodes", () => {
  const store = tempStore();
  const run = runContext(store);
  const runtime = new LocalRuntime();
  const chain = runtime.network.chain;
  let n1: NodeHandle;
  let n2: NodeHandle;

  beforeAll(async () => {
    const specs = await localNodeSpecs(3, run.dir, { subnet: SUBNET });
    [n1, n2] = (await runtime.start(specs, memoryBackend(), run)) as [NodeHandle, NodeHandle];
    expect((await put(n1, "k", 1)).status).toBe(200);
  });
  afterAll(() => runtime.stop());

  it("creates a chain of ours, jumped to from OUTPUT for loopback only", () => {
    expect(chain).toMatch(/^PAXOS-HARNESS-\d+-\d+$/);
    expect(rulesOf(chain)).toEqual([`-N ${chain}`, `-A OUTPUT -o lo -j ${chain}`]);
  });

  it("{n1} | {n2, n3}: n2 cannot reach n1 (503 definite), n1 still answers, heal restores", async () => {
    await runtime.network.partition([["n1"], ["n2", "n3"]]);
    expect(rulesOf(chain).filter((l) => l.includes("DROP"))).toHaveLength(4);
    const cut = await get(n2, "k");
    expect(cut.status).toBe(503);
    expect(JSON.parse(cut.body)).toMatchObject({ definite: true });
    expect(JSON.parse((await get(n1, "k")).body)).toEqual({ value: 1 });
    await runtime.network.heal();
    expect(JSON.parse((await get(n2, "k")).body)).toEqual({ value: 1 });
  });

  it("cuts exact links (both ways) and heals only the partition, not a loss", async () => {
    await runtime.network.cut([["n1", "n3"]]);
    await runtime.network.loss(["n2"], 0.5);
    expect(rulesOf(chain).filter((l) => l.includes("DROP"))).toHaveLength(4);
    await runtime.network.cut([]);
    expect(rulesOf(chain).filter((l) => l.includes("DROP"))).toHaveLength(2);
    await runtime.network.loss(["n2"], 0);
    expect(rulesOf(chain).filter((l) => l.includes("DROP"))).toHaveLength(0);
  });

  it("loss 1.0 from n2 drops everything it sends to the others; heal restores", async () => {
    await runtime.network.loss(["n2"], 1);
    expect(rulesOf(chain).filter((l) => l.includes("--probability"))).toHaveLength(2);
    expect((await get(n2, "k")).status).toBe(503);
    await runtime.network.heal();
    expect((await get(n2, "k")).status).toBe(200);
  });

  it("rejects delay saying why, and bad arguments naming them", async () => {
    await expect(runtime.network.delay(["n1"], 50)).rejects.toThrow(NO_NETEM);
    await expect(runtime.network.partition([["n1"], ["n9"]])).rejects.toThrow("no node n9");
    await expect(runtime.network.loss(["n1"], 2)).rejects.toThrow("not between 0 and 1");
  });

  it("after stop, iptables shows no rule or chain of ours", async () => {
    await runtime.network.partition([["n1", "n2"], ["n3"]]);
    await runtime.stop();
    expect(rulesOf(chain)).toEqual([]);
  });

  it("a leftover chain (a run that crashed) is removed when the next run with it starts", async () => {
    const leftover = `PAXOS-HARNESS-T${process.pid}`;
    const crashed = new IptablesNetwork({ chain: leftover });
    const specs = await localNodeSpecs(2, run.dir, { subnet: SUBNET });
    crashed.setNodes(specs);
    await crashed.createChain();
    await crashed.partition([["n1"], ["n2"]]);
    expect(rulesOf(leftover).length).toBe(4); // chain, jump, two drops; then "crash"
    const next = new LocalRuntime({ chain: leftover });
    const run2 = runContext(store, "t2");
    const nodes = await next.start(
      await localNodeSpecs(2, run2.dir, { subnet: SUBNET }),
      memoryBackend(),
      run2,
    );
    try {
      expect(rulesOf(leftover)).toEqual([`-N ${leftover}`, `-A OUTPUT -o lo -j ${leftover}`]);
      expect((await get(nodes[1] as NodeHandle, "x")).status).toBe(404); // n2 reaches n1
    } finally {
      await next.stop();
    }
    expect(rulesOf(leftover)).toEqual([]);
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

  it("moves a skewed node's Date.now() by the offset while the others stay", async () => {
    const store = tempStore();
    const run = runContext(store);
    const runtime = new LocalRuntime();
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
