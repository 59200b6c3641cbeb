// The simulated cluster: real PaxosNode cores over a simulated network (loss, duplication,
// reordering, delay, partitions) and simulated disks (writes pending until a sync; a crash drops
// unsynced writes; one disk may be many times slower than the others), and a wall clock per
// machine (the simulated time plus an offset that clock faults change), with crash-restarts, some
// of them tied to elections (a new leader crashes a few ticks after it wins, when what it wrote
// while campaigning is least likely to be durable). It checks the safety invariants at every
// step: no two values accepted for one (slot, ballot) anywhere, no ballot campaigned with again by
// a later incarnation of its node, every node applies the same value at a slot, only requests a
// client sent are applied (non-triviality), replicas agree at every applied index, and no
// protocol violation reported by a core.

import type { CommandResult } from "../command.js";
import { compareBallots, ZERO_BALLOT } from "../core/ballot.js";
import { isEmptyReady, PaxosNode } from "../core/node.js";
import { compactWrites, recoverDurableState } from "../core/storage.js";
import type {
  Ballot,
  DurableState,
  NodeConfig,
  NodeId,
  PeerMessage,
  ReqId,
  StorageWrite,
} from "../core/types.js";
import { isPeerMessage } from "../core/validate.js";
import type { EventQueue } from "./events.js";
import type { Prng } from "./prng.js";

/** Simulated time units per node tick. */
export const TICK = 10;

export interface FaultConfig {
  /** Probability that a message is lost. */
  loss: number;
  /** Probability that a message is delivered twice. */
  duplicate: number;
  /** Probability that a message gets a long extra delay (reordering). */
  reorder: number;
  partitions: boolean;
  crashes: boolean;
  /** A disk sync completes 1..this many time units after it is needed (a slow disk widens the window of unsynced writes). */
  syncDelay: number;
  /** One node's disk (slowNode) syncs this many times slower than the others (1: none). */
  slowDisk: number;
  slowNode?: NodeId;
  /** Every message takes this many more time units (a slow network: the delay nemesis). */
  extraDelay?: number;
  /** Probability that a node that just won an election crashes 1..3 ticks later (half of it for a new candidate). */
  electionCrash: number;
  /** Wall-clock faults (clock.ts): offsets, jumps, a cut-off leader's clock set back. */
  clock?: boolean;
  /** Rival leaders (rivals.ts): slow links, the leader cut off, the others in a ring. */
  rivals?: boolean;
}

export interface ClusterStats {
  messagesSent: number;
  messagesDropped: number;
  messagesDuplicated: number;
  crashes: number;
  restarts: number;
  writesLost: number;
  partitions: number;
  /** Distinct ballots that became leader. */
  leaderChanges: number;
  snapshotsInstalled: number;
  maxApplied: number;
  /** Crashes of a new leader within a few ticks of its win. */
  electionCrashes: number;
  /** Snapshots installed by a node at most 2 slots behind the snapshot (entries would do). */
  snapshotsInstalledNear: number;
  /** Client requests in chosen slots, and those already in an earlier chosen slot. */
  requestsInSlots: number;
  duplicateRequestsInSlots: number;
  /** Wall-clock jumps (clock faults), and those of a leader cut off from a quorum. */
  clockJumps: number;
  leaderClockJumps: number;
}

interface SimNode {
  id: NodeId;
  core: PaxosNode | null;
  /** Synced writes (what survives a crash). */
  disk: StorageWrite[];
  unsynced: { token: number; writes: StorageWrite[] }[];
  syncScheduled: boolean;
  incarnation: number;
  /** The applied index at the end of the last pump (how far behind a snapshot found it). */
  lastApplied: number;
}

export type ReplyHandler = (node: NodeId, reqId: ReqId, result: CommandResult) => void;

