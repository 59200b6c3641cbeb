// The proposer's per-ballot state. Phase 1 runs once for every slot from the first unchosen one
// on (`from`); with a quorum of promises the new leader re-proposes, in every slot above what is
// known chosen, the value accepted with the highest ballot, and fills holes with no-ops. Phase 2
// then runs per slot: a slot is chosen once a quorum accepted it at our ballot.

import type { ClientRequest } from "../command.js";
import { compareBallots } from "./ballot.js";
import type { AcceptedEntry, Ballot, ChosenEntry, NodeId, SlotValue, Snapshot } from "./types.js";

export const NOOP: SlotValue = { requests: [] };

export interface Promise1b {
  accepted: AcceptedEntry[];
  chosen: ChosenEntry[];
  snapshot?: Snapshot;
}

export class Phase1 {
  readonly promises = new Map<NodeId, Promise1b>();
  sentAt: number;

  constructor(
    readonly ballot: Ballot,
    readonly from: number,
    now: number,
  ) {
    this.sentAt = now;
  }

  /** The highest-ballot accepted value of every slot reported by the promises. */
  highestAccepted(): Map<number, AcceptedEntry> {
    const best = new Map<number, AcceptedEntry>();
    for (const p of this.promises.values()) {
      for (const e of p.accepted) {
        const prev = best.get(e.slot);
        if (!prev || compareBallots(e.ballot, prev.ballot) > 0) best.set(e.slot, e);
      }
    }
    return best;
  }
}

export interface Inflight {
  value: SlotValue;
  acks: Set<NodeId>;
  sentAt: number;
}

/** Phase 2 state of a leader for its ballot. */
export class Leadership {
  readonly inflight = new Map<number, Inflight>();
  /** Requests waiting for a slot, in arrival order, deduplicated by key. */
  queue: { key: string; request: ClientRequest }[] = [];
  readonly queued = new Set<string>();
  /** Peers' reported commit points. */
  readonly peerCommit = new Map<NodeId, number>();

  constructor(
    readonly ballot: Ballot,
    public nextSlot: number,
  ) {}

  /** Proposals beyond what phase 1 re-proposed, counted against maxInflight. */
  get inflightCount(): number {
    return this.inflight.size;
  }
}
