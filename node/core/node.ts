// PaxosNode: the consensus core, composing acceptor, proposer (phase 1), leader (phase 2),
// learner, election, pending requests and outbox.
// A pure deterministic state machine: the shell feeds it ticks, peer messages, client requests
// and storage completions, and drains ready(). No I/O, no timers, no clocks, no Math.random:
// randomness comes from the injected `random` function (seed it for reproducible runs). The
// shell's wall clock comes in with each tick, and only the wall-clock-lease mutant reads it.

import type { ClientRequest, CommandResult } from "../command.js";
import { Acceptor } from "./acceptor.js";
import { ballotEqual, compareBallots, nextBallot } from "./ballot.js";
import { ElectionTimer } from "./election.js";
import { Leadership } from "./leader.js";
import { Learner } from "./learner.js";
import { WallClockLease } from "./lease.js";
import { Outbox } from "./outbox.js";
import { clientValueForHole, NOOP, Phase1 } from "./proposer.js";
import { AppliedWaiters, type ReadWaiter } from "./reads.js";
import { type PendingRequest, PendingRequests } from "./requests.js";
import { emptyDurableState } from "./storage.js";
import type {
  AcceptedEntry,
  Ballot,
  ChosenEntry,
  DurableState,
  NodeConfig,
  NodeId,
  NodeStatus,
  Outbound,
  PeerMessage,
  Ready,
  Reply,
  ReqId,
  Role,
  SlotValue,
  Snapshot,
} from "./types.js";

/** Whether a ready() batch has nothing to do (the shell's drain loop stops at the first one). */
export function isEmptyReady(rd: Ready): boolean {
  return (
    rd.persist.length === 0 &&
    rd.messages.length === 0 &&
    rd.replies.length === 0 &&
    rd.applied.length === 0 &&
    (rd.violations === undefined || rd.violations.length === 0)
  );
}

export interface NodeOptions {
  config: NodeConfig;
  /** The recovered durable state (recoverDurableState of every durable write); none = fresh. */
  durable?: DurableState;
  /** A uniform random number in [0, 1); used only for election timeouts. */
  random: () => number;
}

export class PaxosNode {
  readonly id: NodeId;
  private readonly cfg: NodeConfig;
  /** Every member, this node first. */
  private readonly members: NodeId[];
  private readonly peers: NodeId[];
  private readonly quorum: number;
  private readonly acceptor: Acceptor;
  private readonly learner: Learner;
  private readonly outbox: Outbox;
  private readonly timer: ElectionTimer;
  private readonly pending = new PendingRequests();

  /** Candidate: phase 1 of our ballot. Leader: phase 2 of it. Neither: follower. */
  private phase1: Phase1 | null = null;
  /** A pre-vote in progress: the round asked about and who said yes (ourselves included). */
  private prevote: { round: number; granted: Set<NodeId>; sentAt: number } | null = null;
  private leadership: Leadership | null = null;
  /** The leader we follow (ourselves when leading), null if none known. */
  private leaderId: NodeId | null = null;
  private leaderBallot: Ballot | null = null;
  private maxRound: number;
  private now = 0;
  /** The shell's wall clock at the latest tick (ms), if it passes one. */
  private wallMs: number | undefined;
  /**
   * The wall-clock-lease mutant only: the leader's lease, and the first slot of its own (reads
   * from its state wait until every slot below is applied, as phase 1's re-proposals may hold
   * writes another node already acknowledged).
   */
  private lease: { clock: WallClockLease; readsFrom: number } | null = null;

  private outMessages: Outbound[] = [];
  private outReplies: Reply[] = [];
  private appliedOut: ChosenEntry[] = [];
  private newlyChosen: ChosenEntry[] = [];
  private toForward: ClientRequest[] = [];
  /** A follower's reads to ask the leader a read index for, in the next ready() (reads.ts). */
  private readsToAsk: PendingRequest[] = [];
  /** A follower's read-index requests out: their reads, and when they were sent. */
  private readonly readAsks = new Map<number, { reads: PendingRequest[]; at: number }>();
  private nextReadAsk = 1;
  /** Reads with a confirmed index, waiting for this node to apply it. */
  private readonly readsDue = new AppliedWaiters<PendingRequest>();
  private snapshotInstalled: number | undefined;
  private violations: string[] = [];
  /** The latest round trip to a peer, in ticks (phase 1's, then heartbeats'). */
  private rttTicks = 0;
  /** When each peer's commit point, behind or ahead of ours, was last acted on (a catch-up). */
  private readonly caughtUpAt = new Map<NodeId, number>();
  /** Snapshots sent to a peer and not yet seen arrive (its commit point), with when. */
  private readonly snapshotPushes = new Map<NodeId, { index: number; at: number }>();

