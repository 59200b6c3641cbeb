import { describe, expect, it } from "vitest";
import type { Value } from "../../checker/history.js";
import { FaultTally } from "../fault-tally.js";
import { ComposedNemesis } from "../nemesis/compose.js";
import { awaitLeaderChange } from "../nemesis/leader-change.js";
import type { ClusterView, Nemesis, NodeId } from "../types.js";

/**
 * A cluster whose leader is `before` until `changeAtMs`, then `after`. The first look is slow
 * (`firstLookMs`: a paused node keeps it waiting), the later ones answer at once.
 */
function cluster(opts: {
  before?: NodeId;
  after?: NodeId;
  changeAtMs: number;
  firstLookMs?: number;
}): ClusterView {
  const t0 = performance.now();
  let looks = 0;
  const now = () => performance.now() - t0;
  return {
    nodes: [],
    runtime: {} as ClusterView["runtime"],
    random: () => 0.5,
    answering: async () => [],
    async leader() {
      const asked = now();
      const first = looks++ === 0;
      if (first && opts.firstLookMs) await new Promise((r) => setTimeout(r, opts.firstLookMs));
      // What a node says is what was true when it was asked.
      return asked < opts.changeAtMs ? opts.before : opts.after;
    },
  };
}

describe("when: leader-change", () => {
  it("resolves soon after a new leader reports itself, naming both", async () => {
    const change = await awaitLeaderChange(
      cluster({ before: "n1", after: "n3", changeAtMs: 150 }),
      2000,
    );
    expect(change).toMatchObject({ from: "n1", to: "n3" });
    expect(change?.waitedMs).toBeGreaterThanOrEqual(140);
    // Looks every 20 ms: seen within a few looks of the change, not a second later.
    expect(change?.waitedMs).toBeLessThan(600);
  });

  it("a slow first look does not hide an election that later looks saw", async () => {
    const change = await awaitLeaderChange(
      cluster({ before: "n1", after: "n2", changeAtMs: 60, firstLookMs: 250 }),
      2000,
    );
    expect(change).toMatchObject({ from: "n1", to: "n2" });
    expect(change?.waitedMs).toBeLessThan(700);
  });

  it("no leader known at first: the first leader to appear is the change", async () => {
    const change = await awaitLeaderChange(cluster({ after: "n2", changeAtMs: 80 }), 2000);
    expect(change).toMatchObject({ from: undefined, to: "n2" });
  });

  it("no change within the bound: undefined, after the bound", async () => {
    const t = performance.now();
    const change = await awaitLeaderChange(
      cluster({ before: "n1", after: "n1", changeAtMs: 0 }),
      300,
    );
    expect(change).toBeUndefined();
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
  });

  it("the composed nemesis starts the fault after the change, or skips it and says so", async () => {
    const starts: (Value | undefined)[] = [];
    const fake: Nemesis = {
      kind: "partition",
      plan: (stream) => [null, stream],
      async start(_c, params) {
        starts.push(params);
        return { verified: true };
      },
      async stop() {
        return { healed: true };
      },
    };
    const events: [string, Value][] = [];
    const tally = new FaultTally(["partition"]);
    const record = {
      nemesis: (kind: "partition", phase: "start" | "stop", value: Value) => {
        events.push([phase, value]);
        if (phase === "start") tally.start(kind, value, 0);
        else tally.stop(kind, 1);
      },
      log: () => {},
    };
    const changing = new ComposedNemesis(
      [fake],
      cluster({ before: "n1", after: "n2", changeAtMs: 50 }),
      record as never,
    );
    const op = {
      f: "start-partition",
      value: { shape: "majority-minority", when: "leader-change", within_ms: 2000 },
    };
    const value = (await changing.invoke(op)).value as { [key: string]: Value };
    // The nemesis gets its own parameters only; the event says which change it waited for.
    expect(starts).toEqual([{ shape: "majority-minority" }]);
    expect(value).toMatchObject({
      verified: true,
      when: "leader-change",
      leader_change: { from: "n1", to: "n2" },
    });
    const still = new ComposedNemesis(
      [fake],
      cluster({ before: "n1", after: "n1", changeAtMs: 0 }),
      record as never,
    );
    const skipped = await still.invoke({ ...op, value: { ...op.value, within_ms: 200 } });
    expect(skipped.value).toEqual({
      when: "leader-change",
      skipped: "no leader change within 0.2 s",
    });
    expect(starts).toHaveLength(1);
    expect(still.failure).toBeUndefined();
    // A skipped start is not a fault that did not take: counted apart, and its stop heals nothing.
    expect(await still.invoke({ f: "stop-partition" })).toEqual({
      type: "info",
      value: { healed: false },
    });
    expect(tally.record(2).partition).toMatchObject({ started: 1, verified: 1, skipped: 1 });
  });
});

describe("after: S and target: same", () => {
  it("a fault that follows another waits S after it took, and hits the nodes it hit", async () => {
    const { nodeFaultNemesis } = await import("../nemesis/node-fault.js");
    const began: [string, NodeId[], number][] = [];
    const t0 = performance.now();
    const make = (kind: "reset" | "kill") =>
      nodeFaultNemesis(
        kind,
        {},
        async (nodes) => {
          began.push([kind, nodes, performance.now() - t0]);
          return { verified: true };
        },
        async () => ({ healed: true }),
      );
    const composed = new ComposedNemesis(
      [make("reset"), make("kill")],
      // The leader is n2 at the first look and n3 at every later one: `same` must not look.
      {
        ...cluster({ before: "n2", after: "n3", changeAtMs: 1 }),
        nodes: ["n1", "n2", "n3"].map((id) => ({ spec: { id } })) as never,
      },
      { nemesis: () => {}, log: () => {} },
    );
    await composed.invoke({ f: "start-reset", value: { target: "leader" } });
    await new Promise((r) => setTimeout(r, 5));
    const kill = await composed.invoke({
      f: "start-kill",
      value: { target: "same", after_ms: 60 },
    });
    expect(began.map(([k, n]) => [k, n])).toEqual([
      ["reset", ["n2"]],
      ["kill", ["n2"]],
    ]);
    const [, , resetAt] = began[0] as [string, NodeId[], number];
    const [, , killAt] = began[1] as [string, NodeId[], number];
    expect(killAt - resetAt).toBeGreaterThanOrEqual(60);
    expect(kill.value).toMatchObject({ target: "same", after_ms: 60 });
    expect(composed.failure).toBeUndefined();
  });
});
