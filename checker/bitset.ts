// The set of linearized operations, as Porcupine keeps it, with two changes.
//
// The hash is a Zobrist hash (the XOR of a fixed random word per set bit), kept up to date on
// every flip, so hashing costs O(1) instead of O(n/32) on the search's hot path.
//
// The set tells the cache how to store it in a few words (`low`, `high`). The search gives
// operations with a known output the bits of its first `headWords` words, in call order, and
// the indeterminate ones the words after. A known operation is linearized before its return,
// so the head words are all ones up to the search's frontier, a few mixed words, then zeros:
// the cache stores only the mixed words and the tail (a partition of 8,400 operations was
// 263 words an entry, copied on every step and compared on every hit; now ~5).

import { randomOf } from "../contracts/random.js";

const ONES = 0xffffffff;

export class Bitset {
  readonly words: Uint32Array;
  /** Read only: shared with every other bitset (a prefix of one stream). */
  private readonly keys: Int32Array;
  hash = 0;
  /** Words [0, low) of the head are all ones. */
  low = 0;
  /** Words [high, headWords) are all zeros; low <= high. */
  high = 0;

  /** `headWords`: the words kept as ones, mixed, zeros (default: all of them). */
  constructor(
    size: number,
    readonly headWords = (size + 31) >>> 5,
  ) {
    this.words = new Uint32Array(Math.max((size + 31) >>> 5, headWords));
    this.keys = zobristKeys(this.words.length * 32);
  }

  has(i: number): boolean {
    return ((this.words[i >>> 5] as number) & (1 << (i & 31))) !== 0;
  }

  /** Flips bit i. */
  toggle(i: number): void {
    const w = i >>> 5;
    const word = ((this.words[w] as number) ^ (1 << (i & 31))) >>> 0;
    this.words[w] = word;
    this.hash ^= this.keys[i] as number;
    if (w >= this.headWords) return;
    // Moves `low` and `high` by the words that changed; a flip moves each by a word or two.
    if (word === ONES) {
      if (w === this.low) {
        while (this.low < this.headWords && this.words[this.low] === ONES) this.low++;
      }
    } else if (w < this.low) this.low = w;
    if (word !== 0) {
      if (w >= this.high) this.high = w + 1;
    } else if (w === this.high - 1) {
      while (this.high > 0 && this.words[this.high - 1] === 0) this.high--;
    }
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
