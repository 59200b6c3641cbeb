// Nemeses: partition shapes and target selection as pure functions, the fault plan, and every
// kind started and stopped against a live 5-node memory cluster on the local runtime.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomOf } from "../../contracts/random.js";
import { memoryBackend } from "../backends/index.js";
import { makeNemeses } from "../nemesis/index.js";
import {
  bridge,
  isolateOne,
  majoritiesRing,
  majorityMinority,
  randomHalves,
  reachable,
  ringWithoutLeader,
} from "../nemesis/shapes.js";
import { pickTargets, selectTargets } from "../nemesis/targets.js";
import { LocalRuntime, localNodeSpecs } from "../runtime/local.js";
import type { ClusterView, NodeHandle } from "../types.js";
import { NEMESIS_KINDS } from "../types.js";
import {
  get,
  gone,
  namespaceRules,
  needRoot,
  randomSubnet,
  runContext,
  tempStore,
  view,
} from "./local-helpers.js";

const IDS = ["n1", "n2", "n3", "n4", "n5"];
const sorted = (xs: string[][]) => xs.map((g) => [...g].sort()).sort((a, b) => a.length - b.length);

describe("partition shapes (5 nodes)", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const random = randomOf(seed, "test");
    it(`seed ${seed}`, () => {
      const halves = randomHalves(IDS, random);
      expect(halves.groups?.map((g) => g.length)).toEqual([2, 3]);
      expect(halves.links).toHaveLength(6);
      expect(
        sorted(halves.groups ?? [])
          .flat()
          .sort(),
      ).toEqual(IDS);

      const one = isolateOne(IDS, random);
      expect(one.groups?.map((g) => g.length)).toEqual([1, 4]);
      expect(one.links).toHaveLength(4);

      const mm = majorityMinority(IDS, random, "n4");
      expect(mm.groups?.[0]).toContain("n4");
      expect(mm.groups?.map((g) => g.length)).toEqual([2, 3]);

      const b = bridge(IDS, random);
      const middle = b.bridge as string;
      expect(b.groups?.map((g) => g.length)).toEqual([2, 2]);
      expect(reachable(middle, IDS, b.links).sort()).toEqual(IDS); // the bridge sees everyone
      for (const id of b.groups?.flat() ?? []) expect(reachable(id, IDS, b.links)).toHaveLength(3);
      expect(b.links).toHaveLength(4);

      const ring = majoritiesRing(IDS, random);
      expect(ring.links).toHaveLength(5);
      const views = IDS.map((id) => reachable(id, IDS, ring.links).sort().join(","));
      for (const v of views) expect(v.split(",")).toHaveLength(3); // a majority each
      expect(new Set(views).size).toBe(5); // and no two the same
      // Each node sees exactly its two ring neighbours.
      const r = ring.ring as string[];
      r.forEach((id, i) => {
        const want = [r[(i + 4) % 5], id, r[(i + 1) % 5]].sort().join(",");
        expect(reachable(id, IDS, ring.links).sort().join(",")).toBe(want);
      });
    });
  }

  it("majorities ring: every node sees a distinct majority for 4 to 9 nodes", () => {
    for (let n = 4; n <= 9; n++) {
      const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
      const ring = majoritiesRing(ids, randomOf(n, "test"));
      const views = ids.map((id) => reachable(id, ids, ring.links).sort().join(","));
      for (const v of views)
        expect(v.split(",").length).toBeGreaterThanOrEqual(Math.floor(n / 2) + 1);
      expect(new Set(views).size).toBe(n);
    }
  });
});

describe("ring-without-leader", () => {
  it("5 nodes: the leader alone, the others in a square with its diagonals cut", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const p = ringWithoutLeader(IDS, randomOf(seed, "test"), "n3");
      expect(p.loner).toBe("n3");
      expect(reachable("n3", IDS, p.links)).toEqual(["n3"]);
      const r = p.ring as string[];
      expect([...r].sort()).toEqual(["n1", "n2", "n4", "n5"]);
      r.forEach((id, i) => {
        // itself and its two neighbours: a majority of 5, and not the node across the square
        const want = [r[(i + 3) % 4], id, r[(i + 1) % 4]].sort().join(",");
        expect(reachable(id, IDS, p.links).sort().join(",")).toBe(want);
      });
      expect(p.links).toHaveLength(4 + 2);
    }
  });

  it("every ring node sees a majority of the cluster, for 3 to 9 nodes; no leader: a random loner", () => {
    for (let n = 3; n <= 9; n++) {
      const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
      const p = ringWithoutLeader(ids, randomOf(n, "test"));
      expect(ids).toContain(p.loner);
      expect(reachable(p.loner as string, ids, p.links)).toEqual([p.loner]);
      for (const id of p.ring as string[]) {
        expect(reachable(id, ids, p.links).length).toBeGreaterThanOrEqual(Math.floor(n / 2) + 1);
      }
      // 3 nodes: the two others still see each other (only the loner's links are cut).
      if (n === 3) expect(p.links).toHaveLength(2);
    }
  });
});

