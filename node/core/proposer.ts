// The proposer's phase 1. It runs once for every slot from the first unchosen one on (`from`);
// with a quorum of promises the new leader re-proposes, in every slot above what is known chosen,
// the value accepted with the highest ballot, and fills holes with no-ops. Phase 2 then runs per
// slot (leader.ts).

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
