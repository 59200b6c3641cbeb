// The proposer's phase 1. It runs once for every slot from the first unchosen one on (`from`);
// with a quorum of promises the new leader re-proposes, in every slot above what is known chosen,
// the value accepted with the highest ballot, and fills holes with no-ops. Phase 2 then runs per
// slot (leader.ts).

import { sameValue } from "./acceptor.js";
import { compareBallots } from "./ballot.js";
import type { AcceptedEntry, Ballot, ChosenEntry, NodeId, SlotValue, Snapshot } from "./types.js";

export const NOOP: SlotValue = { requests: [] };

/**
 * The gap-filled-with-client-value mutant's value for a hole (mutants.ts): the commands of the
 * nearest later slot up to `maxSlot` whose value (`valueAt`) holds any, each under a client id of
 * the leader's own, so no session recognises the copy; a no-op when there is none.
 */
export function clientValueForHole(
  hole: number,
  maxSlot: number,
  ballot: Ballot,
  valueAt: (slot: number) => SlotValue | undefined,
): SlotValue {
  for (let slot = hole + 1; slot <= maxSlot; slot++) {
    const later = valueAt(slot);
    if (!later || later.requests.length === 0) continue;
    return {
      requests: later.requests.map((r, i) => ({
        clientId: `gap/${ballot.round}/${ballot.node}/${hole}/${i}`,
        seq: 1,
        command: r.command,
      })),
    };
  }
  return NOOP;
}

export interface Promise1b {
  accepted: AcceptedEntry[];
  chosen: ChosenEntry[];
  snapshot?: Snapshot;
}

export class Phase1 {
  readonly promises = new Map<NodeId, Promise1b>();
  sentAt: number;
  /** When phase 1 began: how long it took to win bounds a round trip to a quorum. */
  readonly startedAt: number;

  constructor(
    readonly ballot: Ballot,
    readonly from: number,
    now: number,
  ) {
    this.sentAt = now;
    this.startedAt = now;
  }

  /**
   * The highest-ballot accepted value of every slot reported by the promises. Two promises that
   * report different values for one slot under equal ballots mean a ballot was used twice: no
   * choice between them is safe, so each such slot is reported in `conflicts`.
   */
  highestAccepted(): { best: Map<number, AcceptedEntry>; conflicts: string[] } {
    const best = new Map<number, AcceptedEntry>();
    const conflicts: string[] = [];
    for (const p of this.promises.values()) {
      for (const e of p.accepted) {
        const prev = best.get(e.slot);
        const c = prev ? compareBallots(e.ballot, prev.ballot) : 1;
        if (c > 0) best.set(e.slot, e);
        else if (c === 0 && prev && !sameValue(prev.value, e.value)) {
          conflicts.push(
            `slot ${e.slot}: two values accepted under ballot ${e.ballot.round}/${e.ballot.node}`,
          );
        }
      }
    }
    return { best, conflicts };
  }
}
