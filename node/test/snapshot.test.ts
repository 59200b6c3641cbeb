import { describe, expect, it } from "vitest";
import { compactWrites, recoverDurableState } from "../core/storage.js";
import type { StorageWrite } from "../core/types.js";
import { runSimulation } from "../sim/run.js";
import { req, TestCluster, TIMING } from "./helpers.js";

describe("snapshots", () => {
  it("a far-behind node catches up by snapshot", () => {
    const c = new TestCluster(["n1", "n2", "n3"], { snapshotEvery: 10 });
    c.run(40);
    const leader = c.leader() as string;
    const behind = c.ids.find((id) => id !== leader) as string;
    c.down.add(behind);
    for (let i = 1; i <= 35; i++) {
      c.submit(leader, i, req("c", i, { op: "write", key: `k${i % 4}`, value: i }));
      c.run(2);
    }
    expect(c.node(leader).status().snapshotIndex).toBeGreaterThanOrEqual(30);
    expect(c.node(behind).status().appliedIndex).toBeLessThan(5);
    c.down.delete(behind);
    c.run(10);
    expect(c.snapshotsInstalled).toContain(behind);
    expect(c.node(behind).status().appliedIndex).toBe(c.node(leader).status().appliedIndex);
    expect(c.node(behind).stateDigest()).toBe(c.node(leader).stateDigest());
  });

  it("a node restarts from its snapshot plus the accepted values above it", () => {
    const c = new TestCluster(["n1", "n2", "n3"], { snapshotEvery: 10 });
    c.run(40);
    const leader = c.leader() as string;
    for (let i = 1; i <= 15; i++) {
      c.submit(leader, i, req("c", i, { op: "write", key: "k", value: i }));
      c.run(1);
    }
    c.run(10);
    const durable = recoverDurableState(c.disks.get("n2") as StorageWrite[]);
    expect(durable.snapshot?.index).toBeGreaterThanOrEqual(10);
    expect(durable.accepted.every((e) => e.slot > (durable.snapshot?.index ?? 0))).toBe(true);
    // Compacting the log keeps the same durable state.
    expect(recoverDurableState(compactWrites(durable))).toEqual(durable);
    c.restart("n2");
    expect(c.node("n2").status().appliedIndex).toBe(durable.snapshot?.index);
    c.run(10);
    expect(c.node("n2").stateDigest()).toBe(c.node(leader).stateDigest());
  });

  it("a follower a few slots behind a snapshot catches up with entries, not the snapshot", () => {
    const c = new TestCluster(["n1", "n2", "n3"], { snapshotEvery: 10 });
    c.run(40);
    const leader = c.leader() as string;
    const behind = c.ids.find((id) => id !== leader) as string;
    for (let i = 1; i <= 8; i++) {
      c.submit(leader, i, req("c", i, { op: "write", key: "k", value: i }));
      c.run(1);
    }
    c.down.add(behind);
    for (let i = 9; i <= 14; i++) {
      c.submit(leader, i, req("c", i, { op: "write", key: "k", value: i }));
      c.run(1);
    }
    expect(c.node(leader).status().snapshotIndex).toBeGreaterThan(
      c.node(behind).status().appliedIndex,
    );
    c.down.delete(behind);
    c.run(10);
    expect(c.snapshotsInstalled).toEqual([]);
    expect(c.node(behind).status().appliedIndex).toBe(c.node(leader).status().appliedIndex);
    expect(c.node(behind).stateDigest()).toBe(c.node(leader).stateDigest());
  });

  it("one snapshot in flight per follower: repeated acks from far behind get one push per window", () => {
    const c = new TestCluster(["n1", "n2", "n3"], { snapshotEvery: 10, catchupMargin: 2 });
    c.run(40);
    const leader = c.leader() as string;
    for (let i = 1; i <= 25; i++) {
      c.submit(leader, i, req("c", i, { op: "write", key: "k", value: i }));
      c.run(1);
    }
    const n = c.node(leader);
    const ballot = n.status().ballot as { round: number; node: string };
    const far = c.ids.find((id) => id !== leader) as string;
    // A heartbeat interval on: the leader acts on a peer's commit point once per interval.
    for (let t = 0; t < TIMING.heartbeatTicks; t++) n.tick();
    let pushes = 0;
    for (let t = 0; t < 10; t++) {
      n.receive(far, { type: "heartbeatAck", ballot, commit: 0 });
      for (;;) {
        const rd = n.ready();
        pushes += rd.messages.filter(
          (m) => m.to === far && m.msg.type === "chosen" && m.msg.snapshot,
        ).length;
        if (rd.token !== undefined) n.persisted(rd.token);
        if (rd.messages.length + rd.persist.length + rd.replies.length === 0) break;
      }
    }
    expect(pushes).toBe(1);
  });

  it("fault-free, no snapshot installs and no request proposed in two slots (40 seeds)", () => {
    const quiet = {
      loss: 0,
      duplicate: 0,
      reorder: 0.02,
      partitions: false,
      crashes: false,
      electionCrash: 0,
    };
    let installs = 0;
    let requests = 0;
    let duplicates = 0;
    for (let seed = 1; seed <= 40; seed++) {
      for (const slowDisk of [1, 10]) {
        const r = runSimulation({
          seed,
          nodes: seed % 2 ? 3 : 5,
          steps: 3000,
          faults: { ...quiet, slowDisk },
        });
        expect(r.violations).toEqual([]);
        installs += r.stats.snapshotsInstalled;
        requests += r.stats.requestsInSlots;
        duplicates += r.stats.duplicateRequestsInSlots;
      }
    }
    // Before: 81% of 1,200 installs went to followers at most 2 slots behind; 6-10% duplicates.
    expect(installs).toBe(0);
    expect(requests).toBeGreaterThan(5_000);
    expect(duplicates / requests).toBeLessThan(0.005);
  });
});