describe("target selection", () => {
  const random = randomOf(7, "test");
  it("one, minority, majority, all, leader", () => {
    for (const [n, minority, majority] of [
      [3, 1, 2],
      [4, 1, 3],
      [5, 2, 3],
      [7, 3, 4],
    ] as const) {
      const ids = IDS.concat(["n6", "n7"]).slice(0, n);
      expect(selectTargets("one", ids, random)).toHaveLength(1);
      const min = selectTargets("minority", ids, random);
      expect(min).toHaveLength(minority);
      expect(new Set(min).size).toBe(minority);
      expect(selectTargets("majority", ids, random)).toHaveLength(majority);
      expect(selectTargets("all", ids, random)).toEqual(ids);
    }
    expect(selectTargets("leader", IDS, random, "n3")).toEqual(["n3"]);
    expect(selectTargets("leader", IDS, random, undefined)).toEqual([]);
    expect(selectTargets("leader", IDS, random, "n9")).toEqual([]);
  });

  it("a leader target with no leader known falls back to one node, and says so", async () => {
    const nodes: NodeHandle[] = IDS.map((id) => ({
      spec: { id, host: "127.0.0.1", httpPort: 1, peerPort: 2, dataDir: "/x" },
      url: "http://127.0.0.1:1",
    }));
    const cluster = (leader: string | undefined, answering = IDS): ClusterView => ({
      nodes,
      runtime: {} as ClusterView["runtime"],
      leader: async () => leader,
      answering: async () => [...answering],
      random: randomOf(5, "test"),
    });
    const none = await pickTargets("leader", cluster(undefined));
    expect(none.nodes).toHaveLength(1);
    expect(none).toMatchObject({ target: "leader", leader: null, fallback: "one" });
    const known = await pickTargets("leader", cluster("n2"));
    expect(known).toEqual({ target: "leader", nodes: ["n2"], leader: "n2" });
    // A follower answers and does not lead: with n1 paused (silent) and n2 leading, only n3.
    for (let i = 0; i < 20; i++) {
      const f = await pickTargets("follower", cluster("n2", ["n2", "n3"]));
      expect(f).toEqual({ target: "follower", nodes: ["n3"], leader: "n2" });
    }
    const lone = await pickTargets("follower", cluster("n2", ["n2"]));
    expect(lone).toMatchObject({ target: "follower", fallback: "one" });
    expect(lone.nodes).toHaveLength(1);
  });
});

const root = needRoot("the live nemesis tests (iptables)");

