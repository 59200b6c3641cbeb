// The applied log's running digest: 64-bit FNV-1a, order-sensitive, carried by snapshots.

import { describe, expect, it } from "vitest";
import { Learner } from "../core/learner.js";
import { EMPTY_LOG_DIGEST, foldLogDigest } from "../core/log-digest.js";
import type { SlotValue } from "../core/types.js";

/** FNV-1a 64 with BigInt, over UTF-16 code units: the reference. */
function reference(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

const write = (clientId: string, key: string, value: number): SlotValue => ({
  requests: [{ clientId, seq: 1, command: { op: "write", key, value } }],
});

describe("log digest", () => {
  it("is 64-bit FNV-1a of the previous digest and the value's JSON", () => {
    let prev = EMPTY_LOG_DIGEST;
    for (let i = 0; i < 500; i++) {
      const v = write(`c${i}é中`, `k${i % 7}`, i * 31);
      const next = foldLogDigest(prev, v);
      expect(next).toBe(reference(prev + JSON.stringify(v)));
      prev = next;
    }
  });

  it("tells two orders of commuting writes apart, which the state does not", () => {
    const a = write("c1", "x", 1);
    const b = write("c2", "y", 2);
    const ab = foldLogDigest(foldLogDigest(EMPTY_LOG_DIGEST, a), b);
    const ba = foldLogDigest(foldLogDigest(EMPTY_LOG_DIGEST, b), a);
    expect(ab).not.toBe(ba);
  });

  it("the learner folds each applied slot, and a snapshot carries the digest", () => {
    const one = new Learner(null);
    const other = new Learner(null);
    one.learn(1, write("c1", "x", 1));
    one.learn(2, write("c2", "y", 2));
    other.learn(1, write("c2", "y", 2));
    other.learn(2, write("c1", "x", 1));
    one.applyReady(() => {});
    other.applyReady(() => {});
    expect(one.sm.digest()).toBe(other.sm.digest());
    expect(one.logDigest).not.toBe(other.logDigest);

    const snap = one.takeSnapshot();
    expect(snap.logDigest).toBe(one.logDigest);
    const behind = new Learner(null);
    expect(behind.install(snap)).toBe(true);
    expect(behind.logDigest).toBe(one.logDigest);
    // A snapshot that does not know the digest leaves it unknown, never a wrong one.
    const { logDigest: _, ...without } = one.takeSnapshot();
    const fresh = new Learner(null);
    fresh.install(without);
    expect(fresh.logDigest).toBeUndefined();
  });
});