  constructor(opts: NodeOptions) {
    this.cfg = opts.config;
    this.id = opts.config.id;
    this.peers = opts.config.peers.filter((p) => p !== this.id);
    this.members = [this.id, ...this.peers];
    this.outbox = new Outbox(
      this.cfg.mutant !== "prepare-before-durable-promise",
      this.cfg.mutant !== "answer-before-durable",
    );
    this.quorum = Math.floor(this.members.length / 2) + 1;
    const recovered = opts.durable ?? emptyDurableState();
    const m = this.cfg.mutant;
    const durable =
      m === "forget-promise-on-restart" ? { ...recovered, promised: null } : recovered;
    this.acceptor = new Acceptor(durable, m === "ballot-round-only");
    this.learner = new Learner(durable.snapshot, this.cfg.catchupMargin ?? this.cfg.snapshotEvery);
    this.maxRound = this.acceptor.promised.round;
    this.timer = new ElectionTimer(this.cfg.electionTicks, opts.random);
  }

  // ---- The API the shell calls ------------------------------------------------------------

  /**
   * One unit of logical time. `wallClockMs`: the shell's wall clock now (Date.now()); the core
   * never needs it (only the wall-clock-lease mutant reads it).
   */
  tick(wallClockMs?: number): void {
    this.now++;
    if (wallClockMs !== undefined) this.wallMs = wallClockMs;
    this.onTick();
    this.settle();
  }

  /** A message from peer `from`. Messages may be lost, duplicated and reordered. */
  receive(from: NodeId, msg: PeerMessage): void {
    if (from === this.id || !this.members.includes(from)) return;
    this.handle(from, msg);
    this.settle();
  }

  /**
   * A client request. Its answer comes back as a Reply with this reqId: the command's result,
   * or `unavailable` (definitely not applied). A request that was already handed to consensus
   * and then lost gets no answer: the shell's timeout makes it indeterminate.
   */
  clientRequest(reqId: ReqId, request: ClientRequest): void {
    this.onClientRequest(reqId, request);
    this.settle();
  }

  /** Every write of the ready() batch `token` (and of all earlier batches) is durable. */
  persisted(token: number): void {
    this.outbox.persisted(token);
    this.settle();
  }

  /** Whether ready() has anything. */
  hasReady(): boolean {
    return (
      this.newlyChosen.length > 0 ||
      this.toForward.length > 0 ||
      this.readsToAsk.length > 0 ||
      this.leadership?.reads.canStart === true ||
      this.leadership?.canFill(this.cfg.maxInflight) === true ||
      this.outbox.hasWork() ||
      this.outMessages.length > 0 ||
      this.outReplies.length > 0 ||
      this.appliedOut.length > 0 ||
      this.violations.length > 0
    );
  }

  /** What to persist, send and answer now (see Ready for the ordering rule). */
  ready(): Ready {
    this.settle(true);
    const { writes, token } = this.outbox.takeWrites();
    const rd: Ready = {
      persist: writes,
      messages: this.outMessages,
      replies: this.outReplies,
      applied: this.appliedOut,
    };
    if (token !== undefined) rd.token = token;
    if (this.snapshotInstalled !== undefined) rd.snapshotInstalled = this.snapshotInstalled;
    if (this.violations.length > 0) rd.violations = this.violations;
    this.violations = [];
    this.outMessages = [];
    this.outReplies = [];
    this.appliedOut = [];
    this.snapshotInstalled = undefined;
    return rd;
  }

  private get role(): Role {
    return this.leadership ? "leader" : this.phase1 ? "candidate" : "follower";
  }

  /** Our own ballot as candidate or leader. */
  private get myBallot(): Ballot | null {
    return (this.leadership ?? this.phase1)?.ballot ?? null;
  }

  status(): NodeStatus {
    return {
      id: this.id,
      role: this.role,
      leader: this.leaderId,
      ballot: this.myBallot ?? this.leaderBallot,
      promised: this.acceptor.promised.round === 0 ? null : this.acceptor.promised,
      commitIndex: this.learner.applied,
      appliedIndex: this.learner.applied,
      snapshotIndex: this.learner.snapshotIndex,
      pendingRequests: this.pending.size,
    };
  }

