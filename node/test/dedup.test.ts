import { describe, expect, it } from "vitest";
import { KvStateMachine } from "../core/statemachine.js";
import { req, TestCluster } from "./helpers.js";

describe("dedup of retried requests (clientId, seq)", () => {
  it("the state machine applies a request at most once and returns its first result", () => {
    const sm = new KvStateMachine();
    expect(sm.apply(req("c", 1, { op: "write", key: "k", value: 1 }))).toEqual({ status: "ok" });
    const cas = req("c", 2, { op: "cas", key: "k", from: 1, to: 2 });
    expect(sm.apply(cas)).toEqual({ status: "ok" });
    expect(sm.apply(cas)).toEqual({ status: "ok" }); // a retry: not re-run (it would mismatch)
    expect(sm.apply(req("c", 1, { op: "write", key: "k", value: 1 }))).toBe("stale");
    expect(sm.apply(req("d", 1, { op: "read", key: "k" }))).toEqual({ status: "ok", value: 2 });
  });

  it("a retry sent to another node after the request was applied gets the first result", () => {
    const c = new TestCluster(["n1", "n2", "n3"]);
    c.run(40);
    const leader = c.leader() as string;
    const other = c.ids.find((id) => id !== leader) as string;
    c.submit(leader, 1, req("c", 1, { op: "write", key: "k", value: 1 }));
    c.submit(leader, 2, req("c", 2, { op: "cas", key: "k", from: 1, to: 2 }));
    c.run(5);
    c.submit(leader, 3, req("d", 1, { op: "write", key: "k", value: 9 }));
    c.run(5);
    c.submit(other, 4, req("c", 2, { op: "cas", key: "k", from: 1, to: 2 }));
    c.run(5);
    c.submit(other, 5, req("d", 2, { op: "read", key: "k" }));
    c.run(5);
    const result = (id: number) => c.replies.find((r) => r.reqId === id)?.result;
    expect(result(2)).toEqual({ status: "ok" });
    expect(result(4)).toEqual({ status: "ok" });
    expect(result(5)).toEqual({ status: "ok", value: 9 }); // the retry did not apply again
  });

  it("the same request submitted to two nodes at once is applied once", () => {
    const c = new TestCluster(["n1", "n2", "n3"]);
    c.run(40);
    c.submit("n1", 1, req("c", 1, { op: "write", key: "k", value: 0 }));
    c.run(5);
    const inc = req("c", 2, { op: "cas", key: "k", from: 0, to: 1 });
    c.submit("n2", 2, inc);
    c.submit("n3", 3, inc);
    c.submit("n1", 4, inc);
    c.run(10);
    for (const id of [2, 3, 4]) {
      expect(c.replies.find((r) => r.reqId === id)?.result).toEqual({ status: "ok" });
    }
    const digests = c.ids.map((id) => c.node(id).stateDigest());
    expect(new Set(digests)).toEqual(new Set([JSON.stringify([["k", 1]])]));
  });
});
