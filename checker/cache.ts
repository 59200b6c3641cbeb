// Lowe's cache: the (set of linearized operations, state) pairs already explored.
//
// Kept flat for speed: every stored bitset lives in one growing Uint32Array, and an
// open-addressing table maps the combined hash to entries. A hash match is confirmed by
// comparing the bitset word by word and the state with the model's `equal`, so a collision can
// cost time but never a wrong verdict.
//
// A bitset is stored as [low, high, its head words low..high-1, its tail words] (bitset.ts):
// the head's words below `low` are all ones and those from `high` on are zeros, so that is the
// whole set, in a few words where the plain copy took one word per 32 operations.

import type { Bitset } from "./bitset.js";

/**
 * The most words one cache may take (1 GiB): its stored bitsets, and ~3 words of index an
 * entry. Past it the search gives up with a
 * message that says why, rather than asking for a typed array larger than memory (a single key
 * of 29,410 operations, 645 of them info, once asked for 5.6 billion words).
 */
export const MAX_ARENA_WORDS = 2 ** 28;

/** The cache reached its bound: this search cannot go on, and the partition has no verdict. */
export class CacheFull extends Error {}

/**
 * Arenas of caches done with (`release`), for the next caches of this thread. A partition of
 * 8,000 operations filled an arena of ~10 MB before bitsets were stored in a few words (now
 * ~0.3 MB); allocating (and zeroing) one per partition, with the garbage collections that external memory brings, was most of the time of such partitions.
 * Small ones are left to the allocator; big ones are not kept (a hard partition's could be 1 GiB).
 */
const spare: ArrayBuffer[] = [];
const SPARE = { count: 2, minBytes: 1 << 16, maxBytes: 1 << 26 } as const;

/** An arena of at least `words` words: a spare one if one is big enough, else a new one. */
function arenaOf(words: number): Uint32Array {
  let best = -1;
  for (let i = 0; i < spare.length; i++) {
    const b = spare[i] as ArrayBuffer;
    if (
      b.byteLength >= words * 4 &&
      (best < 0 || b.byteLength < (spare[best] as ArrayBuffer).byteLength)
    )
      best = i;
  }
  if (best < 0) return new Uint32Array(words);
  const [buffer] = spare.splice(best, 1);
  return new Uint32Array(buffer as ArrayBuffer);
}

/** Keeps an arena no cache uses any more, if it is of a size worth keeping. */
function giveBack(buffer: ArrayBuffer): void {
  if (buffer.byteLength < SPARE.minBytes || buffer.byteLength > SPARE.maxBytes) return;
  spare.push(buffer);
  spare.sort((a, b) => b.byteLength - a.byteLength);
  spare.length = Math.min(spare.length, SPARE.count);
}

export class LinearizationCache<S> {
  private arena: Uint32Array;
  /** Words of the arena in use. */
  private used = 0;
  private hashes: Int32Array;
  /** Where each entry's words start in the arena. */
  private offsets: Int32Array;
  private states: S[] = [];
  private table: Int32Array;
  private count = 0;

  /** `bitsetSize`, in bits, is for messages only: entries take what their bitset needs. */
  constructor(
    private readonly bitsetSize: number,
    private readonly equal: (a: S, b: S) => boolean,
    private readonly maxWords = MAX_ARENA_WORDS,
  ) {
    this.arena = arenaOf(Math.min(4096, maxWords));
    this.hashes = new Int32Array(256);
    this.offsets = new Int32Array(256);
    this.table = new Int32Array(1024);
  }

  /**
   * Adds (bits, state) under `hash` unless it is there already. Returns false when it was
   * there: that branch of the search was explored before.
   */
  addIfAbsent(hash: number, bits: Bitset, state: S): boolean {
    const mask = this.table.length - 1;
    let slot = hash & mask;
    for (let e = this.table[slot] as number; e !== 0; e = this.table[slot] as number) {
      const entry = e - 1;
      if (
        this.hashes[entry] === hash &&
        this.sameBits(entry, bits) &&
        this.equal(this.states[entry] as S, state)
      ) {
        return false;
      }
      slot = (slot + 1) & mask;
    }
    this.store(slot, hash, bits, state);
    return true;
  }

  private sameBits(entry: number, bits: Bitset): boolean {
    const arena = this.arena;
    const words = bits.words;
    let at = this.offsets[entry] as number;
    const low = bits.low;
    const high = bits.high;
    if (arena[at] !== low || arena[at + 1] !== high) return false;
    at += 2;
    for (let k = low; k < high; k++) if (arena[at++] !== words[k]) return false;
    for (let k = bits.headWords; k < words.length; k++) if (arena[at++] !== words[k]) return false;
    return true;
  }

  private store(slot: number, hash: number, bits: Bitset, state: S): void {
    const { low, high, headWords, words } = bits;
    const size = 2 + (high - low) + (words.length - headWords);
    // Each entry also takes ~3 words of index (its hash, its offset, its table slots).
    if (this.used + size + 3 * (this.count + 1) > this.maxWords) {
      throw new CacheFull(
        `the search explored ${this.count} states of ${this.bitsetSize} operations and its cache reached ${this.maxWords * 4} bytes: too hard to check (a long history on few keys, with many info operations)`,
      );
    }
    if (this.used + size > this.arena.length) this.growArena(this.used + size);
    if (this.count === this.hashes.length) this.growEntries();
    const entry = this.count++;
    const arena = this.arena;
    let at = this.used;
    this.offsets[entry] = at;
    arena[at++] = low;
    arena[at++] = high;
    for (let k = low; k < high; k++) arena[at++] = words[k] as number;
    for (let k = headWords; k < words.length; k++) arena[at++] = words[k] as number;
    this.used = at;
    this.hashes[entry] = hash;
    this.states[entry] = state;
    this.table[slot] = entry + 1;
    if (this.count * 2 > this.table.length) this.rehash();
  }

  /** Gives the arena back for the next cache of this thread; this cache is not used again. */
  release(): void {
    const buffer = this.arena.buffer as ArrayBuffer;
    this.arena = new Uint32Array(0);
    this.states = [];
    giveBack(buffer);
  }

  private growArena(needed: number): void {
    // Entries are written before they are read: a spare arena's old content does no harm.
    const arena = arenaOf(Math.min(this.maxWords, Math.max(needed, this.arena.length * 2)));
    arena.set(this.arena.subarray(0, this.used));
    const old = this.arena.buffer as ArrayBuffer;
    this.arena = arena;
    giveBack(old);
  }

  private growEntries(): void {
    const hashes = new Int32Array(this.hashes.length * 2);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const offsets = new Int32Array(this.offsets.length * 2);
    offsets.set(this.offsets);
    this.offsets = offsets;
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let entry = 0; entry < this.count; entry++) {
      let slot = (this.hashes[entry] as number) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = entry + 1;
    }
    this.table = table;
  }
}
