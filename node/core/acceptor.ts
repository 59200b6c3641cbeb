// The acceptor: the durable half of Paxos. Its two rules:
//   prepare(b): if b >= promised, promise b (write it) and report the accepted values; else refuse
//               with the highest promise.
//   accept(b, slot, v): if b >= promised, accept (write it; b becomes the promise); else refuse.
// One more refusal, defence in depth: an accept of a different value for a (slot, ballot) it
// already accepted. A correct proposer never sends one (a ballot is used once, for one value per
// slot); answering `accepted` to it would let a reused ballot count a false ack.
// Every change comes back as a StorageWrite; the node releases the answer only after the write is
// durable (see outbox.ts). Entries at or below the snapshot's index are dropped (compact).

import { compareBallots, ZERO_BALLOT } from "./ballot.js";
import type { AcceptedEntry, Ballot, DurableState, SlotValue, StorageWrite } from "./types.js";

export type AcceptorAnswer =
  | { ok: true; write?: StorageWrite }
  | { ok: false; promised: Ballot; conflict?: AcceptedEntry };

/** Values are plain JSON built the same way on every node, so their texts compare. */
export function sameValue(a: SlotValue, b: SlotValue): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export class Acceptor {
  promised: Ballot;
  /** The order of ballots; a mutant compares rounds only. */
  private readonly compare: (a: Ballot, b: Ballot) => number;
  private readonly accepted = new Map<number, AcceptedEntry>();
  /** Slots at or below this are compacted (covered by a snapshot). */
  compactedTo: number;

  constructor(durable: DurableState, roundOnly = false) {
    this.compare = roundOnly ? (a, b) => a.round - b.round : compareBallots;
    this.promised = durable.promised ?? ZERO_BALLOT;
    this.compactedTo = durable.snapshot?.index ?? 0;
    for (const e of durable.accepted) if (e.slot > this.compactedTo) this.accepted.set(e.slot, e);
  }

  /** Whether `ballot` is below the promise: a leader's heartbeat under it is refused. */
  below(ballot: Ballot): boolean {
    return this.compare(ballot, this.promised) < 0;
  }

  prepare(ballot: Ballot): AcceptorAnswer {
    const c = this.compare(ballot, this.promised);
    if (c < 0) return { ok: false, promised: this.promised };
    if (c === 0) return { ok: true };
    this.promised = ballot;
    return { ok: true, write: { type: "promise", ballot } };
  }

  accept(ballot: Ballot, slot: number, value: SlotValue): AcceptorAnswer {
    if (this.compare(ballot, this.promised) < 0) return { ok: false, promised: this.promised };
    const prev = this.accepted.get(slot);
    if (prev && compareBallots(prev.ballot, ballot) === 0) {
      if (sameValue(prev.value, value)) return { ok: true }; // a duplicate
      return { ok: false, promised: this.promised, conflict: prev };
    }
    this.promised = ballot;
    this.accepted.set(slot, { slot, ballot, value });
    return { ok: true, write: { type: "accept", slot, ballot, value } };
  }

  /** The accepted entries at slots >= from, in slot order. */
  acceptedFrom(from: number): AcceptedEntry[] {
    const out: AcceptedEntry[] = [];
    for (const e of this.accepted.values()) if (e.slot >= from) out.push(e);
    return out.sort((a, b) => a.slot - b.slot);
  }

  compact(index: number): void {
    if (index <= this.compactedTo) return;
    this.compactedTo = index;
    for (const slot of [...this.accepted.keys()]) if (slot <= index) this.accepted.delete(slot);
  }
}
