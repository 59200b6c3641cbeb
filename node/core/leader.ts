// The leader's phase 2 for its ballot: the client requests waiting for a slot (in arrival order,
// deduplicated), the slots proposed and not yet chosen with the acceptors that accepted them, and
// the next free slot. Like the acceptor it only keeps the books: the node sends the messages it
// hands back. A slot is chosen once a quorum accepted it at this ballot. A request already in a
// slot in flight is not queued again (a follower re-forwards what it has not heard back about).

import type { ClientRequest } from "../command.js";
import { ReadRounds } from "./reads.js";
import { type PendingRequest, requestKey } from "./requests.js";
import type { Ballot, NodeId, PeerMessage, SlotValue } from "./types.js";

interface Inflight {
  value: SlotValue;
  acks: Set<NodeId>;
  sentAt: number;
}

export class Leadership {
  private readonly inflight = new Map<number, Inflight>();
  private queue: { key: string; request: ClientRequest }[] = [];
  private readonly queued = new Set<string>();
  /** Keys of the requests in slots proposed and not yet chosen. */
  private readonly inSlots = new Set<string>();

  /** Reads waiting for a confirmation round of this leadership (reads.ts). */
  readonly reads = new ReadRounds<PendingRequest>();
  /** The first slot this leader proposed in, past every slot its phase 1 learned of. */
  readonly firstSlot: number;

  constructor(
    readonly ballot: Ballot,
    public nextSlot: number,
  ) {
    this.firstSlot = nextSlot;
  }

  /** Queues a request for a slot (once: a request already queued is not queued again). */
  enqueue(request: ClientRequest): void {
    const key = requestKey(request);
    if (this.queued.has(key) || this.inSlots.has(key)) return;
    this.queued.add(key);
    this.queue.push({ key, request });
  }

  /** Whether queued requests may go into a new slot now (fewer than maxInflight in flight). */
  canFill(maxInflight: number): boolean {
    return this.queue.length > 0 && this.inflight.size < maxInflight;
  }

  /** Takes the next (at most `max`) queued requests, in arrival order. */
  takeBatch(max: number): ClientRequest[] {
    const batch = this.queue.splice(0, max);
    for (const b of batch) this.queued.delete(b.key);
    return batch.map((b) => b.request);
  }

  private drop(slot: number, inf: Inflight): void {
    this.inflight.delete(slot);
    for (const r of inf.value.requests) this.inSlots.delete(requestKey(r));
  }

  /** Proposes `value` in `slot`; returns the accept to send to every acceptor. */
  propose(slot: number, value: SlotValue, now: number): PeerMessage {
    this.inflight.set(slot, { value, acks: new Set(), sentAt: now });
    for (const r of value.requests) this.inSlots.add(requestKey(r));
    return { type: "accept", ballot: this.ballot, slot, value };
  }

  /** Counts `from`'s accepted for `slot`; returns the slot's value once a quorum accepted it. */
  accepted(from: NodeId, slot: number, quorum: number): SlotValue | undefined {
    const inf = this.inflight.get(slot);
    if (!inf) return undefined;
    inf.acks.add(from);
    if (inf.acks.size < quorum) return undefined;
    this.drop(slot, inf);
    return inf.value;
  }

  /**
   * The accepts unanswered for `retryTicks` (stalled), each with the acceptors that did answer;
   * they count as re-sent now.
   */
  stalled(now: number, retryTicks: number): { msg: PeerMessage; answered: Set<NodeId> }[] {
    const out: { msg: PeerMessage; answered: Set<NodeId> }[] = [];
    for (const [slot, inf] of this.inflight) {
      if (now - inf.sentAt < retryTicks) continue;
      inf.sentAt = now;
      out.push({
        msg: { type: "accept", ballot: this.ballot, slot, value: inf.value },
        answered: inf.acks,
      });
    }
    return out;
  }

  /** A snapshot up to `index` was installed: those slots are decided, propose above it. */
  compact(index: number): void {
    for (const [slot, inf] of this.inflight) if (slot <= index) this.drop(slot, inf);
    this.nextSlot = Math.max(this.nextSlot, index + 1);
  }
}