export class Cluster {
  readonly nodes: SimNode[];
  readonly stats: ClusterStats = {
    messagesSent: 0,
    messagesDropped: 0,
    messagesDuplicated: 0,
    crashes: 0,
    restarts: 0,
    writesLost: 0,
    partitions: 0,
    leaderChanges: 0,
    snapshotsInstalled: 0,
    maxApplied: 0,
    electionCrashes: 0,
    snapshotsInstalledNear: 0,
    requestsInSlots: 0,
    duplicateRequestsInSlots: 0,
    clockJumps: 0,
    leaderClockJumps: 0,
  };
  readonly violations: string[] = [];
  /** slot -> JSON of the value learned for it (by any node). */
  private readonly chosen = new Map<number, string>();
  /** applied index -> digest of the key-value state there. */
  private readonly digests = new Map<number, string>();
  private readonly leaderBallots = new Set<string>();
  private readonly candidateBallots = new Set<string>();
  /** node -> slot (0: the promise) -> the highest ballot its messages claimed durable. */
  private readonly answered = new Map<NodeId, Map<number, Ballot>>();
  /** "slot@round/node" -> JSON of the value accepted there, by any acceptor. */
  private readonly acceptedAt = new Map<string, string>();
  /** "round/node" of every prepare sent -> the incarnation of its node that sent it. */
  private readonly prepared = new Map<string, number>();
  /** "clientId/seq" -> the slot where it was first applied. */
  readonly requestSlot = new Map<string, number>();
  /** "clientId/seq" -> JSON of the command of every request a client sent (non-triviality). */
  private readonly sent = new Map<string, string>();
  /** Faults tied to elections happen only while this is on (the run turns it off to heal). */
  faultsOn = true;
  /** Partition: node -> group number; undefined = fully connected. */
  private groups: Map<NodeId, number> | undefined;
  /** Links cut one by one ("a|b", both directions listed). */
  private cutLinks = new Set<string>();
  /** Time units every message takes on top of the rest while a slow-network fault holds. */
  slowBy = 0;
  /** Each machine's wall clock minus the simulated time (kept across crash-restarts). */
  private readonly clockOffsets = new Map<NodeId, number>();
  onReply: ReplyHandler = () => {};
  validateFrames = false;
  /** Requests answered `unavailable` (definite): applying one is a violation. */
  failedRequests: ReadonlySet<string> = new Set();

  constructor(
    private readonly rng: Prng,
    private readonly events: EventQueue,
    ids: NodeId[],
    private readonly timing: Omit<NodeConfig, "id" | "peers">,
    readonly faults: FaultConfig,
  ) {
    this.nodes = ids.map((id) => ({
      id,
      core: null,
      disk: [],
      unsynced: [],
      syncScheduled: false,
      incarnation: 0,
      lastApplied: 0,
    }));
    for (const n of this.nodes) this.boot(n);
  }

  node(id: NodeId): SimNode {
    return this.nodes.find((n) => n.id === id) as SimNode;
  }

  /** The node that currently acts as leader with the highest ballot, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    let round = -1;
    for (const n of this.nodes) {
      const st = n.core?.status();
      if (st?.role === "leader" && st.ballot && st.ballot.round > round) {
        best = n;
        round = st.ballot.round;
      }
    }
    return best;
  }

  up(): SimNode[] {
    return this.nodes.filter((n) => n.core !== null);
  }

  /** Builds a core from what is on disk and starts its ticks. */
  private boot(n: SimNode): void {
    const config: NodeConfig = {
      id: n.id,
      peers: this.nodes.map((m) => m.id).filter((m) => m !== n.id),
      ...this.timing,
    };
    const prng = this.rng.fork();
    const durable = recoverDurableState(n.disk);
    this.checkRecovered(n, durable);
    n.lastApplied = durable.snapshot?.index ?? 0;
    n.core = new PaxosNode({ config, durable, random: () => prng.next() });
    const inc = ++n.incarnation;
    const tick = () => {
      if (n.incarnation !== inc || !n.core) return;
      n.core.tick(this.wallClock(n.id));
      this.pump(n);
      this.events.after(TICK, tick);
    };
    this.events.after(this.rng.int(1, TICK), tick);
  }

