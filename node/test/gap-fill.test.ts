// A hole after phase 1, driven on one core: promises report values for slots 1 and 3 and none
// for slot 2. The correct leader fills slot 2 with a no-op. The gap-filled-with-client-value
// mutant fills it with a copy of slot 3's command under an id of its own, so the command takes
// effect twice: a cas applied in the hole, unanswered, then again in its own slot, where it
// fails (its first effect is in the way) and its client is told that it did not happen, while
// its value is in the state.

import { describe, expect, it } from "vitest";
import type { ClientRequest, Command } from "../command.js";
import type { Mutant } from "../core/mutants.js";
import type { PaxosNode } from "../core/node.js";
import type { Ballot, PeerMessage, SlotValue } from "../core/types.js";
import { campaign, drainSync, makeNode, req } from "./helpers.js";

const OLD: Ballot = { round: 0, node: "n3" };
const WRITE_0 = req("c0", 1, { op: "write", key: "k", value: 0 });
const CAS_0_1 = req("c1", 1, { op: "cas", key: "k", from: 0, to: 1 });

function accepts(messages: ReturnType<typeof drainSync>["messages"]): Map<number, SlotValue> {
  const out = new Map<number, SlotValue>();
  for (const m of messages) if (m.msg.type === "accept") out.set(m.msg.slot, m.msg.value);
  return out;
}

/** n1 wins phase 1 on n2's promise, which reports slots 1 and 3 accepted and slot 2 not. */
function leaderWithHole(mutant?: Mutant): {
  n1: PaxosNode;
  ballot: Ballot;
  proposed: Map<number, SlotValue>;
} {
  const n1 = makeNode("n1", ["n2", "n3"], undefined, mutant ? { mutant } : {});
  const ballot = campaign(n1);
  const promise: PeerMessage = {
    type: "promise",
    ballot,
    accepted: [
      { slot: 1, ballot: OLD, value: { requests: [WRITE_0] } },
      { slot: 3, ballot: OLD, value: { requests: [CAS_0_1] } },
    ],
    chosen: [],
  };
  n1.receive("n2", promise);
  expect(n1.status().role).toBe("leader");
  return { n1, ballot, proposed: accepts(drainSync(n1).messages) };
}

function choose(n1: PaxosNode, ballot: Ballot, slots: number[]) {
  for (const slot of slots) n1.receive("n2", { type: "accepted", ballot, slot });
  return drainSync(n1);
}

function commands(v: SlotValue | undefined): Command[] {
  return (v?.requests ?? []).map((r: ClientRequest) => r.command);
}

describe("a hole after phase 1", () => {
  it("is filled with a no-op; the cas takes effect once, in its own slot", () => {
    const { n1, ballot, proposed } = leaderWithHole();
    expect(proposed.get(2)).toEqual({ requests: [] });
    expect(proposed.get(3)).toEqual({ requests: [CAS_0_1] });
    n1.clientRequest("r1", CAS_0_1);
    const rd = choose(n1, ballot, [1, 2, 3]);
    expect(rd.replies).toEqual([{ reqId: "r1", result: { status: "ok" } }]);
    expect(n1.stateDigest()).toBe(JSON.stringify([["k", 1]]));
  });

  it("gap-filled-with-client-value: filled with the later cas's command, which takes effect twice", () => {
    const { n1, ballot, proposed } = leaderWithHole("gap-filled-with-client-value");
    // The hole holds slot 3's command under the leader's own id; slot 3 keeps its value.
    const hole = proposed.get(2)?.requests ?? [];
    expect(commands(proposed.get(2))).toEqual([CAS_0_1.command]);
    expect(hole[0]?.clientId).toBe(`gap/${ballot.round}/n1/2/0`);
    expect(proposed.get(3)).toEqual({ requests: [CAS_0_1] });
    n1.clientRequest("r1", CAS_0_1);

    // Slots 1 and 2 chosen: the cas has taken effect, and its own request is not applied yet.
    expect(choose(n1, ballot, [1, 2]).replies).toEqual([]);
    expect(n1.stateDigest()).toBe(JSON.stringify([["k", 1]]));
    expect(n1.appliedResult(CAS_0_1)).toBeUndefined();

    // Its own slot: the client is told the cas did not happen, yet its value is in the state.
    const rd = choose(n1, ballot, [3]);
    expect(rd.replies).toEqual([{ reqId: "r1", result: { status: "cas-mismatch", value: 1 } }]);
    expect(n1.stateDigest()).toBe(JSON.stringify([["k", 1]]));
    // Dedup of the client's own request is untouched: a retry gets the first result.
    n1.clientRequest("r2", CAS_0_1);
    expect(drainSync(n1).replies).toEqual([
      { reqId: "r2", result: { status: "cas-mismatch", value: 1 } },
    ]);
  });
});
