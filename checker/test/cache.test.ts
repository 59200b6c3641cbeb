import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Bitset } from "../bitset.js";
import { LinearizationCache } from "../cache.js";

/** Flips bit i and offers (set, state) to the cache, as the search does; the set flips back. */
function offer(cache: LinearizationCache<number>, bits: Bitset, i: number, state: number) {
  bits.toggle(i);
  const added = cache.addIfAbsent(bits.hash ^ state, bits, state);
  bits.toggle(i);
  return added;
}

describe("the linearization cache", () => {
  it("finds what it stored, by bits and state", () => {
    const cache = new LinearizationCache<number>(64, (a, b) => a === b);
    const bits = new Bitset(64);
    expect(offer(cache, bits, 3, 7)).toBe(true);
    expect(offer(cache, bits, 3, 7)).toBe(false);
    expect(offer(cache, bits, 3, 8)).toBe(true);
    expect(offer(cache, bits, 4, 7)).toBe(true);
  });

  it("past its memory bound, gives up saying why instead of asking for an impossible array", () => {
    // Bit 0 alone: 3 words an entry ([low, high, the one mixed word]) and 3 of index; 1,024
    // words at most: the 171st entry cannot be stored.
    const cache = new LinearizationCache<number>(64, (a, b) => a === b, 1024);
    const bits = new Bitset(64);
    for (let i = 0; i < 170; i++) expect(offer(cache, bits, 0, i)).toBe(true);
    expect(() => offer(cache, bits, 0, 170)).toThrow(
      /explored 170 states of 64 operations .*4096 bytes: too hard to check/,
    );
  });

  it("tells apart every pair of sets, with one hash for all: its stored form is exact", () => {
    // Sets of 0..199 over a head of 4 words and a tail of 3; one hash, so every lookup
    // compares the stored words, and only equal sets may match.
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 199 }), { maxLength: 40 }), {
          minLength: 1,
          maxLength: 30,
        }),
        (sets) => {
          const cache = new LinearizationCache<number>(200, () => true);
          const seen = new Set<string>();
          for (const members of sets) {
            const bits = new Bitset(128 + 72, 4);
            const distinct = new Set(members);
            for (const m of distinct) bits.toggle(m < 128 ? m : 128 + (m % 72));
            const key = [...bits.words].join(",");
            expect(cache.addIfAbsent(0, bits, 0)).toBe(!seen.has(key));
            seen.add(key);
          }
        },
      ),
      { numRuns: 300, seed: 20261202 },
    );
  });
});

describe("the bitset's ones, mixed and zero head words", () => {
  it("low and high follow every flip, as a scan of the words finds them", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 160 }),
        fc.array(fc.integer({ min: 0, max: 159 }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 5 }),
        (prefix, flips, headWords) => {
          const bits = new Bitset(160, headWords);
          const check = () => {
            let low = 0;
            while (low < headWords && bits.words[low] === 0xffffffff) low++;
            let high = headWords;
            while (high > 0 && bits.words[high - 1] === 0) high--;
            expect([bits.low, bits.high]).toEqual([low, high]);
          };
          // Ones from the bottom first, as the search sets them, then flips anywhere (and
          // back: the search's backtracking).
          for (let i = 0; i < prefix; i++) {
            bits.toggle(i);
            check();
          }
          for (const i of [...flips, ...[...flips].reverse()]) {
            bits.toggle(i);
            check();
          }
        },
      ),
      { numRuns: 300, seed: 20261202 },
    );
  });
});