  crash(n: SimNode): void {
    if (!n.core) return;
    n.core = null;
    n.incarnation++;
    for (const u of n.unsynced) this.stats.writesLost += u.writes.length;
    n.unsynced = [];
    n.syncScheduled = false;
    this.stats.crashes++;
  }

  restart(n: SimNode): void {
    if (n.core) return;
    this.boot(n);
    this.stats.restarts++;
  }

  /** A machine's wall clock now (the simulated time plus its offset). */
  wallClock(id: NodeId): number {
    return this.events.now + (this.clockOffsets.get(id) ?? 0);
  }

  /** A machine's wall clock jumps by `deltaMs` (back when negative), and stays so. */
  jumpClock(id: NodeId, deltaMs: number): void {
    this.clockOffsets.set(id, (this.clockOffsets.get(id) ?? 0) + deltaMs);
    this.stats.clockJumps++;
  }

  /** Whether `id` is cut off from a quorum of the cluster (by the partition in force). */
  cutOff(id: NodeId): boolean {
    const groups = this.groups;
    if (!groups) return false;
    const mine = groups.get(id);
    const reach = this.nodes.filter((n) => groups.get(n.id) === mine).length;
    return reach < Math.floor(this.nodes.length / 2) + 1;
  }

  partition(groups: NodeId[][]): void {
    this.groups = new Map();
    groups.forEach((g, i) => {
      for (const id of g) this.groups?.set(id, i);
    });
    this.stats.partitions++;
  }

  /** Cuts single links (both ways), where groups cannot say it: rival-leader rings (rivals.ts). */
  cut(links: readonly (readonly [NodeId, NodeId])[]): void {
    this.cutLinks = new Set(links.flatMap(([a, b]) => [`${a}|${b}`, `${b}|${a}`]));
    this.stats.partitions++;
  }

  heal(): void {
    this.groups = undefined;
    this.cutLinks = new Set();
  }

  private connected(a: NodeId, b: NodeId): boolean {
    if (this.cutLinks.has(`${a}|${b}`)) return false;
    return !this.groups || this.groups.get(a) === this.groups.get(b);
  }

  clientRequest(n: SimNode, reqId: ReqId, req: Parameters<PaxosNode["clientRequest"]>[1]): void {
    if (!n.core) return;
    this.sent.set(`${req.clientId}/${req.seq}`, JSON.stringify(req.command));
    n.core.clientRequest(reqId, req);
    this.pump(n);
  }

