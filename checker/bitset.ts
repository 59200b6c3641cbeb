// The set of linearized operations, as Porcupine keeps it, with one change: the hash is a
// Zobrist hash (the XOR of a fixed random word per set bit), kept up to date on every set and
// clear, so hashing costs O(1) instead of O(n/32) on the search's hot path.

import { randomOf } from "../contracts/random.js";

export class Bitset {
  readonly words: Uint32Array;
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

/** Random words from a fixed seed (the project's one PRNG), so runs are repeatable. */
function zobristKeys(size: number): Int32Array {
  const keys = new Int32Array(size);
  const random = randomOf(0x2545f491, "zobrist");
  for (let i = 0; i < size; i++) keys[i] = Math.floor(random() * 2 ** 32) | 0;
  return keys;
}
