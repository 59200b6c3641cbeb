// Ballots: (round, node id), totally ordered; the zero ballot is below every real one.

import type { Ballot, NodeId } from "./types.js";

export const ZERO_BALLOT: Ballot = { round: 0, node: "" };

export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  if (a.node === b.node) return 0;
  return a.node < b.node ? -1 : 1;
}

export function ballotEqual(a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.node === b.node;
}

/** The smallest ballot of `node` above round `round`. */
export function nextBallot(round: number, node: NodeId): Ballot {
  return { round: round + 1, node };
}