  /** Drains a node's ready() until it is quiet: disk writes, messages, replies, checks. */
  pump(n: SimNode): void {
    const core = n.core;
    if (!core) return;
    for (;;) {
      const rd = core.ready();
      const empty = isEmptyReady(rd);
      if (rd.token !== undefined) {
        n.unsynced.push({ token: rd.token, writes: rd.persist });
        this.scheduleSync(n);
      }
      for (const w of rd.persist) {
        if (w.type !== "accept") continue;
        const at = `${w.slot}@${w.ballot.round}/${w.ballot.node}`;
        const v = JSON.stringify(w.value);
        const prev = this.acceptedAt.get(at);
        if (prev === undefined) this.acceptedAt.set(at, v);
        else if (prev !== v)
          this.violations.push(`slot ${at}: ${n.id} accepted ${v}, another ${prev}`);
      }
      for (const m of rd.messages) {
        if (m.msg.type === "accepted") this.noteAnswered(n, m.msg.slot, m.msg.ballot);
        if (m.msg.type === "promise") this.noteAnswered(n, 0, m.msg.ballot);
        if (m.msg.type !== "prepare" || m.msg.ballot.node !== n.id) continue;
        this.noteAnswered(n, 0, m.msg.ballot);
        const b = `${m.msg.ballot.round}/${m.msg.ballot.node}`;
        const by = this.prepared.get(b);
        if (by === undefined) this.prepared.set(b, n.incarnation);
        else if (by !== n.incarnation) {
          this.violations.push(`ballot ${b} reused by ${n.id} after a restart`);
        }
      }
      for (const v of rd.violations ?? []) this.violations.push(`${n.id}: ${v}`);
      for (const e of rd.applied) {
        const v = JSON.stringify(e.value);
        const prev = this.chosen.get(e.slot);
        for (const r of e.value.requests) {
          const key = `${r.clientId}/${r.seq}`;
          // Non-triviality: only what a client proposed is chosen (a no-op holds nothing).
          if (this.sent.get(key) !== JSON.stringify(r.command)) {
            this.violations.push(
              `slot ${e.slot}: ${n.id} applied ${key} ${JSON.stringify(r.command)}, which no client sent`,
            );
          }
          if (!this.requestSlot.has(key)) this.requestSlot.set(key, e.slot);
          if (this.failedRequests.has(key)) {
            this.violations.push(
              `slot ${e.slot}: ${r.clientId}/${r.seq} was answered unavailable, yet applied`,
            );
          }
        }
        if (prev === undefined) {
          this.chosen.set(e.slot, v);
          for (const r of e.value.requests) {
            this.stats.requestsInSlots++;
            if (this.requestSlot.get(`${r.clientId}/${r.seq}`) !== e.slot) {
              this.stats.duplicateRequestsInSlots++;
            }
          }
        } else if (prev !== v) {
          this.violations.push(`slot ${e.slot}: ${n.id} applied ${v}, another node ${prev}`);
        }
      }
      if (rd.snapshotInstalled !== undefined) {
        this.stats.snapshotsInstalled++;
        if (rd.snapshotInstalled - n.lastApplied <= 2) this.stats.snapshotsInstalledNear++;
      }
      for (const m of rd.messages) this.transmit(n.id, m.to, m.msg);
      for (const r of rd.replies) this.onReply(n.id, r.reqId, r.result);
      if (empty) break;
    }
    const st = core.status();
    n.lastApplied = st.appliedIndex;
    const d = core.stateDigest();
    const prev = this.digests.get(st.appliedIndex);
    if (prev === undefined) this.digests.set(st.appliedIndex, d);
    else if (prev !== d) {
      this.violations.push(`applied index ${st.appliedIndex}: ${n.id} has ${d}, another ${prev}`);
    }
    this.stats.maxApplied = Math.max(this.stats.maxApplied, st.appliedIndex);
    if (st.role === "leader" && st.ballot) {
      const b = `${st.ballot.round}/${st.ballot.node}`;
      if (!this.leaderBallots.has(b)) {
        this.leaderBallots.add(b);
        this.stats.leaderChanges++;
        if (this.faultsOn && this.rng.chance(this.faults.electionCrash)) this.crashSoon(n);
      }
    } else if (st.role === "candidate" && st.ballot) {
      const b = `${st.ballot.round}/${st.ballot.node}`;
      if (!this.candidateBallots.has(b)) {
        this.candidateBallots.add(b);
        if (this.faultsOn && this.rng.chance(this.faults.electionCrash / 2)) this.crashSoon(n);
      }
    }
  }

  /**
   * What a node's messages promised about its disk: a prepare of its own ballot or a promise
   * (slot 0 here) means that ballot is promised durably, an `accepted` that the slot's value at
   * that ballot is durable. Kept per node, the highest ballot per slot.
   */
  private noteAnswered(n: SimNode, slot: number, ballot: Ballot): void {
    const m = this.answered.get(n.id) ?? new Map<number, Ballot>();
    this.answered.set(n.id, m);
    const prev = m.get(slot);
    if (!prev || compareBallots(ballot, prev) > 0) m.set(slot, ballot);
  }

