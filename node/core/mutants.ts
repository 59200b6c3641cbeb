// Deliberate, classic Paxos bugs the core can be built with, to prove that the simulation and the
// harness catch them. Every one is off unless a NodeConfig names it; no normal build or run does.

export const MUTANTS = [
  /** A candidate sends its prepares before its own promise is durable (ballots reused after a restart). */
  "prepare-before-durable-promise",
  /** An acceptor answers `promise` and `accepted` before the write behind them is durable. */
  "answer-before-durable",
  /** Ballots compared by round only: an acceptor accepts (round, b) under a promise of (round, a). */
  "ballot-round-only",
  /** A new leader ignores the values phase 1 reported and proposes no-ops in their slots. */
  "ignore-accepted-in-phase1",
  /** A leader answers reads from its own state at once, and never steps down for want of a quorum. */
  "leader-local-reads",
  /** A restarting node forgets its promise (it keeps its accepted values). */
  "forget-promise-on-restart",
] as const;

export type Mutant = (typeof MUTANTS)[number];
