// Test helpers: build cores with fixed timing and a seeded random, and a tiny synchronous
// cluster (instant disk, a network that delivers in order unless cut) for scenario tests.

import type { ClientRequest, CommandResult } from "../command.js";
import { isEmptyReady, PaxosNode } from "../core/node.js";
import { recoverDurableState } from "../core/storage.js";
import type {
  DurableState,
  NodeConfig,
  NodeId,
  PeerMessage,
  Ready,
  ReqId,
  StorageWrite,
} from "../core/types.js";
import { Prng } from "../sim/prng.js";

export const TIMING: Omit<NodeConfig, "id" | "peers"> = {
  electionTicks: 10,
  heartbeatTicks: 2,
  retryTicks: 4,
  unavailableTicks: 8,
  requestTimeoutTicks: 60,
  snapshotEvery: 10,
  maxBatch: 8,
  maxInflight: 4,
  maxCatchup: 16,
};

export function makeNode(
  id: NodeId,
  peers: NodeId[],
  durable?: DurableState,
  timing: Partial<NodeConfig> = {},
): PaxosNode {
  const prng = new Prng(id.charCodeAt(id.length - 1));
  return new PaxosNode({
    config: { id, peers, ...TIMING, ...timing },
    durable,
    random: () => prng.next(),
  });
}

/**
 * Drains ready() until everything is quiet; returns all of it merged. With `sync`, every write
 * completes at once (as a disk that syncs instantly), releasing what waited on it.
 */
export function drain(node: PaxosNode, { sync = false } = {}): Ready {
  const all: Ready = { persist: [], messages: [], replies: [], applied: [] };
  for (;;) {
    const rd = node.ready();
    all.persist.push(...rd.persist);
    all.messages.push(...rd.messages);
    all.replies.push(...rd.replies);
    all.applied.push(...rd.applied);
    if (rd.token !== undefined) {
      all.token = rd.token;
      if (sync) node.persisted(rd.token);
    }
    if (rd.snapshotInstalled !== undefined) all.snapshotInstalled = rd.snapshotInstalled;
    if (isEmptyReady(rd)) return all;
  }
}

export function req(
  clientId: string,
  seq: number,
  command: ClientRequest["command"],
): ClientRequest {
  return { clientId, seq, command };
}

/** The wall-clock length of a TestCluster round (a tick of every node). */
export const WALL_MS_PER_TICK = 10;

/**
 * A synchronous cluster: disks sync at once, messages are queued and delivered in order by
 * `run()`, except between nodes that are cut off.
 */
export class TestCluster {
  readonly nodes = new Map<NodeId, PaxosNode>();
  readonly disks = new Map<NodeId, StorageWrite[]>();
  readonly replies: { node: NodeId; reqId: ReqId; result: CommandResult }[] = [];
  readonly snapshotsInstalled: NodeId[] = [];
  private queue: { from: NodeId; to: NodeId; msg: PeerMessage }[] = [];
  readonly down = new Set<NodeId>();
  /** Nodes that keep ticking but whose messages, both ways, are lost (a partition). */
  readonly isolated = new Set<NodeId>();
  /** Nodes that do not tick (a paused process: its timers do not run). */
  readonly paused = new Set<NodeId>();
  /** Rounds run so far; each node's wall clock is rounds * WALL_MS_PER_TICK plus its offset. */
  private rounds = 0;
  readonly clockOffsets = new Map<NodeId, number>();

  constructor(
    readonly ids: NodeId[],
    private readonly timing: Partial<NodeConfig> = {},
  ) {
    for (const id of ids) {
      this.disks.set(id, []);
      this.nodes.set(id, this.build(id));
    }
  }

  private build(id: NodeId): PaxosNode {
    const durable = recoverDurableState(this.disks.get(id) ?? []);
    return makeNode(
      id,
      this.ids.filter((p) => p !== id),
      durable,
      this.timing,
    );
  }

  node(id: NodeId): PaxosNode {
    return this.nodes.get(id) as PaxosNode;
  }

  restart(id: NodeId): void {
    this.nodes.set(id, this.build(id));
  }

  private pump(id: NodeId): void {
    const n = this.node(id);
    for (;;) {
      const rd = n.ready();
      if (rd.token !== undefined) {
        this.disks.get(id)?.push(...rd.persist);
        n.persisted(rd.token);
      }
      for (const m of rd.messages) this.queue.push({ from: id, to: m.to, msg: m.msg });
      for (const r of rd.replies) this.replies.push({ node: id, reqId: r.reqId, result: r.result });
      if (rd.snapshotInstalled !== undefined) this.snapshotsInstalled.push(id);
      if (rd.persist.length + rd.messages.length + rd.replies.length === 0 && !n.hasReady()) return;
    }
  }

  /** A node's wall clock (ms), passed with each tick. */
  wallClock(id: NodeId): number {
    return this.rounds * WALL_MS_PER_TICK + (this.clockOffsets.get(id) ?? 0);
  }

  /** Ticks every live node `ticks` times, delivering all messages after each round. */
  run(ticks: number): void {
    for (let t = 0; t < ticks; t++) {
      this.rounds++;
      for (const id of this.ids) {
        if (this.down.has(id) || this.paused.has(id)) continue;
        this.node(id).tick(this.wallClock(id));
        this.pump(id);
      }
      this.deliverAll();
    }
  }

  deliverAll(): void {
    for (let guard = 0; this.queue.length > 0 && guard < 100_000; guard++) {
      const { from, to, msg } = this.queue.shift() as {
        from: NodeId;
        to: NodeId;
        msg: PeerMessage;
      };
      if (this.down.has(to) || this.down.has(from)) continue;
      if (this.isolated.has(to) || this.isolated.has(from)) continue;
      this.node(to).receive(from, JSON.parse(JSON.stringify(msg)) as PeerMessage);
      this.pump(to);
    }
  }

  submit(id: NodeId, reqId: ReqId, request: ClientRequest): void {
    this.node(id).clientRequest(reqId, request);
    this.pump(id);
  }

  leader(): NodeId | undefined {
    return this.ids.find((id) => !this.down.has(id) && this.node(id).status().role === "leader");
  }
}

/** Drains a node, completing every write at once; returns the messages and replies released. */
export function drainSync(node: PaxosNode): Ready {
  return drain(node, { sync: true });
}

/** Grants every pre-vote in `messages` on behalf of its addressee (a quorum that would promise). */
export function grantPrevotes(node: PaxosNode, messages: Ready["messages"]): void {
  for (const m of messages) {
    if (m.msg.type === "prevote") {
      node.receive(m.to, { type: "prevoteReply", round: m.msg.round, granted: true });
    }
  }
}

/** Ticks a node until it campaigns (its pre-vote granted, it sends a prepare); returns its ballot. */
export function campaign(node: PaxosNode): { round: number; node: string } {
  for (let i = 0; i < 100; i++) {
    node.tick();
    grantPrevotes(node, drainSync(node).messages);
    drainSync(node);
    const st = node.status();
    if (st.role !== "follower" && st.ballot) return st.ballot;
  }
  throw new Error("no campaign");
}