  /**
   * What this replica's state machine holds for a request (for checks that an acknowledged
   * request survived): its result, "stale" once the client's later request replaced it, or
   * undefined if it was never applied here.
   */
  appliedResult(request: ClientRequest): CommandResult | "stale" | undefined {
    return this.learner.sm.lookup(request);
  }

  /** The key-value contents, canonically (for checks that replicas agree). */
  stateDigest(): string {
    return this.learner.sm.digest();
  }

  /** The digest of the applied log (log-digest.ts), if known since the last snapshot installed. */
  logDigest(): string | undefined {
    return this.learner.logDigest;
  }

  // ---- Settling: proposals, chosen broadcasts, messages to ourselves ----------------------

  /**
   * Runs what the last input set off. Queued requests are put into slots, newly chosen values
   * broadcast and client requests forwarded only from ready() (`flush`): whatever piled up since
   * the previous ready() then shares one slot, one `chosen` and one `forward` message, so a shell
   * that drains once per event-loop turn batches what arrived together.
   */
  private settle(flush = false): void {
    for (;;) {
      if (flush) this.flush();
      let progressed = false;
      for (const h of this.outbox.release()) {
        if (h.kind === "reply") this.outReplies.push({ reqId: h.reqId, result: h.result });
        else if (h.to !== this.id) this.outMessages.push({ to: h.to, msg: h.msg });
        else {
          this.handle(this.id, h.msg);
          progressed = true;
        }
      }
      if (!progressed) return;
    }
  }

  private flush(): void {
    this.fillSlots();
    if (this.newlyChosen.length > 0) {
      const entries = this.newlyChosen;
      this.newlyChosen = [];
      this.sendToPeers({ type: "chosen", entries });
    }
    if (this.toForward.length > 0) {
      const requests = this.toForward;
      this.toForward = [];
      if (this.leaderId !== null && this.leaderId !== this.id) {
        this.send(this.leaderId, { type: "forward", requests });
      }
    }
    this.askReadIndex();
    if (this.leadership) this.startReadRound(this.leadership);
  }

  // ---- Reads (reads.ts) ---------------------------------------------------------------------

  /** Leader: a confirmation round for the reads that arrived since the last one started. */
  private startReadRound(L: Leadership): void {
    // Every write acknowledged before these reads arrived is at or below this slot.
    const index = Math.max(this.learner.maxChosen(), L.firstSlot - 1);
    if (L.reads.start(index) === undefined) return;
    if (this.quorum <= 1 || this.cfg.mutant === "read-unconfirmed") {
      const done = L.reads.confirm();
      if (done) this.readsConfirmed(done);
    } else this.heartbeat(L);
  }

  private readsConfirmed(done: { index: number; waiters: ReadWaiter<PendingRequest>[] }): void {
    for (const w of done.waiters) {
      if ("local" in w) this.readsDue.add(done.index, w.local);
      else this.send(w.follower, { type: "readIndexReply", id: w.id, index: done.index });
    }
    this.answerReads();
  }

  /** Follower: one read-index request to the leader for the reads that arrived meanwhile. */
  private askReadIndex(): void {
    if (this.readsToAsk.length === 0) return;
    const reads = this.readsToAsk;
    this.readsToAsk = [];
    if (this.leaderId === null || this.leaderId === this.id) return; // retried in pendingTick
    const id = this.nextReadAsk++;
    this.readAsks.set(id, { reads, at: this.now });
    this.send(this.leaderId, { type: "readIndex", id });
  }

  private onReadIndexReply(id: number, index: number): void {
    const ask = this.readAsks.get(id);
    if (!ask) return;
    this.readAsks.delete(id);
    for (const p of ask.reads) this.readsDue.add(index, p);
    this.answerReads();
  }

  /** The reads whose index is applied here: answered from this node's state machine. */
  private answerReads(): void {
    for (const p of this.readsDue.due(this.learner.applied)) {
      // Answered once: a read retried meanwhile may wait in more than one place.
      if (this.pending.get(p.request) !== p) continue;
      this.pending.take(p.request);
      const { command } = p.request;
      if (command.op === "read") this.reply(p, this.learner.sm.read(command.key));
    }
  }

  private send(to: NodeId, msg: PeerMessage): void {
    this.outbox.send(to, msg);
  }

  private sendToPeers(msg: PeerMessage): void {
    for (const p of this.peers) this.send(p, msg);
  }

