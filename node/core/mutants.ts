// Deliberate, classic Paxos bugs the core can be built with, to prove that the simulation and the
// harness catch them. Every one is off unless a NodeConfig names it; no normal build or run does.

export const MUTANTS = [
  /** A candidate sends its prepares before its own promise is durable (ballots reused after a restart). */
  "prepare-before-durable-promise",
] as const;

export type Mutant = (typeof MUTANTS)[number];
