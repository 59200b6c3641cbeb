// A fault aimed at a moment: `when: leader-change` (fault-schedule.ts) holds a fault back until a
// node other than the one leading when the wait began reports itself leader. The moment right
// after an election is where a new leader's first proposals are accepted but not yet known to be
// chosen, and a random time almost never lands in it.
//
// The looks overlap: one starts every POLL_MS, whatever the ones before are doing. A look asks
// every node, and a paused node answers only when the look times out (LIVE_ANSWER_MS), so one look
// after another would see an election up to that long after it ended.

import { LIVE_ANSWER_MS } from "../limits.js";
import type { ClusterView, NodeId } from "../types.js";

export const WHEN = ["leader-change"] as const;
export type When = (typeof WHEN)[number];

const POLL_MS = 20;
/** Looks in flight at once, at most (a look at a silent node waits out its timeout). */
const MAX_LOOKS = 50;

export interface LeaderChange {
  /** The leader when the wait began (undefined: none was known). */
  from: NodeId | undefined;
  to: NodeId;
  waitedMs: number;
}

/**
 * Resolves when a leader other than the one known at the start reports itself, or to undefined
 * after `withinMs` (or on `signal`). The leader "at the start" is what the first look says; a
 * later look that saw the new leader before the first one finished still counts.
 */
export function awaitLeaderChange(
  cluster: ClusterView,
  withinMs: number,
  signal?: AbortSignal,
): Promise<LeaderChange | undefined> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    let from: { leader: NodeId | undefined } | undefined;
    const seen: NodeId[] = [];
    let inFlight = 0;
    const finish = (change: LeaderChange | undefined) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(deadline);
      signal?.removeEventListener("abort", abort);
      resolve(change);
    };
    const decide = () => {
      if (from === undefined) return;
      const to = seen.find((l) => l !== from?.leader);
      if (to !== undefined) {
        finish({ from: from.leader, to, waitedMs: Math.round(performance.now() - started) });
      }
    };
    const look = (first: boolean) => {
      inFlight++;
      cluster.leader(LIVE_ANSWER_MS).then(
        (leader) => {
          inFlight--;
          if (first) from = { leader };
          else if (leader !== undefined) seen.push(leader);
          decide();
        },
        () => {
          inFlight--;
          if (first) from = { leader: undefined };
          decide();
        },
      );
    };
    const abort = () => finish(undefined);
    const timer = setInterval(() => {
      if (!done && inFlight < MAX_LOOKS) look(false);
    }, POLL_MS);
    const deadline = setTimeout(() => finish(undefined), withinMs);
    signal?.addEventListener("abort", abort, { once: true });
    look(true);
  });
}
