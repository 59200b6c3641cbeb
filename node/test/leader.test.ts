import { describe, expect, it } from "vitest";
import type { SlotValue } from "../core/types.js";
import { campaign, drainSync, makeNode, req } from "./helpers.js";

const val = (key: string): SlotValue => ({
  requests: [req("c", 1, { op: "write", key, value: key })],
});

describe("a new leader", () => {
  it("re-proposes the highest-ballot accepted value of every slot and fills holes with no-ops", () => {
    const n = makeNode("n1", ["n2", "n3", "n4", "n5"]);
    const ballot = campaign(n);
    expect(ballot.round).toBe(1);
    n.receive("n2", {
      type: "promise",
      ballot,
      accepted: [
        { slot: 1, ballot: { round: 0, node: "n2" }, value: val("A") },
        { slot: 3, ballot: { round: 0, node: "n2" }, value: val("C") },
      ],
      chosen: [],
    });
    expect(n.status().role).toBe("candidate");
    n.receive("n3", {
      type: "promise",
      ballot,
      accepted: [{ slot: 1, ballot: { round: 0, node: "n3" }, value: val("B") }],
      chosen: [],
    });
    expect(n.status().role).toBe("leader");
    const accepts = drainSync(n)
      .messages.filter((m) => m.to === "n2")
      .flatMap((m) => (m.msg.type === "accept" ? [[m.msg.slot, m.msg.value] as const] : []));
    expect(accepts).toEqual([
      [1, val("B")], // n3's ballot (0, n3) > (0, n2)
      [2, { requests: [] }], // a hole: no-op
      [3, val("C")],
    ]);
  });

  it("learns slots already chosen from promises and does not re-propose them", () => {
    const n = makeNode("n1", ["n2", "n3"]);
    const ballot = campaign(n);
    n.receive("n2", {
      type: "promise",
      ballot,
      accepted: [{ slot: 2, ballot: { round: 0, node: "n2" }, value: val("Y") }],
      chosen: [{ slot: 1, value: val("X") }],
    });
    const rd = drainSync(n);
    expect(rd.applied.map((e) => e.slot)).toEqual([1]);
    const slots = rd.messages.flatMap((m) => (m.msg.type === "accept" ? [m.msg.slot] : []));
    expect(new Set(slots)).toEqual(new Set([2]));
  });

  it("steps down when a reject shows a higher promise", () => {
    const n = makeNode("n1", ["n2", "n3"]);
    const ballot = campaign(n);
    n.receive("n2", { type: "promise", ballot, accepted: [], chosen: [] });
    drainSync(n);
    expect(n.status().role).toBe("leader");
    n.receive("n3", { type: "reject", ballot, promised: { round: ballot.round + 1, node: "n3" } });
    expect(n.status().role).toBe("follower");
    // Its next campaign uses a round above the one it saw.
    expect(campaign(n).round).toBe(ballot.round + 2);
  });

  it("does not count a promise or an accepted for another ballot", () => {
    const n = makeNode("n1", ["n2", "n3"]);
    const ballot = campaign(n);
    n.receive("n2", {
      type: "promise",
      ballot: { round: ballot.round - 1, node: "n1" },
      accepted: [],
      chosen: [],
    });
    expect(n.status().role).toBe("candidate");
  });
});
