// Reads the ReadIndex way (core/reads.ts): no log slot, one confirmation round per batch of
// reads, followers asking the leader for a read index, and a deposed leader that cannot confirm.

import { describe, expect, it } from "vitest";
import type { PeerMessage } from "../core/types.js";
import { req, TestCluster } from "./helpers.js";

const read = (key: string) => ({ op: "read" as const, key });

/** A 3-node cluster with a leader and `k` = 1 written, quiet. */
function settled(mutant?: "read-unconfirmed"): { c: TestCluster; leader: string } {
  const c = new TestCluster(["n1", "n2", "n3"], mutant ? { mutant } : {});
  c.run(40);
  const leader = c.leader() as string;
  c.submit(leader, "w1", req("w", 1, { op: "write", key: "k", value: 1 }));
  c.run(5);
  expect(c.replies.find((r) => r.reqId === "w1")?.result).toEqual({ status: "ok" });
  return { c, leader };
}

/** Records every message the nodes send from now on (the cluster delivers them as before). */
function tap(c: TestCluster): PeerMessage[] {
  const seen: PeerMessage[] = [];
  for (const n of c.nodes.values()) {
    const ready = n.ready.bind(n);
    n.ready = () => {
      const rd = ready();
      for (const m of rd.messages) seen.push(m.msg);
      return rd;
    };
  }
  return seen;
}

describe("reads without a log slot", () => {
  it("a leader answers a batch of reads after one confirmation round, and proposes no slot", () => {
    const { c, leader } = settled();
    const applied = c.node(leader).status().appliedIndex;
    const sent = tap(c);
    const n = c.node(leader);
    for (let i = 1; i <= 20; i++) n.clientRequest(`r${i}`, req(`c${i}`, 1, read("k")));
    c.run(1);
    const answers = c.replies.filter((r) => String(r.reqId).startsWith("r"));
    expect(answers).toHaveLength(20);
    for (const a of answers) expect(a.result).toEqual({ status: "ok", value: 1 });
    expect(sent.filter((m) => m.type === "accept")).toEqual([]);
    expect(c.node(leader).status().appliedIndex).toBe(applied);
    // One round for all 20: the heartbeats tagged with a read round carry one number.
    const rounds = new Set(sent.flatMap((m) => (m.type === "heartbeat" && m.read ? [m.read] : [])));
    expect(rounds.size).toBe(1);
  });

  it("a follower asks the leader for a read index and answers from its own state", () => {
    const { c, leader } = settled();
    const follower = c.ids.find((id) => id !== leader) as string;
    const sent = tap(c);
    c.submit(follower, "r1", req("c1", 1, read("k")));
    c.run(2);
    expect(c.replies.find((r) => r.reqId === "r1")).toMatchObject({
      node: follower,
      result: { status: "ok", value: 1 },
    });
    expect(sent.some((m) => m.type === "readIndex")).toBe(true);
    expect(sent.some((m) => m.type === "readIndexReply")).toBe(true);
    expect(sent.filter((m) => m.type === "forward" || m.type === "accept")).toEqual([]);
  });

  /**
   * The old leader is paused and cut off while the others elect a new leader and take a write;
   * then it resumes, reconnected, still believing it leads (its check-quorum window did not
   * run while it was paused), and is asked to read.
   */
  function deposedInOffice(mutant?: "read-unconfirmed"): { c: TestCluster; old: string } {
    const { c, leader } = settled(mutant);
    c.paused.add(leader);
    c.isolated.add(leader);
    c.run(60);
    const fresh = c.ids.find((id) => id !== leader && c.node(id).status().role === "leader");
    expect(fresh).toBeDefined();
    c.submit(fresh as string, "w2", req("w", 2, { op: "write", key: "k", value: 2 }));
    c.run(5);
    expect(c.replies.find((r) => r.reqId === "w2")?.result).toEqual({ status: "ok" });
    c.paused.delete(leader);
    c.isolated.delete(leader);
    expect(c.node(leader).status().role).toBe("leader");
    c.submit(leader, "r-old", req("c-old", 1, read("k")));
    c.run(10);
    return { c, old: leader };
  }

  it("a deposed leader still in office cannot confirm: the read is answered with the new write", () => {
    const { c, old } = deposedInOffice();
    expect(c.node(old).status().role).toBe("follower");
    expect(c.replies.find((r) => r.reqId === "r-old")?.result).toEqual({ status: "ok", value: 2 });
  });

  it("the mutant read-unconfirmed: the same deposed leader answers the stale value", () => {
    const { c } = deposedInOffice("read-unconfirmed");
    expect(c.replies.find((r) => r.reqId === "r-old")?.result).toEqual({ status: "ok", value: 1 });
  });
});
