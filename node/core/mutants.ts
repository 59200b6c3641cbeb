// Deliberate, classic Paxos bugs the core can be built with, to prove that the simulation and the
// harness catch them. Every one is off unless a NodeConfig names it; no normal build or run does.

export const MUTANTS = [
  /** A candidate sends its prepares before its own promise is durable (ballots reused after a restart). */
  "prepare-before-durable-promise",
  /** An acceptor answers `promise` and `accepted` before the write behind them is durable. */
  "answer-before-durable",
  /**
   * Ballots compared by round only, in every check an acceptor makes against its promise
   * (prepare, accept, a leader's heartbeat): it accepts (round, b) under a promise of (round, a).
   */
  "ballot-round-only",
  /** A new leader ignores the values phase 1 reported and proposes no-ops in their slots. */
  "ignore-accepted-in-phase1",
  /** A leader answers reads from its own state at once, and never steps down for want of a quorum. */
  "leader-local-reads",
  /**
   * The ReadIndex shortcut without its round (reads.ts): a leader answers a read (its own, or a
   * follower's request for a read index) once it has applied its read index, without a quorum's
   * heartbeat acknowledgements confirming it still leads. A leader deposed but not yet aware
   * (its check-quorum window has not run out) answers stale reads.
   */
  "read-unconfirmed",
  /** A restarting node forgets its promise (it keeps its accepted values). */
  "forget-promise-on-restart",
  /**
   * A new leader fills a hole with a client value instead of a no-op. A hole is a slot below the
   * highest one the leader knows of (chosen, or reported by phase 1) for which no promise reported
   * an accepted value. Paxos lets such a slot take any value, and the correct rule fills it with a
   * no-op, because the leader cannot know whether a client command it holds is already in a later
   * slot. The mutant fills it with the commands of the nearest later slot that holds a value (a
   * value phase 1 reported, or one known chosen), which it also keeps in that slot, as it must: so
   * each of those commands is in the log twice and takes effect twice, at two points in the order
   * (first in the hole, unanswered, then in its own slot, where its client is answered).
   *
   * Dedup: the copy carries the commands without the clients' sessions (each copied request gets
   * a client id of the leader's own, `gap/<round>/<leader>/<slot>/<i>`, seq 1), as a leader whose
   * log holds commands would propose them. That is the bug's faithful form here: the replicas'
   * sessions recognise a client's retries of one request, and a copy that kept the client's
   * (clientId, seq) would be applied once and answer the client from the hole, which is the
   * harmless freedom Paxos gives a hole, not the bug. Dedup works as before for every request a
   * client sent, so what catches this mutant is the double effect alone.
   */
  "gap-filled-with-client-value",
  /**
   * A leader lease that trusts the wall clock. The shell passes its wall clock (Date.now()) with
   * every tick; a leader notes it when it sends a heartbeat, and once a quorum (itself included)
   * has acknowledged heartbeats sent at or after wall time W, it holds a lease until W + leaseMs
   * (electionTicks - 2 ticks of the shell's tick length: a follower refuses to promise another
   * node for electionTicks ticks after it heard the leader). While the lease holds on its wall
   * clock, the leader answers reads from its own state, without a log slot or a confirmation
   * round (once it has applied every slot below its first own one), and it trusts the lease for
   * its leadership too: it steps down when the lease has run out, instead of when a check-quorum
   * window of ticks passed without a quorum. A restarted node refuses to promise for an election
   * timeout (the lease's rule for a follower that forgot whom it followed). On a true clock this
   * is safe; a leader whose wall clock jumps back by more than a lease keeps answering from its
   * own state after a new leader was elected without it: stale reads.
   */
  "wall-clock-lease",
] as const;

export type Mutant = (typeof MUTANTS)[number];

/**
 * Mutants that no run seen only through its clients and replicas can catch, with the reason:
 * the rest of the protocol masks them. `paxos-harness validate` does not run them unless named;
 * the simulation still catches them, on invariants that look inside the nodes.
 */
export const EQUIVALENT_MUTANTS: Readonly<Partial<Record<Mutant, string>>> = {
  // node/test/ballot-reuse.test.ts shows both halves: the lost write when pre-votes are faked,
  // and the refused pre-votes when they are asked honestly.
  "prepare-before-durable-promise":
    "masked by pre-vote: a restarted candidate could reuse its ballot only with the pre-votes of q-1 peers that did not promise it, but its first phase 1 had the promises of q peers (its own counts once durable), and q + q-1 > n-1",
};
