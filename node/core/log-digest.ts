// A running digest of the applied log: each applied slot's value is folded into the digest of
// the slots before it. Two replicas at one applied index with equal log digests applied the same
// commands in the same order (up to a collision of a 64-bit hash). Equal key-value states do not
// say that: commands on different keys commute and a later write hides an earlier one, so two
// values chosen for one slot can leave the same state behind (the harness's replica comparison,
// doc/protocol.md, compares both). FNV-1a over the value's JSON, which every node builds the
// same way (acceptor.ts's sameValue relies on it too); pure, so the core stays deterministic.

import type { SlotValue } from "./types.js";

/** The digest of an empty log. */
export const EMPTY_LOG_DIGEST = "0000000000000000";

const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;

/** The digest after `prev` with one more slot holding `value` (16 hex digits). */
export function foldLogDigest(prev: string, value: SlotValue): string {
  const text = `${prev}${JSON.stringify(value)}`;
  // 64-bit FNV-1a in two 32-bit halves: h = (h ^ byte) * 0x100000001b3 (mod 2^64).
  let hi = OFFSET_HI;
  let lo = OFFSET_LO;
  for (let i = 0; i < text.length; i++) {
    lo ^= text.charCodeAt(i);
    // 0x100000001b3 = 2^40 + 0x1b3: the product's low word is lo*0x1b3, its high word
    // hi*0x1b3 + (lo << 8) + the carry out of lo*0x1b3.
    const loProduct = (lo & 0xffff) * 0x1b3;
    const loHigh = (lo >>> 16) * 0x1b3 + (loProduct >>> 16);
    const newLo = ((loHigh & 0xffff) << 16) | (loProduct & 0xffff);
    hi = (Math.imul(hi, 0x1b3) + (lo << 8) + (loHigh >>> 16)) | 0;
    lo = newLo;
  }
  return (hi >>> 0).toString(16).padStart(8, "0") + (lo >>> 0).toString(16).padStart(8, "0");
}