  /** To every member (ourselves included) that has not answered yet. */
  private broadcast(msg: PeerMessage, answered?: { has(n: NodeId): boolean }): void {
    for (const n of this.members) if (!answered?.has(n)) this.send(n, msg);
  }

  private reply(p: PendingRequest, result: CommandResult): void {
    for (const reqId of p.reqIds) this.outbox.reply(reqId, result);
  }

  // ---- Ticks: elections, heartbeats, retries ---------------------------------------------

  private onTick(): void {
    if (this.leadership) this.leaderTick(this.leadership);
    else {
      const p1 = this.phase1;
      const pv = this.prevote;
      this.timer.elapsed++;
      if (this.timer.expired()) {
        // A candidate still waiting for its own promise to be durable has sent nothing yet:
        // starting over would only raise its promise again behind a slow disk.
        if (p1 && !p1.promises.has(this.id)) this.timer.reset();
        else {
          this.timer.backOff();
          this.startPrevote();
        }
      } else if (p1 && this.now - p1.sentAt >= this.cfg.retryTicks) {
        p1.sentAt = this.now;
        this.sendPrepares(p1);
      } else if (pv && this.now - pv.sentAt >= this.cfg.retryTicks) {
        pv.sentAt = this.now;
        this.sendPrevotes(pv);
      }
    }
    this.pendingTick();
  }

  /** Heartbeats, check-quorum, re-sent stalled accepts. */
  private leaderTick(L: Leadership): void {
    const t = this.timer;
    if (++t.heartbeatElapsed >= this.cfg.heartbeatTicks) this.heartbeat(L);
    // The window allows for the round trip: on a slow network (a delay of a whole election
    // timeout each way) acks come back late but steadily, and the leader is still healthy.
    if (++t.windowElapsed >= this.cfg.electionTicks + 2 * this.rttTicks) {
      if (this.lostQuorum()) {
        this.stepDown();
        return;
      }
      t.startWindow();
    }
    for (const { msg, answered } of L.stalled(this.now, this.cfg.retryTicks)) {
      this.broadcast(msg, answered);
    }
  }

  /** Check-quorum: no quorum heard from in this window (the mutants trust other things). */
  private lostQuorum(): boolean {
    if (this.cfg.mutant === "leader-local-reads") return false;
    if (this.lease) return !this.lease.clock.holds(this.wallMs);
    return this.timer.heard.size + 1 < this.quorum;
  }

  private heartbeat(L: Leadership): void {
    this.timer.heartbeatElapsed = 0;
    if (this.lease && this.wallMs !== undefined) this.lease.clock.sent(this.now, this.wallMs);
    const read = L.reads.roundOut;
    this.sendToPeers({
      type: "heartbeat",
      ballot: L.ballot,
      commit: this.learner.applied,
      at: this.now,
      ...(read === undefined ? {} : { read }),
    });
  }

  /**
   * Before raising its round, a node asks whether a quorum would promise it (Raft's pre-vote):
   * one cut off from a quorum, or whose peers still hear a live leader, never raises its round,
   * so it cannot depose a healthy leader when it rejoins.
   */
  private startPrevote(): void {
    this.timer.reset();
    const round = Math.max(this.maxRound, this.acceptor.promised.round) + 1;
    const pv = { round, granted: new Set([this.id]), sentAt: this.now };
    this.prevote = pv;
    if (this.quorum <= 1) {
      this.campaign();
      return;
    }
    this.sendPrevotes(pv);
  }

  /** The pre-vote question to the peers that have not said yes yet. */
  private sendPrevotes(pv: { round: number; granted: Set<NodeId> }): void {
    for (const p of this.peers)
      if (!pv.granted.has(p)) this.send(p, { type: "prevote", round: pv.round });
  }

  /** Whether we would promise `from` a ballot of `round` now (a prepare would not be refused). */
  private wouldPromise(from: NodeId, round: number): boolean {
    if (this.sticksToLeader(from)) return false;
    return compareBallots({ round, node: from }, this.acceptor.promised) > 0;
  }

  private onPrevoteReply(from: NodeId, round: number, granted: boolean): void {
    const pv = this.prevote;
    if (!pv || pv.round !== round || !granted) return;
    pv.granted.add(from);
    if (pv.granted.size >= this.quorum) this.campaign();
  }