  /**
   * A restarting node must find on its disk everything its messages claimed was durable: a
   * promise at least as high as any ballot it prepared or promised, and for every slot it
   * answered `accepted`, an entry at that ballot or higher (or a snapshot covering the slot).
   */
  private checkRecovered(n: SimNode, d: DurableState): void {
    const claims = this.answered.get(n.id);
    if (!claims) return;
    const promised = d.promised ?? ZERO_BALLOT;
    const floor = d.snapshot?.index ?? 0;
    const accepted = new Map(d.accepted.map((e) => [e.slot, e.ballot]));
    for (const [slot, ballot] of claims) {
      const b = `${ballot.round}/${ballot.node}`;
      if (slot === 0) {
        if (compareBallots(promised, ballot) < 0) {
          this.violations.push(`${n.id} restarted with promise below ${b}, which it had sent out`);
        }
      } else if (slot > floor) {
        const has = accepted.get(slot);
        if (!has || compareBallots(has, ballot) < 0) {
          this.violations.push(
            `${n.id} restarted without slot ${slot} at ${b}, which it had acknowledged`,
          );
        }
      }
    }
  }

  /** A new leader (or candidate) crashes 1..3 ticks later and restarts a little later. */
  private crashSoon(n: SimNode): void {
    const inc = n.incarnation;
    this.events.after(this.rng.int(1, 3) * TICK, () => {
      if (n.incarnation !== inc || !n.core) return;
      this.stats.electionCrashes++;
      this.crash(n);
      this.events.after(this.rng.int(1, 8) * TICK, () => this.restart(n));
    });
  }

  /** Group commit: one sync makes every write issued so far durable. */
  private scheduleSync(n: SimNode): void {
    if (n.syncScheduled) return;
    n.syncScheduled = true;
    const inc = n.incarnation;
    const slow = n.id === this.faults.slowNode ? this.faults.slowDisk : 1;
    // A slow disk at most about one election timeout per sync: slower, and no node could lead.
    const most = Math.max(this.faults.syncDelay, Math.min(this.faults.syncDelay * slow, 20 * TICK));
    this.events.after(this.rng.int(1, most), () => {
      if (n.incarnation !== inc || !n.core) return;
      n.syncScheduled = false;
      const batch = n.unsynced;
      n.unsynced = [];
      if (batch.length === 0) return;
      for (const b of batch) for (const w of b.writes) n.disk.push(w);
      if (n.disk.length > 400) n.disk = compactWrites(recoverDurableState(n.disk));
      n.core.persisted((batch[batch.length - 1] as { token: number }).token);
      this.pump(n);
    });
  }

  private transmit(from: NodeId, to: NodeId, msg: PeerMessage): void {
    this.stats.messagesSent++;
    const f = this.faults;
    if (!this.connected(from, to) || this.rng.chance(f.loss)) {
      this.stats.messagesDropped++;
      return;
    }
    // Frames are JSON on the wire: deliver a copy, never the sender's object.
    const frame = JSON.stringify(msg);
    if (this.validateFrames && !isPeerMessage(JSON.parse(frame))) {
      this.violations.push(`malformed frame from ${from}: ${frame.slice(0, 200)}`);
    }
    const copies = this.rng.chance(f.duplicate) ? 2 : 1;
    if (copies === 2) this.stats.messagesDuplicated++;
    for (let i = 0; i < copies; i++) {
      let delay = this.rng.int(1, 15) + (f.extraDelay ?? 0) + this.slowBy;
      if (this.rng.chance(f.reorder)) delay += this.rng.int(10, 120);
      this.events.after(delay, () => {
        const dst = this.node(to);
        if (!dst.core || !this.connected(from, to)) {
          this.stats.messagesDropped++;
          return;
        }
        dst.core.receive(from, JSON.parse(frame) as PeerMessage);
        this.pump(dst);
      });
    }
  }
}
