import { describe, expect, it } from "vitest";
import { Acceptor } from "../core/acceptor.js";
import { emptyDurableState } from "../core/storage.js";
import { drain, drainSync, makeNode } from "./helpers.js";

const b = (round: number, node: string) => ({ round, node });
const v = { requests: [] };

describe("acceptor rules", () => {
  it("promises a ballot at or above its promise, refuses a lower one with the highest promise", () => {
    const a = new Acceptor(emptyDurableState());
    expect(a.prepare(b(2, "n1"))).toEqual({
      ok: true,
      write: { type: "promise", ballot: b(2, "n1") },
    });
    expect(a.prepare(b(2, "n1"))).toEqual({ ok: true }); // same ballot again: no new write
    expect(a.prepare(b(1, "n9"))).toEqual({ ok: false, promised: b(2, "n1") });
    expect(a.prepare(b(2, "n0"))).toEqual({ ok: false, promised: b(2, "n1") }); // node id breaks ties
    expect(a.prepare(b(2, "n2")).ok).toBe(true);
  });

  it("accepts only at or above its promise; accepting raises the promise", () => {
    const a = new Acceptor(emptyDurableState());
    a.prepare(b(3, "n1"));
    expect(a.accept(b(2, "n2"), 1, v)).toEqual({ ok: false, promised: b(3, "n1") });
    expect(a.accept(b(3, "n1"), 1, v)).toEqual({
      ok: true,
      write: { type: "accept", slot: 1, ballot: b(3, "n1"), value: v },
    });
    expect(a.accept(b(4, "n2"), 2, v).ok).toBe(true);
    expect(a.promised).toEqual(b(4, "n2"));
    expect(a.prepare(b(3, "n9")).ok).toBe(false);
    expect(a.acceptedFrom(1).map((e) => e.slot)).toEqual([1, 2]);
  });

  it("a node refuses a lower prepare with a reject carrying its highest promise", () => {
    const n = makeNode("n2", ["n1", "n3"]);
    n.receive("n3", { type: "prepare", ballot: b(5, "n3"), from: 1 });
    const first = drain(n);
    expect(first.persist).toEqual([{ type: "promise", ballot: b(5, "n3") }]);
    expect(first.messages).toEqual([]); // held until the promise is durable
    n.persisted(first.token as number);
    expect(drain(n).messages.map((m) => m.msg.type)).toEqual(["promise"]);
    n.receive("n1", { type: "prepare", ballot: b(4, "n1"), from: 1 });
    const rd = drainSync(n);
    expect(rd.messages).toEqual([
      { to: "n1", msg: { type: "reject", ballot: b(4, "n1"), promised: b(5, "n3") } },
    ]);
    n.receive("n1", { type: "accept", ballot: b(4, "n1"), slot: 1, value: v });
    expect(drainSync(n).messages.map((m) => m.msg.type)).toEqual(["reject"]);
  });
});

describe("isPeerMessage", () => {
  it("accepts every message the core sends and rejects malformed frames", async () => {
    const { isPeerMessage } = await import("../core/validate.js");
    const { runSimulation } = await import("../sim/run.js");
    expect(isPeerMessage({ type: "prepare", ballot: b(1, "n1"), from: 1 })).toBe(true);
    expect(isPeerMessage({ type: "prepare", ballot: { round: "1", node: "n1" }, from: 1 })).toBe(
      false,
    );
    expect(isPeerMessage({ type: "accept", ballot: b(1, "n1"), slot: 1, value: {} })).toBe(false);
    expect(isPeerMessage({ type: "nope" })).toBe(false);
    expect(isPeerMessage(null)).toBe(false);
    // Every message of a simulation run passes (the cluster validates frames when asked to).
    const res = runSimulation({ seed: 7, nodes: 3, steps: 2000, validateFrames: true });
    expect(res.violations).toEqual([]);
  });
});
