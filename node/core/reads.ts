// Linearizable reads without a log slot, the ReadIndex way (Raft §6.4), as books the node keeps:
// the node sends the messages and answers the reads.
//
// A read that arrives at the leader (its own client's, or a follower's request for a read index)
// joins the next batch. A batch starts a confirmation round: the leader notes its read index and
// sends a heartbeat tagged with the round; once a quorum (itself included) acknowledged a
// heartbeat tagged with that round or a later one, it still led when the round started, which was
// after every read of the batch arrived. Its read index then covers every write acknowledged
// before: a write chosen under an earlier ballot is at or below the highest slot its phase 1
// learned of, one chosen under its own ballot it knew chosen before anyone could apply it. Once
// the answering node has applied up to the index, its state machine answers every read of the
// batch. One round serves every read that arrived while the previous one was out.
//
// An acceptor acknowledges a heartbeat only while it has promised nothing higher, so a leader
// deposed before the round started cannot gather its quorum: it never confirms a read.

import type { NodeId } from "./types.js";

/** Who waits for a batch's read index: a read of this node's, or a follower's request. */
export type ReadWaiter<Local> = { local: Local } | { follower: NodeId; id: number };

interface Batch<Local> {
  round: number;
  index: number;
  acks: Set<NodeId>;
  waiters: ReadWaiter<Local>[];
}

/** The leader's confirmation rounds. */
export class ReadRounds<Local> {
  private lastRound = 0;
  private current: Batch<Local> | null = null;
  private next: ReadWaiter<Local>[] = [];
  /** The node's own reads in a round or waiting for one (a retry does not queue one twice). */
  private readonly locals = new Set<Local>();

  /** A read (or a follower's request) that arrived now: it waits for the next round. */
  add(waiter: ReadWaiter<Local>): void {
    if ("local" in waiter) {
      if (this.locals.has(waiter.local)) return;
      this.locals.add(waiter.local);
    }
    this.next.push(waiter);
  }

  /** Whether a round can start now: reads arrived and none is out. */
  get canStart(): boolean {
    return this.current === null && this.next.length > 0;
  }

  /**
   * Starts a round for the reads that arrived since the last one started, unless one is out or
   * none arrived; returns its number (for the heartbeat's tag).
   */
  start(index: number): number | undefined {
    if (this.current || this.next.length === 0) return undefined;
    this.current = { round: ++this.lastRound, index, acks: new Set(), waiters: this.next };
    this.next = [];
    return this.current.round;
  }

  /** The round out, if any: every heartbeat carries it (a lost one is retried with them). */
  get roundOut(): number | undefined {
    return this.current?.round;
  }

  /**
   * `from` acknowledged a heartbeat tagged `round`. Returns the confirmed batch's index and
   * waiters once a quorum (the leader included: `quorum - 1` peers) has.
   */
  ack(
    from: NodeId,
    round: number,
    quorum: number,
  ): { index: number; waiters: ReadWaiter<Local>[] } | undefined {
    const b = this.current;
    if (!b || round < b.round) return undefined;
    b.acks.add(from);
    return b.acks.size + 1 >= quorum ? this.confirm() : undefined;
  }

  /** The round out counts as confirmed now (a one-node cluster; the unconfirmed-read mutant). */
  confirm(): { index: number; waiters: ReadWaiter<Local>[] } | undefined {
    const b = this.current;
    if (!b) return undefined;
    this.current = null;
    for (const w of b.waiters) if ("local" in w) this.locals.delete(w.local);
    return { index: b.index, waiters: b.waiters };
  }
}

/**
 * Reads that know their index and wait until this node has applied it. The whole list is looked
 * at each time: a follower's replies can come back out of order, and it is short (the reads of a
 * round or two).
 */
export class AppliedWaiters<Local> {
  private waiting: { index: number; local: Local }[] = [];

  add(index: number, local: Local): void {
    this.waiting.push({ index, local });
  }

  /** The waiters whose index is applied (`applied` or below), taken out. */
  due(applied: number): Local[] {
    if (this.waiting.length === 0) return [];
    const out: Local[] = [];
    const rest: { index: number; local: Local }[] = [];
    for (const w of this.waiting) {
      if (w.index <= applied) out.push(w.local);
      else rest.push(w);
    }
    this.waiting = rest;
    return out;
  }

  get size(): number {
    return this.waiting.length;
  }
}
