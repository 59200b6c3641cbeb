// Recovery: the durable state is the replay of every StorageWrite that reached stable storage,
// in the order written. The shell and the simulation both recover with this.

import { compareBallots } from "./ballot.js";
import type { AcceptedEntry, DurableState, StorageWrite } from "./types.js";

export function emptyDurableState(): DurableState {
  return { promised: null, accepted: [], snapshot: null };
}

/** Replays durable writes (oldest first) into the state a restarting node is built from. */
export function recoverDurableState(writes: Iterable<StorageWrite>): DurableState {
  const state = emptyDurableState();
  const accepted = new Map<number, AcceptedEntry>();
  const raise = (b: DurableState["promised"]) => {
    if (b && (!state.promised || compareBallots(b, state.promised) > 0)) state.promised = b;
  };
  for (const w of writes) {
    switch (w.type) {
      case "promise":
        raise(w.ballot);
        break;
      case "accept": {
        raise(w.ballot);
        const prev = accepted.get(w.slot);
        if (!prev || compareBallots(w.ballot, prev.ballot) >= 0) {
          accepted.set(w.slot, { slot: w.slot, ballot: w.ballot, value: w.value });
        }
        break;
      }
      case "snapshot":
        if (!state.snapshot || w.snapshot.index > state.snapshot.index) state.snapshot = w.snapshot;
        break;
    }
  }
  const floor = state.snapshot?.index ?? 0;
  state.accepted = [...accepted.values()]
    .filter((e) => e.slot > floor)
    .sort((a, b) => a.slot - b.slot);
  return state;
}

/**
 * The writes a compacted log needs to hold to recover `state` (a promise, a snapshot, the accepted
 * entries above it). A shell may rewrite its log as these (atomically) to collect garbage.
 */
export function compactWrites(state: DurableState): StorageWrite[] {
  const out: StorageWrite[] = [];
  if (state.promised) out.push({ type: "promise", ballot: state.promised });
  if (state.snapshot) out.push({ type: "snapshot", snapshot: state.snapshot });
  for (const e of state.accepted) out.push({ type: "accept", ...e });
  return out;
}

/**
 * What a log segment that starts with `batch` must begin with to stand alone: replaying these,
 * then `batch`, recovers what replaying `before`, then `batch`, does (so the segments holding
 * `before` may be deleted). That is the promise and the accepted entries above the batch's
 * snapshot; the snapshot covers the rest. Undefined when `batch` has no snapshot at least as new
 * as the one in `before`: older accept records are garbage only below a snapshot.
 */
export function segmentCarry(
  before: Iterable<StorageWrite>,
  batch: readonly StorageWrite[],
): StorageWrite[] | undefined {
  let floor = -1;
  for (const w of batch) if (w.type === "snapshot") floor = Math.max(floor, w.snapshot.index);
  if (floor < 0) return undefined;
  const state = recoverDurableState(before);
  if (state.snapshot && state.snapshot.index > floor) return undefined;
  const out: StorageWrite[] = [];
  if (state.promised) out.push({ type: "promise", ballot: state.promised });
  for (const e of state.accepted) if (e.slot > floor) out.push({ type: "accept", ...e });
  return out;
}