  private campaign(): void {
    this.prevote = null;
    const ballot = nextBallot(Math.max(this.maxRound, this.acceptor.promised.round), this.id);
    this.maxRound = ballot.round;
    this.stepDown();
    const p1 = new Phase1(ballot, this.learner.applied + 1, this.now);
    this.phase1 = p1;
    if (this.cfg.mutant === "prepare-before-durable-promise") {
      this.broadcast({ type: "prepare", ballot, from: p1.from });
      return;
    }
    // Our own promise first: the prepares are held until it is durable (outbox.ts), so a crash
    // before then sends none, and a restart never campaigns with this ballot again.
    this.onPrepare(this.id, ballot, p1.from);
    this.sendPrepares(p1);
  }

  /** Phase 1a to the peers that have not promised yet (our own promise is made in campaign). */
  private sendPrepares(p1: Phase1): void {
    const msg: PeerMessage = { type: "prepare", ballot: p1.ballot, from: p1.from };
    if (this.cfg.mutant === "prepare-before-durable-promise") this.broadcast(msg, p1.promises);
    else for (const p of this.peers) if (!p1.promises.has(p)) this.send(p, msg);
  }

  private stepDown(): void {
    this.phase1 = null;
    this.prevote = null;
    this.leadership = null;
    this.lease = null;
    this.leaderId = null;
    this.leaderBallot = null;
    this.timer.reset();
  }

  /**
   * A proposer whose ballot is below a promise has lost: step down. By default the promise is our
   * own acceptor's; a reject of `ballot` brings another acceptor's.
   */
  private stepDownIfOutranked(ballot?: Ballot, promised = this.acceptor.promised): void {
    const mine = this.myBallot;
    if (!mine || (ballot && !ballotEqual(ballot, mine))) return;
    if (compareBallots(promised, mine) > 0) this.stepDown();
  }

  /** `from` acts as leader with `ballot` (not below our promise): follow it. */
  private noteLeader(from: NodeId, ballot: Ballot): void {
    if (from === this.id) return;
    if (this.myBallot && compareBallots(ballot, this.myBallot) > 0) this.stepDown();
    if (this.role !== "follower") return;
    this.prevote = null;
    this.timer.heardLeader();
    this.timer.reset();
    if (this.leaderId !== from || !this.leaderBallot || !ballotEqual(this.leaderBallot, ballot)) {
      this.leaderId = from;
      this.leaderBallot = ballot;
      for (const p of this.pending.byKey.values()) this.route(p);
    }
  }

  // ---- Messages -----------------------------------------------------------------------------

  private handle(from: NodeId, msg: PeerMessage): void {
    if ("ballot" in msg) this.maxRound = Math.max(this.maxRound, msg.ballot.round);
    switch (msg.type) {
      case "prepare":
        this.onPrepare(from, msg.ballot, msg.from);
        return;
      case "promise":
        this.onPromise(from, msg);
        return;
      case "accept":
        this.onAccept(from, msg.ballot, msg.slot, msg.value);
        return;
      case "accepted":
        this.onAccepted(from, msg.ballot, msg.slot);
        return;
      case "reject":
        this.maxRound = Math.max(this.maxRound, msg.promised.round);
        this.stepDownIfOutranked(msg.ballot, msg.promised);
        return;
      case "heartbeat":
        if (this.acceptor.below(msg.ballot)) {
          this.send(from, { type: "reject", ballot: msg.ballot, promised: this.acceptor.promised });
          return;
        }
        this.noteLeader(from, msg.ballot);
        this.send(from, {
          type: "heartbeatAck",
          ballot: msg.ballot,
          commit: this.learner.applied,
          ...(msg.at === undefined ? {} : { at: msg.at }),
          ...(msg.read === undefined ? {} : { read: msg.read }),
        });
        return;
      case "heartbeatAck":
        this.onHeartbeatAck(from, msg.ballot, msg.commit, msg.at, msg.read);
        return;
      case "readIndex":
        this.leadership?.reads.add({ follower: from, id: msg.id });
        return;
      case "readIndexReply":
        this.onReadIndexReply(msg.id, msg.index);
        return;
      case "chosen":
        if (msg.snapshot) this.installSnapshot(msg.snapshot);
        for (const e of msg.entries) this.learner.learn(e.slot, e.value);
        this.apply();
        return;
      case "catchup":
        if (msg.from <= this.learner.applied) this.sendCatchup(from, msg.from);
        return;
      case "prevote":
        this.send(from, {
          type: "prevoteReply",
          round: msg.round,
          granted: this.wouldPromise(from, msg.round),
        });
        return;
      case "prevoteReply":
        this.onPrevoteReply(from, msg.round, msg.granted);
        return;
      case "forward":
        if (this.leadership) for (const r of msg.requests) this.enqueue(r);
        return;
    }
  }

