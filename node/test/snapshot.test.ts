import { describe, expect, it } from "vitest";
import { compactWrites, recoverDurableState } from "../core/storage.js";
import type { StorageWrite } from "../core/types.js";
import { req, TestCluster } from "./helpers.js";

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
});
