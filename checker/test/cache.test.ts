import { describe, expect, it } from "vitest";
import { Bitset } from "../bitset.js";
import { LinearizationCache } from "../cache.js";

describe("the linearization cache", () => {
  it("finds what it stored, by bits and state", () => {
    const cache = new LinearizationCache<number>(64, (a, b) => a === b);
    const bits = new Bitset(64);
    expect(cache.addIfAbsent(bits.hashWithToggled(3), bits, 3, 7)).toBe(true);
    expect(cache.addIfAbsent(bits.hashWithToggled(3), bits, 3, 7)).toBe(false);
    expect(cache.addIfAbsent(bits.hashWithToggled(3), bits, 3, 8)).toBe(true);
    expect(cache.addIfAbsent(bits.hashWithToggled(4), bits, 4, 7)).toBe(true);
  });

  it("past its memory bound, gives up saying why instead of asking for an impossible array", () => {
    // 2 words per entry, 1,024 words at most: the 513th entry cannot be stored.
    const cache = new LinearizationCache<number>(64, (a, b) => a === b, 1024);
    const bits = new Bitset(64);
    const add = (i: number) => cache.addIfAbsent(bits.hashWithToggled(0) ^ i, bits, 0, i);
    for (let i = 0; i < 512; i++) expect(add(i)).toBe(true);
    expect(() => add(512)).toThrow(
      /explored 512 states of 64 operations .*4096 bytes: too hard to check/,
    );
  });
});