  private onPrepare(from: NodeId, ballot: Ballot, fromSlot: number): void {
    const ans = this.sticksToLeader(from) ? undefined : this.acceptor.prepare(ballot);
    if (!ans?.ok) {
      this.send(from, { type: "reject", ballot, promised: this.acceptor.promised });
      return;
    }
    if (ans.write) this.outbox.write(ans.write);
    if (from !== this.id && this.leaderBallot && compareBallots(ballot, this.leaderBallot) > 0) {
      this.leaderId = null;
      this.leaderBallot = null;
    }
    this.stepDownIfOutranked();
    // Promised a new ballot to another node: give it an election timeout to win (as a Raft vote
    // does), instead of starting a rival campaign while its accepts are on their way.
    if (from !== this.id && ans.write && this.role === "follower") this.timer.reset();
    const promise: PeerMessage = {
      type: "promise",
      ballot,
      accepted: this.acceptor.acceptedFrom(fromSlot),
      chosen: [],
    };
    if (fromSlot <= this.learner.applied) {
      const c = this.learner.chosenFrom(fromSlot, Number.POSITIVE_INFINITY);
      promise.chosen = c.entries;
      if (c.snapshot) promise.snapshot = c.snapshot;
    }
    this.send(from, promise);
  }

  /**
   * Stickiness: while a leader is live (ourselves, or one heard from recently), do not help anyone
   * else unseat it. (Refusing to promise is always safe; it only delays elections until the leader
   * goes quiet.)
   */
  private sticksToLeader(from: NodeId): boolean {
    if (from === this.id) return false;
    if (this.leadership) return true;
    // The lease's rule for a restarted node: it may have acknowledged a leader's heartbeat just
    // before it went down, so it promises no one for an election timeout.
    if (this.cfg.mutant === "wall-clock-lease" && this.now < this.cfg.electionTicks) return true;
    return (
      this.role === "follower" &&
      this.leaderId !== null &&
      this.leaderId !== from &&
      this.timer.leaderFresh()
    );
  }

  private onPromise(from: NodeId, msg: Extract<PeerMessage, { type: "promise" }>): void {
    const p1 = this.phase1;
    if (!p1 || !ballotEqual(msg.ballot, p1.ballot)) return;
    p1.promises.set(from, msg);
    if (p1.promises.size >= this.quorum) this.becomeLeader(p1);
  }

  private becomeLeader(p1: Phase1): void {
    for (const p of p1.promises.values()) if (p.snapshot) this.installSnapshot(p.snapshot);
    for (const p of p1.promises.values()) {
      for (const e of p.chosen) this.learner.learn(e.slot, e.value);
    }
    this.apply();
    const { best: reported, conflicts } = p1.highestAccepted();
    const best =
      this.cfg.mutant === "ignore-accepted-in-phase1" ? new Map<number, AcceptedEntry>() : reported;
    for (const c of conflicts)
      this.violations.push(`phase 1 of ${p1.ballot.round}/${this.id}: ${c}`);
    let maxSlot = Math.max(this.learner.maxChosen(), p1.from - 1);
    for (const slot of best.keys()) maxSlot = Math.max(maxSlot, slot);
    this.leaderId = this.id;
    this.leaderBallot = p1.ballot;
    const L = new Leadership(p1.ballot, maxSlot + 1);
    this.phase1 = null;
    this.leadership = L;
    for (let slot = this.learner.applied + 1; slot <= maxSlot; slot++) {
      if (!this.learner.isChosen(slot))
        this.propose(L, slot, best.get(slot)?.value ?? this.hole(slot, maxSlot, p1.ballot, best));
    }
    if (this.cfg.mutant === "wall-clock-lease") {
      this.lease = {
        clock: new WallClockLease(this.quorum, this.cfg.leaseMs ?? 0),
        readsFrom: maxSlot + 1,
      };
    }
    this.timer.startWindow();
    this.timer.heardLeader();
    this.rttTicks = this.now - p1.startedAt;
    this.heartbeat(L);
    for (const p of this.pending.byKey.values()) {
      if (p.request.command.op === "read") L.reads.add({ local: p });
      else this.enqueue(p.request);
      this.markSent(p);
    }
  }

  /** A hole's value: a no-op (the gap-filled-with-client-value mutant: a copy of later commands). */
  private hole(
    slot: number,
    maxSlot: number,
    ballot: Ballot,
    best: Map<number, AcceptedEntry>,
  ): SlotValue {
    if (this.cfg.mutant !== "gap-filled-with-client-value") return NOOP;
    return clientValueForHole(
      slot,
      maxSlot,
      ballot,
      (s) => best.get(s)?.value ?? this.learner.chosenValue(s),
    );
  }

