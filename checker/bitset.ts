// The set of linearized operations, as Porcupine keeps it, with one change: the hash is a
// Zobrist hash (the XOR of a fixed random word per set bit), kept up to date on every set and
// clear, so hashing costs O(1) instead of O(n/32) on the search's hot path.

import { randomOf } from "../contracts/random.js";

export class Bitset {
  readonly words: Uint32Array;
  /** Read only: shared with every other bitset (a prefix of one stream). */
  private readonly keys: Int32Array;
  hash = 0;

  constructor(size: number) {
    this.words = new Uint32Array((size + 31) >>> 5);
    this.keys = zobristKeys(size);
  }

  has(i: number): boolean {
    return ((this.words[i >>> 5] as number) & (1 << (i & 31))) !== 0;
  }

  /** Flips bit i; the search only ever flips a bit it knows the value of. */
  toggle(i: number): void {
    this.words[i >>> 5] = (this.words[i >>> 5] as number) ^ (1 << (i & 31));
    this.hash ^= this.keys[i] as number;
  }

  /** The hash the set would have with bit i flipped, without flipping it. */
  hashWithToggled(i: number): number {
    return this.hash ^ (this.keys[i] as number);
  }
}

/** The keys made so far: every bitset's keys are a prefix of the same stream, made once. */
let made = new Int32Array(0);

/**
 * Random words from a fixed seed (the project's one PRNG), so runs are repeatable. Shared by
 * every bitset (read only): a thousand partitions no longer each draw thousands of them.
 */
function zobristKeys(size: number): Int32Array {
  if (size > made.length) {
    const keys = new Int32Array(Math.max(size, 2 * made.length, 1024));
    const random = randomOf(0x2545f491, "zobrist");
    for (let i = 0; i < keys.length; i++) keys[i] = Math.floor(random() * 2 ** 32) | 0;
    made = keys;
  }
  return made.subarray(0, size);
}
