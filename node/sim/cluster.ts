// The simulated cluster: real PaxosNode cores over a simulated network (loss, duplication,
// reordering, delay, partitions) and simulated disks (writes pending until a sync; a crash drops
// unsynced writes), with crash-restarts. It also checks the safety invariants as it goes:
// every node learns the same value for a slot, and replicas agree at every applied index.

import type { CommandResult } from "../command.js";
import { isEmptyReady, PaxosNode } from "../core/node.js";
import { compactWrites, recoverDurableState } from "../core/storage.js";
import type { NodeConfig, NodeId, PeerMessage, ReqId, StorageWrite } from "../core/types.js";
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
}

interface SimNode {
  id: NodeId;
  core: PaxosNode | null;
  /** Synced writes (what survives a crash). */
  disk: StorageWrite[];
  unsynced: { token: number; writes: StorageWrite[] }[];
  syncScheduled: boolean;
  incarnation: number;
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
  };
  readonly violations: string[] = [];
  /** slot -> JSON of the value learned for it (by any node). */
  private readonly chosen = new Map<number, string>();
  /** applied index -> digest of the key-value state there. */
  private readonly digests = new Map<number, string>();
  private readonly leaderBallots = new Set<string>();
  /** Partition: node -> group number; undefined = fully connected. */
  private groups: Map<NodeId, number> | undefined;
  onReply: ReplyHandler = () => {};
  validateFrames = false;
  /** "clientId/seq" of every request applied by some node. */
  readonly appliedRequests = new Set<string>();
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
    n.core = new PaxosNode({
      config,
      durable: recoverDurableState(n.disk),
      random: () => prng.next(),
    });
    const inc = ++n.incarnation;
    const tick = () => {
      if (n.incarnation !== inc || !n.core) return;
      n.core.tick();
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

  partition(groups: NodeId[][]): void {
    this.groups = new Map();
    groups.forEach((g, i) => {
      for (const id of g) this.groups?.set(id, i);
    });
    this.stats.partitions++;
  }

  heal(): void {
    this.groups = undefined;
  }

  private connected(a: NodeId, b: NodeId): boolean {
    return !this.groups || this.groups.get(a) === this.groups.get(b);
  }

  clientRequest(n: SimNode, reqId: ReqId, req: Parameters<PaxosNode["clientRequest"]>[1]): void {
    if (!n.core) return;
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
      for (const e of rd.applied) {
        const v = JSON.stringify(e.value);
        const prev = this.chosen.get(e.slot);
        for (const r of e.value.requests) {
          this.appliedRequests.add(`${r.clientId}/${r.seq}`);
          if (this.failedRequests.has(`${r.clientId}/${r.seq}`)) {
            this.violations.push(
              `slot ${e.slot}: ${r.clientId}/${r.seq} was answered unavailable, yet applied`,
            );
          }
        }
        if (prev === undefined) this.chosen.set(e.slot, v);
        else if (prev !== v) {
          this.violations.push(`slot ${e.slot}: ${n.id} applied ${v}, another node ${prev}`);
        }
      }
      if (rd.snapshotInstalled !== undefined) this.stats.snapshotsInstalled++;
      for (const m of rd.messages) this.transmit(n.id, m.to, m.msg);
      for (const r of rd.replies) this.onReply(n.id, r.reqId, r.result);
      if (empty) break;
    }
    const st = core.status();
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
      }
    }
  }

  /** Group commit: one sync makes every write issued so far durable. */
  private scheduleSync(n: SimNode): void {
    if (n.syncScheduled) return;
    n.syncScheduled = true;
    const inc = n.incarnation;
    this.events.after(this.rng.int(1, this.faults.syncDelay), () => {
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
      let delay = this.rng.int(1, 15);
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