  private propose(L: Leadership, slot: number, value: SlotValue): void {
    const accept = L.propose(slot, value, this.now);
    for (const r of value.requests) {
      const p = this.pending.get(r);
      if (p) this.markSent(p);
    }
    this.broadcast(accept);
  }

  /** Leader: put queued requests into new slots, up to maxInflight slots in flight. */
  private fillSlots(): void {
    const L = this.leadership;
    if (!L) return;
    while (L.canFill(this.cfg.maxInflight)) {
      const requests = L.takeBatch(this.cfg.maxBatch).filter(
        (r) => this.learner.sm.lookup(r) === undefined,
      );
      // Stamped with our wall clock: the replicas age client sessions by it (statemachine.ts).
      const at = this.wallMs;
      if (requests.length > 0) {
        this.propose(L, L.nextSlot++, at === undefined ? { requests } : { requests, at });
      }
    }
  }

  /** Leader: queue a request for a slot, unless it was chosen or applied already. */
  private enqueue(request: ClientRequest): void {
    if (this.learner.sm.lookup(request) !== undefined) return;
    if (this.learner.isChosenUnapplied(request)) return;
    this.leadership?.enqueue(request);
  }

  private onAccept(from: NodeId, ballot: Ballot, slot: number, value: SlotValue): void {
    if (slot <= this.acceptor.compactedTo) {
      // Chosen long ago and compacted here: tell the proposer what was chosen instead.
      this.sendCatchup(from, slot);
      return;
    }
    const ans = this.acceptor.accept(ballot, slot, value);
    if (!ans.ok) {
      if (ans.conflict) {
        this.violations.push(
          `accept from ${from} for slot ${slot} under ballot ${ballot.round}/${ballot.node} ` +
            "carries a value other than the one already accepted under it: refused",
        );
      }
      this.send(from, { type: "reject", ballot, promised: ans.promised });
      return;
    }
    if (ans.write) this.outbox.write(ans.write);
    this.stepDownIfOutranked();
    this.noteLeader(from, ballot);
    this.send(from, { type: "accepted", ballot, slot });
  }

  private onAccepted(from: NodeId, ballot: Ballot, slot: number): void {
    const L = this.leadership;
    if (!L || !ballotEqual(ballot, L.ballot)) return;
    this.timer.heard.add(from);
    const value = L.accepted(from, slot, this.quorum);
    if (value === undefined) return;
    if (this.learner.learn(slot, value)) this.newlyChosen.push({ slot, value });
    this.apply();
  }

  private onHeartbeatAck(
    from: NodeId,
    ballot: Ballot,
    commit: number,
    at?: number,
    read?: number,
  ): void {
    const L = this.leadership;
    if (!L || !ballotEqual(ballot, L.ballot)) return;
    this.timer.heard.add(from);
    if (read !== undefined) {
      const done = L.reads.ack(from, read, this.quorum);
      if (done) this.readsConfirmed(done);
    }
    if (at !== undefined) this.rttTicks = Math.max(0, this.now - at);
    if (at !== undefined) this.lease?.clock.acked(from, at);
    const pushed = this.snapshotPushes.get(from);
    if (pushed && commit >= pushed.index) this.snapshotPushes.delete(from);
    if (commit === this.learner.applied) return;
    // Once per heartbeat interval and peer: a read round's acks come far more often, and a
    // follower a slot or two behind is mostly behind by the `chosen` messages on their way.
    const last = this.caughtUpAt.get(from);
    if (last !== undefined && this.now - last < this.cfg.heartbeatTicks) return;
    this.caughtUpAt.set(from, this.now);
    if (commit < this.learner.applied) this.sendCatchup(from, commit + 1);
    else this.send(from, { type: "catchup", from: this.learner.applied + 1 });
  }

  /**
   * Sends `to` what we know chosen from slot `from` on: entries, or the snapshot when `from` is
   * compacted away here. One snapshot in flight per peer: another goes only once the peer's
   * commit point shows it arrived, or after an election timeout (it may have been lost).
   */
  private sendCatchup(to: NodeId, from: number): void {
    const c = this.learner.chosenFrom(from, this.cfg.maxCatchup);
    if (c.snapshot) {
      const pushed = this.snapshotPushes.get(to);
      if (pushed && this.now - pushed.at < 2 * this.cfg.electionTicks) return;
      this.snapshotPushes.set(to, { index: c.snapshot.index, at: this.now });
    }
    this.send(to, { type: "chosen", ...c });
  }

