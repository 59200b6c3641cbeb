// When a chunk read from one side of a link is due on the other: pure arithmetic, kept apart
// from the sockets so it can be tested exactly.
//
// Order: a chunk is never due before the chunk read before it on the same connection and
// direction (TCP is a byte stream: a jittered later chunk must not overtake an earlier one),
// so jitter widens the spread of delays without reordering bytes.
// Bandwidth: the link's direction is a wire that carries one chunk at a time at `bandwidth`
// bytes/s; a chunk enters it when the wire is free, then travels for its delay.

import type { LinkSettings } from "./protocol.js";

/** One chunk's delay: uniform in [delayMs - jitterMs, delayMs + jitterMs], never below 0. */
export function sampleDelay(settings: LinkSettings, random: () => number): number {
  const { delayMs, jitterMs } = settings;
  if (jitterMs === 0) return delayMs;
  return Math.max(0, delayMs - jitterMs + 2 * jitterMs * random());
}

/** One direction of a link: when its wire is free again (shared by the link's connections). */
export class Wire {
  private freeAt = 0;

  /** When a chunk of this size, offered at `now`, has been put on the wire. */
  carry(now: number, bytes: number, bandwidth: number | null): number {
    if (bandwidth === null) return now;
    const start = Math.max(now, this.freeAt);
    this.freeAt = start + (bytes * 1000) / bandwidth;
    return this.freeAt;
  }
}

/** One direction of one connection: the due time of each chunk, in the order they were read. */
export class DueTimes {
  private last = 0;

  constructor(private readonly random: () => number = Math.random) {}

  next(now: number, bytes: number, settings: LinkSettings, wire: Wire): number {
    const sent = wire.carry(now, bytes, settings.bandwidth);
    this.last = Math.max(this.last, sent + sampleDelay(settings, this.random));
    return this.last;
  }
}

/**
 * How a chunk is cut before it is scheduled: with a bandwidth limit, into pieces of about 20 ms
 * of wire time (at least 512 bytes), so a large write trickles out instead of arriving whole.
 */
export function slices(chunk: Buffer, bandwidth: number | null): Buffer[] {
  if (bandwidth === null) return [chunk];
  const size = Math.max(512, Math.floor(bandwidth / 50));
  if (chunk.length <= size) return [chunk];
  const out: Buffer[] = [];
  for (let at = 0; at < chunk.length; at += size) out.push(chunk.subarray(at, at + size));
  return out;
}
