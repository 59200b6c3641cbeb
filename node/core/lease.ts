// The wall-clock-lease mutant's lease (mutants.ts): the leader's belief, from its own wall clock,
// that no other node can lead before `until`. Only that mutant uses it; the correct core reads no
// wall clock at all (it confirms reads with a round of heartbeats: reads.ts).
//
// Why a quorum of acknowledged heartbeats grants a lease: a follower that acknowledged a
// heartbeat refuses to promise another node for electionTicks ticks after it received it, and
// received it after the leader sent it; so, on a true clock, once a quorum (the leader included)
// acknowledged heartbeats sent at or after wall time W, no other node can gather a quorum of
// promises before W + (a little under electionTicks ticks). The lease is exactly as good as the
// leader's wall clock: one that jumps back stretches it.

import type { NodeId } from "./types.js";

/** How many heartbeats' send times are remembered (acks of older ones grant nothing new). */
const REMEMBERED = 64;

export class WallClockLease {
  /** Heartbeats sent: the sender's tick (the heartbeat's `at`) -> its wall clock then. */
  private readonly sentAt = new Map<number, number>();
  /** Per follower, the latest heartbeat (`at`) it acknowledged. */
  private readonly latestAck = new Map<NodeId, number>();
  /** The lease holds while the leader's wall clock is below this. */
  until = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly quorum: number,
    private readonly leaseMs: number,
  ) {}

  /** A heartbeat `at` (a tick) left at wall time `wallMs`. */
  sent(at: number, wallMs: number): void {
    if (!this.sentAt.has(at)) this.sentAt.set(at, wallMs);
    if (this.sentAt.size > REMEMBERED) {
      const oldest = this.sentAt.keys().next().value as number;
      this.sentAt.delete(oldest);
    }
  }

  /** `from` acknowledged the heartbeat `at`: the lease may be extended. */
  acked(from: NodeId, at: number): void {
    if ((this.latestAck.get(from) ?? Number.NEGATIVE_INFINITY) >= at) return;
    this.latestAck.set(from, at);
    // The quorum-th latest acknowledgement, the leader counting as one (its own is now).
    const latest = [...this.latestAck.values()].sort((a, b) => b - a);
    const k = latest[this.quorum - 2];
    if (k === undefined) return;
    const wall = this.sentAt.get(k);
    if (wall !== undefined) this.until = Math.max(this.until, wall + this.leaseMs);
  }

  holds(wallMs: number | undefined): boolean {
    return wallMs !== undefined && wallMs < this.until;
  }
}