describe.runIf(root)("every nemesis kind against a live 5-node memory cluster", () => {
  const store = tempStore();
  const run = runContext(store);
  const runtime = new LocalRuntime();
  let nodes: NodeHandle[] = [];
  let cluster: ClusterView;

  beforeAll(async () => {
    const specs = await localNodeSpecs(5, run.dir, { subnet: randomSubnet() });
    const started = Date.now();
    // Every kind is made below: power needs the run to say so (lazyfs data folders).
    nodes = await runtime.start(specs, memoryBackend(), { ...run, faults: NEMESIS_KINDS });
    console.log(`5 memory nodes answer /status after ${Date.now() - started} ms`);
    cluster = view(nodes, runtime, 11);
  });
  afterAll(() => runtime.stop());

  const drops = () =>
    (runtime.fabric?.nodes ?? []).flatMap((n) =>
      namespaceRules(n.namespace).filter((l) => l.includes("DROP")),
    ).length;

  it("refuses delay up front, naming the nemesis and the reason", async () => {
    await expect(makeNemeses(["delay"], runtime)).rejects.toThrow(
      "nemesis delay: delay needs the kernel's sch_netem, which this kernel lacks",
    );
  });

  it("partition: each shape cuts its links, stop heals them", async () => {
    for (const shape of [
      "random-halves",
      "isolate-one",
      "majority-minority",
      "bridge",
      "majorities-ring",
      "ring-without-leader",
    ] as const) {
      const [nemesis] = await makeNemeses(["partition"], runtime, { partition: { shape } });
      const value = (await nemesis?.start(cluster)) as {
        shape: string;
        cut: string[][];
        groups?: string[][];
      };
      expect(value.shape).toBe(shape);
      expect(drops()).toBe(value.cut.length * 2);
      // Verified: every cut link silent both ways, every kept one connecting both ways.
      expect(value).toMatchObject({
        verified: true,
        probes: { cut: value.cut.length * 2, kept: 20 - value.cut.length * 2 },
      });
      if (shape === "majority-minority") expect(value.groups?.[0]).toContain("n1"); // the leader
      expect(await nemesis?.stop(cluster)).toMatchObject({
        healed: true,
        verified: true,
        probes: { connected: 20 },
      });
      expect(drops()).toBe(0);
    }
  });

  it("kill: kills the targets, stop restarts them serving", async () => {
    const [nemesis] = await makeNemeses(["kill"], runtime, { kill: { target: "minority" } });
    const before = runtime.pids();
    const value = (await nemesis?.start(cluster)) as { target: string; killed: string[] };
    expect(value.target).toBe("minority");
    expect(value.killed).toHaveLength(2);
    for (const id of value.killed) expect(gone(before.get(id) as number)).toBe(true);
    expect(value).toMatchObject({
      verified: true,
      states: { [value.killed[0] as string]: "gone" },
    });
    expect(await nemesis?.stop(cluster)).toMatchObject({ restarted: value.killed, verified: true });
    for (const n of nodes) expect((await get(n, "x")).status).toBe(404);
  });

  it("kill the leader: n1 (from /status)", async () => {
    const [nemesis] = await makeNemeses(["kill"], runtime, { kill: { target: "leader" } });
    expect(await nemesis?.start(cluster)).toMatchObject({
      target: "leader",
      leader: "n1",
      killed: ["n1"],
      verified: true,
      states: { n1: "gone" },
    });
    expect((await get(nodes[1] as NodeHandle, "x")).status).toBe(503);
    await nemesis?.stop(cluster);
    expect((await get(nodes[1] as NodeHandle, "x")).status).toBe(404);
  });

  it("pause: the targets stop answering until stop", async () => {
    const [nemesis] = await makeNemeses(["pause"], runtime, { pause: { target: "one" } });
    const value = (await nemesis?.start(cluster)) as { paused: string[] };
    const node = nodes.find((n) => n.spec.id === value.paused[0]) as NodeHandle;
    expect((await get(node, "x", 300)).status).toBe(0);
    expect(value).toMatchObject({ verified: true, states: { [node.spec.id]: "stopped" } });
    expect(await nemesis?.stop(cluster)).toMatchObject({
      resumed: value.paused,
      verified: true,
      states: { [node.spec.id]: "running" },
    });
    expect((await get(node, "x")).status).toBe(404);
  });

  it("clock: skews the targets by offsets it records, stop resets them", async () => {
    const [nemesis] = await makeNemeses(["clock"], runtime, {
      clock: { target: "majority", maxSkewMs: 10_000 },
    });
    const value = (await nemesis?.start(cluster)) as { skew_ms: Record<string, number> };
    const offsets = Object.values(value.skew_ms);
    expect(offsets).toHaveLength(3);
    for (const ms of offsets) expect(Math.abs(ms)).toBeGreaterThanOrEqual(1000);
    expect(value).toMatchObject({ verified: true, faketime: "loaded" });
    expect(await nemesis?.stop(cluster)).toEqual({ reset: Object.keys(value.skew_ms) });
  });

  it("loss: drops from the targets, stop removes exactly its rules", async () => {
    const [nemesis] = await makeNemeses(["loss"], runtime, {
      loss: { target: "one", probability: 1 },
    });
    const value = (await nemesis?.start(cluster)) as { loss: number; nodes: string[] };
    expect(value.loss).toBe(1);
    expect(drops()).toBe(4);
    const target = value.nodes[0] as string;
    expect(value).toMatchObject({
      verified: true,
      datagrams: { [target]: { sent: 400, received: 0, expected: 0 } },
    });
    expect(await nemesis?.stop(cluster)).toMatchObject({
      healed: value.nodes,
      verified: true,
      datagrams: { sent: 200, received: 200 },
    });
    expect(drops()).toBe(0);
  });

  it("makes every supported kind; random targets and shapes describe themselves", async () => {
    const kinds = NEMESIS_KINDS.filter((k) => k !== "delay");
    const nemeses = await makeNemeses(kinds, runtime);
    expect(nemeses.map((n) => n.kind)).toEqual(kinds);
    for (const nemesis of nemeses) {
      const value = await nemesis.start(cluster);
      expect(value).toBeTypeOf("object");
      await nemesis.stop(cluster);
    }
    expect(drops()).toBe(0);
    for (const n of nodes) expect((await get(n, "x")).status).toBe(404);
  });
});