  // ---- Applying, snapshots ----------------------------------------------------------------

  private apply(): void {
    const applied = this.learner.applyReady((req, result) => {
      const p = this.pending.take(req);
      if (p) this.reply(p, result);
    });
    if (applied.length === 0) return;
    for (const e of applied) this.appliedOut.push(e);
    this.answerReads();
    if (this.learner.applied - this.learner.snapshotIndex >= this.cfg.snapshotEvery) {
      const snap = this.learner.takeSnapshot();
      this.outbox.write({ type: "snapshot", snapshot: snap });
      this.acceptor.compact(snap.index);
    }
  }

  private installSnapshot(snap: Snapshot): void {
    if (!this.learner.install(snap)) return;
    this.outbox.write({ type: "snapshot", snapshot: snap });
    this.acceptor.compact(snap.index);
    this.snapshotInstalled = snap.index;
    this.leadership?.compact(snap.index);
    for (const p of [...this.pending.byKey.values()]) {
      const known = this.learner.sm.lookup(p.request);
      if (known === undefined) continue;
      this.pending.take(p.request);
      if (known !== "stale") this.reply(p, known);
    }
    this.apply();
  }

  // ---- Client requests ----------------------------------------------------------------------

  private onClientRequest(reqId: ReqId, request: ClientRequest): void {
    if (request.command.op === "read" && this.readsLocally()) {
      this.outbox.reply(reqId, this.learner.sm.read(request.command.key));
      return;
    }
    if (request.command.op === "read") {
      // Not in the log, so not in the sessions either: a read has no effect to deduplicate.
      const p = this.pending.add(reqId, request, this.now);
      if (p.reqIds.length === 1) this.route(p);
      return;
    }
    const known = this.learner.sm.lookup(request);
    if (known === "stale") return; // superseded by a later request of the same client
    if (known !== undefined) {
      this.outbox.reply(reqId, known);
      return;
    }
    const p = this.pending.add(reqId, request, this.now);
    if (p.reqIds.length === 1) this.route(p);
  }

  /** Whether a read is answered from this node's state at once (only mutants ever do). */
  private readsLocally(): boolean {
    if (!this.leadership) return false;
    if (this.cfg.mutant === "leader-local-reads") return true;
    const lease = this.lease;
    if (lease === null) return false;
    return lease.clock.holds(this.wallMs) && this.learner.applied >= lease.readsFrom - 1;
  }

  /**
   * Hands a pending request to consensus: propose it (leader) or forward it to the leader. A read
   * waits for a confirmation round instead (the leader's, or one the leader runs for us).
   */
  private route(p: PendingRequest): void {
    if (p.request.command.op === "read") {
      if (this.leadership) this.leadership.reads.add({ local: p });
      else if (this.role === "follower" && this.leaderId !== null) this.readsToAsk.push(p);
      else return;
      this.markSent(p);
    } else if (this.leadership) {
      // Once queued it may be proposed: it can no longer be answered `unavailable`.
      if (!p.sent) this.enqueue(p.request);
      p.sent = true;
    } else if (this.role === "follower" && this.leaderId !== null) {
      this.toForward.push(p.request); // sent in one message per ready() (see settle)
      this.markSent(p);
    }
  }

  /** Proposed or forwarded now: from here on it may be applied, so never `unavailable`. */
  private markSent(p: PendingRequest): void {
    p.sent = true;
    p.lastSent = this.now;
  }

  private pendingTick(): void {
    // Reads are asked again every retry interval (below), and a late reply still answers them;
    // a request is given up with its reads, at the request timeout.
    for (const [id, ask] of this.readAsks)
      if (this.now - ask.at >= this.cfg.requestTimeoutTicks) this.readAsks.delete(id);
    for (const p of [...this.pending.byKey.values()]) {
      if (this.now - p.since >= this.cfg.requestTimeoutTicks) {
        this.pending.take(p.request);
      } else if (!p.sent && this.now - p.since >= this.cfg.unavailableTicks) {
        this.pending.take(p.request);
        const result: CommandResult = { status: "unavailable", reason: "no leader" };
        this.reply(p, result);
      } else if (p.sent && this.now - p.lastSent >= this.cfg.retryTicks) {
        this.route(p);
      }
    }
  }
}
