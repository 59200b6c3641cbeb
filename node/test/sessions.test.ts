// Client sessions expire by the slots' clock and by count, the same on every replica: memory
// stays bounded under anonymous requests, and a retry within the limits is still applied once.

import { describe, expect, it } from "vitest";
import { ANONYMOUS_CLIENT_PREFIX, type ClientRequest } from "../command.js";
import { DEFAULT_SESSION_LIMITS, KvStateMachine } from "../core/statemachine.js";
import type { SlotValue, Snapshot } from "../core/types.js";

const LIMITS = {
  named: { ttlMs: 10_000, limit: 3 },
  anonymous: { ttlMs: 1_000, limit: 2 },
};

const write = (clientId: string, seq: number, value: number): ClientRequest => ({
  clientId,
  seq,
  command: { op: "write", key: "k", value },
});

/** Applies slots as the learner does: the slot's clock first, then its requests. */
function applyAll(sm: KvStateMachine, slots: SlotValue[]) {
  return slots.map((slot) => {
    sm.advance(slot.at);
    return slot.requests.map((r) => sm.apply(r));
  });
}

describe("client sessions", () => {
  it("a retry within the session's life is a duplicate; after its time it applies again", () => {
    const sm = new KvStateMachine(null, LIMITS);
    applyAll(sm, [{ requests: [write("c1", 1, 5)], at: 1_000 }]);
    expect(sm.lookup(write("c1", 1, 5))).toEqual({ status: "ok" });
    applyAll(sm, [{ requests: [], at: 10_999 }]);
    expect(sm.lookup(write("c1", 1, 5))).toEqual({ status: "ok" });
    applyAll(sm, [{ requests: [], at: 11_001 }]);
    expect(sm.lookup(write("c1", 1, 5))).toBeUndefined();
  });

  it("a leader's clock behind does not turn the session clock back", () => {
    const sm = new KvStateMachine(null, LIMITS);
    applyAll(sm, [
      { requests: [write("c1", 1, 5)], at: 50_000 },
      { requests: [write("c2", 1, 6)], at: 1_000 }, // a leader whose clock is 49 s behind
      { requests: [], at: 59_999 },
    ]);
    // c2 was used at session clock 50,000 (not 1,000): still alive at 59,999.
    expect(sm.lookup(write("c2", 1, 6))).toEqual({ status: "ok" });
    expect(sm.lookup(write("c1", 1, 5))).toEqual({ status: "ok" });
  });

  it("sessions from before any clock (an older snapshot) start their life at the first one", () => {
    const old: Snapshot = {
      index: 9,
      kv: [],
      sessions: [["c1", { seq: 3, result: { status: "ok" } }]],
    };
    const sm = new KvStateMachine(old, LIMITS);
    applyAll(sm, [{ requests: [], at: 1_700_000_000_000 }]);
    expect(sm.lookup(write("c1", 3, 0))).toEqual({ status: "ok" });
    applyAll(sm, [{ requests: [], at: 1_700_000_010_001 }]);
    expect(sm.lookup(write("c1", 3, 0))).toBeUndefined();
  });

  it("past the limit, the least recently used go first; named and anonymous apart", () => {
    const sm = new KvStateMachine(null, LIMITS);
    const anon = (n: number) => write(`${ANONYMOUS_CLIENT_PREFIX}${n}`, 0, n);
    applyAll(sm, [
      { requests: [write("a", 1, 1), write("b", 1, 1), write("c", 1, 1)], at: 1 },
      { requests: [write("a", 2, 2)], at: 2 }, // a used again: b is now the oldest
      { requests: [write("d", 1, 1), anon(1), anon(2), anon(3)], at: 3 },
      { requests: [], at: 4 }, // the limits apply at the next slot
    ]);
    expect(sm.sessionCounts()).toEqual({ named: 3, anonymous: 2 });
    expect(sm.lookup(write("b", 1, 1))).toBeUndefined();
    for (const id of ["a", "c", "d"]) expect(sm.lookup(write(id, 1, 1))).not.toBeUndefined();
    expect(sm.lookup(anon(1))).toBeUndefined();
    expect(sm.lookup(anon(3))).toEqual({ status: "ok" });
  });

  it("replicas that apply the same slots, one through a snapshot, expire the same sessions", () => {
    const slots: SlotValue[] = Array.from({ length: 50 }, (_, i) => ({
      requests: [write(`c${i % 7}`, i, i), write(`${ANONYMOUS_CLIENT_PREFIX}${i}`, 0, i)],
      at: i * 400,
    }));
    const a = new KvStateMachine(null, LIMITS);
    applyAll(a, slots);
    const b = new KvStateMachine(null, LIMITS);
    applyAll(b, slots.slice(0, 20));
    const c = new KvStateMachine(b.snapshot(20), LIMITS);
    applyAll(c, slots.slice(20));
    expect(c.snapshot(50)).toEqual(a.snapshot(50));
    // The limits, plus the last slot's requests (the limits apply at the next slot).
    expect(a.sessionCounts()).toEqual({ named: 4, anonymous: 3 });
  });

  it("200,000 anonymous writes on 10 keys keep the snapshot small (the defaults)", () => {
    const sm = new KvStateMachine(null, DEFAULT_SESSION_LIMITS);
    // 64 requests a slot, 5,000 a second: a slot every 12.8 ms.
    for (let slot = 0; slot < 200_000 / 64; slot++) {
      sm.advance(Math.round(slot * 12.8));
      for (let i = 0; i < 64; i++) {
        const n = slot * 64 + i;
        sm.apply(write(`${ANONYMOUS_CLIENT_PREFIX}${n}`, 0, n % 10));
      }
    }
    sm.advance(200_000 / 5); // the next slot
    expect(sm.sessionCounts().anonymous).toBe(DEFAULT_SESSION_LIMITS.anonymous.limit);
    const bytes = JSON.stringify(sm.snapshot(0)).length;
    // Was 15 MB before sessions expired; 20,000 sessions of about 80 bytes now.
    expect(bytes).toBeLessThan(2_500_000);
  });
});
