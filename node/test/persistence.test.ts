// Each persistence rule: an acceptor's answer leaves only after its write is durable, so a crash
// between writing and answering loses nothing anyone saw; after the completion, a restart from
// disk keeps every promise and accepted value.

import { describe, expect, it } from "vitest";
import { recoverDurableState } from "../core/storage.js";
import type { StorageWrite } from "../core/types.js";
import { campaign, drain, drainSync, makeNode, req, TestCluster } from "./helpers.js";

const peers = ["n1", "n3"];
const b = (round: number, node: string) => ({ round, node });
const value = { requests: [req("c", 1, { op: "write", key: "k", value: 1 })] };

describe("persistence rules", () => {
  it("promise: a crash after the write is issued but before it completes sent no answer", () => {
    const n = makeNode("n2", peers);
    n.receive("n3", { type: "prepare", ballot: b(5, "n3"), from: 1 });
    const rd = drain(n);
    expect(rd.persist).toEqual([{ type: "promise", ballot: b(5, "n3") }]);
    expect(rd.messages).toEqual([]); // the promise waits for its write
    // Crash: the write never reached the disk.
    const restarted = makeNode("n2", peers, recoverDurableState([]));
    expect(restarted.status().promised).toBeNull();
  });

  it("promise: after the completion it is answered, and a restart keeps it", () => {
    const disk: StorageWrite[] = [];
    const n = makeNode("n2", peers);
    n.receive("n3", { type: "prepare", ballot: b(5, "n3"), from: 1 });
    const rd = drain(n);
    disk.push(...rd.persist);
    n.persisted(rd.token as number);
    expect(drain(n).messages.map((m) => m.msg.type)).toEqual(["promise"]);
    const restarted = makeNode("n2", peers, recoverDurableState(disk));
    expect(restarted.status().promised).toEqual(b(5, "n3"));
    restarted.receive("n1", { type: "prepare", ballot: b(4, "n1"), from: 1 });
    expect(drainSync(restarted).messages).toEqual([
      { to: "n1", msg: { type: "reject", ballot: b(4, "n1"), promised: b(5, "n3") } },
    ]);
  });

  it("accept: a crash before the completion sent no accepted; after it, a restart keeps the value", () => {
    const n = makeNode("n2", peers);
    n.receive("n1", { type: "accept", ballot: b(3, "n1"), slot: 1, value });
    const rd = drain(n);
    expect(rd.persist).toEqual([{ type: "accept", slot: 1, ballot: b(3, "n1"), value }]);
    expect(rd.messages).toEqual([]);
    const lost = makeNode("n2", peers, recoverDurableState([]));
    lost.receive("n3", { type: "prepare", ballot: b(4, "n3"), from: 1 });
    const p0 = drainSync(lost).messages[0]?.msg;
    expect(p0?.type === "promise" && p0.accepted).toEqual([]);

    n.persisted(rd.token as number);
    expect(drain(n).messages).toEqual([
      { to: "n1", msg: { type: "accepted", ballot: b(3, "n1"), slot: 1 } },
    ]);
    const kept = makeNode("n2", peers, recoverDurableState(rd.persist));
    expect(kept.status().promised).toEqual(b(3, "n1"));
    kept.receive("n1", { type: "accept", ballot: b(2, "n1"), slot: 2, value });
    expect(drainSync(kept).messages.map((m) => m.msg.type)).toEqual(["reject"]);
    kept.receive("n3", { type: "prepare", ballot: b(4, "n3"), from: 1 });
    const p1 = drainSync(kept).messages[0]?.msg;
    expect(p1?.type === "promise" && p1.accepted).toEqual([{ slot: 1, ballot: b(3, "n1"), value }]);
  });

  it("a leader counts its own accept only once it is durable (no reply before)", () => {
    const n = makeNode("n1", []);
    campaign(n);
    drainSync(n);
    expect(n.status().role).toBe("leader");
    n.clientRequest("r1", req("c", 1, { op: "write", key: "k", value: 7 }));
    const rd = drain(n);
    expect(rd.persist.map((w) => w.type)).toEqual(["accept"]);
    expect(rd.replies).toEqual([]);
    n.persisted(rd.token as number);
    expect(drain(n).replies).toEqual([{ reqId: "r1", result: { status: "ok" } }]);
  });

  it("a whole cluster restarted from disk keeps what was chosen", () => {
    const c = new TestCluster(["n1", "n2", "n3"]);
    c.run(40);
    const leader = c.leader() as string;
    for (let i = 1; i <= 5; i++)
      c.submit(leader, i, req("c", i, { op: "write", key: `k${i}`, value: i }));
    c.run(5);
    expect(c.replies.filter((r) => r.result.status === "ok")).toHaveLength(5);
    for (const id of c.ids) c.restart(id);
    c.run(60);
    const l2 = c.leader() as string;
    c.submit(l2, 100, req("d", 1, { op: "read", key: "k3" }));
    c.run(5);
    expect(c.replies.find((r) => r.reqId === 100)?.result).toEqual({ status: "ok", value: 3 });
  });
});
