// The wall-clock-lease mutant on three cores: a leader answers reads from its own state at once
// while its lease holds on its wall clock. On a true clock the lease runs out before the others
// can elect anyone else, so a leader cut off stops (it steps down) before a new leader takes
// writes; with its wall clock set back by many leases it keeps answering, and a read it answers
// after the new leader acknowledged a write is stale. The correct core never reads the clock.

import { describe, expect, it } from "vitest";
import { WallClockLease } from "../core/lease.js";
import type { Mutant } from "../core/mutants.js";
import type { NodeId } from "../core/types.js";
import { campaign, drainSync, makeNode, req, TestCluster, WALL_MS_PER_TICK } from "./helpers.js";

const LEASE_MS = 8 * WALL_MS_PER_TICK;
const read = (seq: number) => req("reader", seq, { op: "read", key: "k" });

function cluster(mutant?: Mutant): { c: TestCluster; leader: NodeId } {
  const c = new TestCluster(["n1", "n2", "n3"], {
    leaseMs: LEASE_MS,
    ...(mutant ? { mutant } : {}),
  });
  c.run(80);
  const leader = c.leader();
  if (leader === undefined) throw new Error("no leader");
  c.submit(leader, "w1", req("writer", 1, { op: "write", key: "k", value: 1 }));
  c.run(5);
  expect(c.replies.find((r) => r.reqId === "w1")?.result).toEqual({ status: "ok" });
  return { c, leader };
}

/**
 * Cuts the leader off (its clock set back by `jumpMs`), lets the others elect a new leader and
 * write k = 2 there, then reads k at the old leader: what it answers at once, if anything.
 */
function readAtDeposedLeader(mutant: Mutant | undefined, jumpMs: number) {
  const { c, leader } = cluster(mutant);
  c.isolated.add(leader);
  c.clockOffsets.set(leader, -jumpMs);
  c.run(60);
  const next = c.ids.find((id) => id !== leader && c.node(id).status().role === "leader");
  expect(next).toBeDefined();
  c.submit(next as NodeId, "w2", req("writer", 2, { op: "write", key: "k", value: 2 }));
  c.run(5);
  expect(c.replies.find((r) => r.reqId === "w2")?.result).toEqual({ status: "ok" });
  c.submit(leader, "r", read(1));
  return {
    role: c.node(leader).status().role,
    answer: c.replies.find((r) => r.reqId === "r")?.result,
  };
}

describe("wall-clock-lease", () => {
  it("a leader holding a lease answers a read at once, without a log slot", () => {
    const { c, leader } = cluster("wall-clock-lease");
    c.submit(leader, "r", read(1));
    expect(c.replies.find((r) => r.reqId === "r")?.result).toEqual({ status: "ok", value: 1 });
  });

  it("the correct core answers a read only after a confirmation round (reads.ts)", () => {
    const { c, leader } = cluster();
    c.submit(leader, "r", read(1));
    expect(c.replies.find((r) => r.reqId === "r")).toBeUndefined();
    c.run(3);
    expect(c.replies.find((r) => r.reqId === "r")?.result).toEqual({ status: "ok", value: 1 });
  });

  it("on a true clock, a leader cut off steps down before a new leader takes writes", () => {
    const { role, answer } = readAtDeposedLeader("wall-clock-lease", 0);
    expect(role).not.toBe("leader");
    expect(answer).toBeUndefined();
  });

  it("a leader whose wall clock jumps back answers a stale read after a new leader's write", () => {
    const { role, answer } = readAtDeposedLeader("wall-clock-lease", 40 * LEASE_MS);
    expect(role).toBe("leader");
    expect(answer).toEqual({ status: "ok", value: 1 });
  });

  it("the correct core ignores the jump: the cut-off leader steps down", () => {
    const { role, answer } = readAtDeposedLeader(undefined, 40 * LEASE_MS);
    expect(role).not.toBe("leader");
    expect(answer).toBeUndefined();
  });

  it("a restarted node promises no one for an election timeout", () => {
    const fresh = makeNode("n2", ["n1", "n3"], undefined, { mutant: "wall-clock-lease" });
    fresh.receive("n1", { type: "prepare", ballot: { round: 1, node: "n1" }, from: 1 });
    expect(drainSync(fresh).messages.map((m) => m.msg.type)).toEqual(["reject"]);
    const correct = makeNode("n2", ["n1", "n3"]);
    correct.receive("n1", { type: "prepare", ballot: { round: 1, node: "n1" }, from: 1 });
    expect(drainSync(correct).messages.map((m) => m.msg.type)).toEqual(["promise"]);
  });

  it("a campaign still wins once the restart's election timeout is over", () => {
    const n1 = makeNode("n1", ["n2", "n3"], undefined, { mutant: "wall-clock-lease" });
    expect(campaign(n1).node).toBe("n1");
  });
});

describe("WallClockLease", () => {
  it("holds until the send time of the heartbeat a quorum acknowledged, plus the lease", () => {
    const lease = new WallClockLease(3, 100); // five nodes: the leader and two acks
    lease.sent(1, 1000);
    lease.sent(2, 1020);
    lease.sent(3, 1040);
    lease.acked("n2", 3);
    expect(lease.holds(1000)).toBe(false); // one ack: no quorum yet
    lease.acked("n3", 1);
    expect(lease.holds(1099)).toBe(true); // n3's ack of heartbeat 1 (sent at 1000) completes it
    expect(lease.holds(1100)).toBe(false);
    lease.acked("n3", 2);
    expect(lease.holds(1119)).toBe(true);
    lease.acked("n4", 1); // an older ack grants nothing new
    expect(lease.holds(1120)).toBe(false);
    expect(lease.holds(undefined)).toBe(false); // no wall clock given: no lease
  });
});
