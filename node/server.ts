// The node's shell: it makes the pure consensus core (core/) a real process. It owns the timers,
// the disk (DurableLog), the peer sockets (Transport) and the client API (HTTP), feeds every input
// to the core and carries out what ready() returns, following the ordering rule (node/README.md):
//
//   1. `persist` is appended to the log; when the append is durable, `persisted(token)` is called.
//      Appends issued while an fsync is in flight share the next one (group commit), and they
//      complete in order, so tokens complete in order.
//   2. `messages` go to the transport (lossy; the core retries what matters).
//   3. `replies` resolve the HTTP requests waiting on them.
//
// Inputs (ticks, peer frames, client requests, write completions) only mark the node dirty; one
// drain per event-loop turn (setImmediate) collects everything that arrived together into one
// ready() batch. That batching is what makes throughput: one fsync and one accept per batch.
//
// main.ts runs this as a process; tests may start it in-process as well.

import { createHash } from "node:crypto";
import type { ClientRequest, CommandResult } from "./command.js";
import {
  type NodeConfig as CoreConfig,
  defaultTiming,
  isEmptyReady,
  isPeerMessage,
  type NodeStatus,
  PaxosNode,
  type Ready,
  recoverDurableState,
  type StorageWrite,
  segmentCarry,
} from "./core/index.js";
import type { NodeConfig } from "./io/config.js";
import { DurableLog, type DurableLogStats } from "./io/durable-log.js";
import { type HttpApi, startHttpApi } from "./io/http-api.js";
import { createLogger, type Logger } from "./io/logger.js";
import { Transport, type TransportStats } from "./io/transport.js";

export type Timing = Omit<CoreConfig, "id" | "peers">;

export interface ServerOptions {
  config: NodeConfig;
  logger?: Logger;
  /** Overrides of the core's timing and batching (in ticks, slots, requests). */
  timing?: Partial<Timing>;
  /**
   * Compact the log after this many snapshot records were appended: the batch with the last of
   * them starts a new segment, and the older segments are deleted once it is durable.
   */
  compactEverySnapshots?: number;
  /**
   * Called once on a fatal error (a failed disk write, a core that throws). The node has stopped
   * feeding the core by then; the process should exit non-zero. Default: close and set exitCode 1.
   */
  onFatal?: (error: unknown) => void;
  /** Election-timeout randomness; the shell's, since the core has none of its own. */
  random?: () => number;
}

/** What `/status` returns: the core's status plus the shell's own counters. */
export interface ServerStatus extends NodeStatus {
  host: string;
  peerPort: number;
  httpPort: number;
  uptimeMs: number;
  transport: TransportStats & { badMessages: number };
  log: DurableLogStats & {
    /** Records in the segments written since the last compaction (or since opening). */
    recordsSinceCompaction: number;
    /** Snapshot records appended since the last compaction. */
    snapshotsSinceCompaction: number;
  };
  http: {
    /** Client requests handed to the core, by command. */
    requests: { read: number; write: number; cas: number };
    /** Requests answered 500 (indeterminate) because no reply came within the timeout. */
    timeouts: number;
    /** Requests waiting for a reply now. */
    waiting: number;
  };
  /** ready() batches drained that had something to do. */
  batches: number;
}

interface Waiter {
  resolve: (result: CommandResult) => void;
  reject: (error: Error) => void;
  deadline: number;
}

const STORAGE_TYPES = new Set(["promise", "accept", "snapshot"]);

function isStorageWrite(x: unknown): x is StorageWrite {
  return (
    typeof x === "object" &&
    x !== null &&
    STORAGE_TYPES.has((x as { type?: unknown }).type as string)
  );
}

export class NodeServer {
  private readonly pending = new Map<number, Waiter>();
  private nextReq = 1;
  private scheduled = false;
  private stopped = false;
  private closing: Promise<void> | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private transport!: Transport;
  private http!: HttpApi;
  private readonly started = performance.now();
  /** Every record in the log since it was opened or last compacted (for the next compaction). */
  private records: StorageWrite[];
  private snapshotsSinceCompaction = 0;
  private persistedToken = 0;
  private badMessages = 0;
  private timeouts = 0;
  private batches = 0;
  private readonly requests = { read: 0, write: 0, cas: 0 };
  private lastRole: NodeStatus["role"] = "follower";
  private lastLeader: string | null = null;
  private readonly drainNow = () => this.drain();

  private constructor(
    readonly config: NodeConfig,
    private readonly node: PaxosNode,
    private readonly log: DurableLog,
    records: StorageWrite[],
    private readonly logger: Logger,
    private readonly compactEvery: number,
    private readonly onFatal: (error: unknown) => void,
  ) {
    this.records = records;
  }

  /** Opens the log, recovers, starts the transport, the HTTP API and the tick timer. */
  static async start(options: ServerOptions): Promise<NodeServer> {
    const { config } = options;
    const logger = options.logger ?? createLogger({ node: config.id, level: config.logLevel });
    const t0 = performance.now();
    const opened = await DurableLog.open(config.dataDir);
    const records: StorageWrite[] = [];
    for (const [i, r] of opened.records.entries()) {
      if (!isStorageWrite(r)) {
        await opened.log.close();
        throw new Error(`${config.dataDir}: log record ${i} is not a storage write`);
      }
      records.push(r);
    }
    const durable = recoverDurableState(records);
    const timing: Timing = {
      ...defaultTiming,
      // The core forgets a lost request about when the HTTP request times out.
      requestTimeoutTicks: Math.ceil(config.requestTimeoutMs / config.tickMs) + 1,
      ...options.timing,
    };
    const node = new PaxosNode({
      config: {
        id: config.id,
        peers: config.peers.map((p) => p.id),
        ...timing,
        ...(config.mutant ? { mutant: config.mutant } : {}),
        // Only the wall-clock-lease mutant reads it: a lease of electionTicks - 2 ticks.
        leaseMs: (timing.electionTicks - 2) * config.tickMs,
      },
      durable,
      random: options.random ?? Math.random,
    });
    logger.info("recovered", {
      dataDir: config.dataDir,
      records: records.length,
      segments: opened.log.stats().segments,
      truncatedBytes: opened.truncatedBytes,
      promised: durable.promised,
      snapshotIndex: durable.snapshot?.index ?? 0,
      accepted: durable.accepted.length,
      ms: Math.round(performance.now() - t0),
    });
    let server: NodeServer | undefined;
    const onFatal =
      options.onFatal ??
      ((error: unknown) => {
        process.exitCode = 1;
        logger.error("fatal error, stopping", { error });
        void server?.close();
      });
    server = new NodeServer(
      config,
      node,
      opened.log,
      records,
      logger,
      options.compactEverySnapshots ?? 4,
      onFatal,
    );
    try {
      await server.open();
    } catch (error) {
      await server.close();
      throw error;
    }
    return server;
  }

  private async open(): Promise<void> {
    const { config } = this;
    this.transport = await Transport.start({
      self: { id: config.id, host: config.host, port: config.peerPort },
      peers: config.peers,
      onMessage: (from, message) => this.onPeerMessage(from, message),
      logger: this.logger,
    }).catch((error: unknown) => {
      throw new Error(
        `--peer-port: cannot listen on ${config.host}:${config.peerPort}: ${(error as Error).message}`,
      );
    });
    this.http = await startHttpApi({
      host: config.host,
      port: config.httpPort,
      handler: (request) => this.onClientRequest(request),
      status: (digest) => ({ ...this.status(), ...(digest ? this.replicaState() : {}) }),
    }).catch((error: unknown) => {
      throw new Error(
        `--http-port: cannot listen on ${config.host}:${config.httpPort}: ${(error as Error).message}`,
      );
    });
    this.tickTimer = setInterval(() => this.onTick(), config.tickMs);
    this.logger.info("started", {
      host: config.host,
      peerPort: config.peerPort,
      httpPort: this.http.port,
      peers: config.peers.map((p) => `${p.id}=${p.host}:${p.port}`),
      tickMs: config.tickMs,
    });
    if (config.mutant) {
      this.logger.warn("running with a deliberate bug (a mutant, for testing tests)", {
        mutant: config.mutant,
      });
    }
  }

  /** The HTTP port actually bound (useful with --http-port 0). */
  get httpPort(): number {
    return this.http.port;
  }

  /**
   * What `GET /status?digest=1` adds: the index this replica has applied and a digest of its
   * key-value state there, so the harness can check that replicas at the same index agree.
   */
  replicaState(): { applied: number; state_digest: string; log_digest?: string } {
    const digest = createHash("sha256").update(this.node.stateDigest()).digest("hex");
    const log = this.node.logDigest();
    return {
      applied: this.node.status().appliedIndex,
      state_digest: digest.slice(0, 16),
      ...(log === undefined ? {} : { log_digest: log }),
    };
  }

  status(): ServerStatus {
    return {
      ...this.node.status(),
      host: this.config.host,
      peerPort: this.config.peerPort,
      httpPort: this.http?.port ?? this.config.httpPort,
      uptimeMs: Math.round(performance.now() - this.started),
      transport: { ...this.transport.stats(), badMessages: this.badMessages },
      log: {
        ...this.log.stats(),
        recordsSinceCompaction: this.records.length,
        snapshotsSinceCompaction: this.snapshotsSinceCompaction,
      },
      http: { requests: { ...this.requests }, timeouts: this.timeouts, waiting: this.pending.size },
      batches: this.batches,
    };
  }

  /** Stops taking input, fails waiting requests (indeterminate), closes sockets and the log. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.tickTimer);
    const gone = new Error("node shutting down");
    for (const w of this.pending.values()) w.reject(gone);
    this.pending.clear();
    const steps: Promise<void>[] = [];
    if (this.http) steps.push(this.http.close());
    if (this.transport) steps.push(this.transport.close());
    await Promise.allSettled(steps);
    await this.log.close().catch(() => {});
    this.logger.info("stopped");
  }

  // ---- Inputs -------------------------------------------------------------------------------

  private onTick(): void {
    if (this.stopped) return;
    // The wall clock goes in as an input; the correct core never reads it (see core/mutants.ts).
    this.guard(() => this.node.tick(Date.now()));
    this.expireRequests();
    this.schedule();
  }

  private onPeerMessage(from: string, message: unknown): void {
    if (this.stopped) return;
    if (!isPeerMessage(message)) {
      this.badMessages++;
      this.logger.debug("malformed peer message dropped", { peer: from });
      return;
    }
    this.guard(() => this.node.receive(from, message));
    this.schedule();
  }

  private onClientRequest(request: ClientRequest): Promise<CommandResult> {
    if (this.stopped) return Promise.reject(new Error("node shutting down"));
    return new Promise<CommandResult>((resolve, reject) => {
      const reqId = this.nextReq++;
      const deadline = performance.now() + this.config.requestTimeoutMs;
      this.pending.set(reqId, { resolve, reject, deadline });
      this.requests[request.command.op]++;
      this.guard(() => this.node.clientRequest(reqId, request));
      this.schedule();
    });
  }

  private onPersisted(token: number): void {
    if (this.stopped || token <= this.persistedToken) return;
    this.persistedToken = token;
    this.guard(() => this.node.persisted(token));
    this.schedule();
  }

  /** Requests wait in arrival order with one timeout, so the map is also in deadline order. */
  private expireRequests(): void {
    const now = performance.now();
    for (const [reqId, w] of this.pending) {
      if (w.deadline > now) break;
      this.pending.delete(reqId);
      this.timeouts++;
      // No `definite`: the request may still be applied (http-api answers a throw with a 500).
      w.reject(new Error("timed out waiting for consensus (indeterminate)"));
    }
  }

  // ---- Draining ready() -----------------------------------------------------------------------

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(this.drainNow);
  }

  private drain(): void {
    this.scheduled = false;
    if (this.stopped) return;
    this.guard(() => {
      for (;;) {
        const rd = this.node.ready();
        if (isEmptyReady(rd)) break;
        this.batches++;
        this.carryOut(rd);
      }
    });
    this.observeRole();
  }

  private carryOut(rd: Ready): void {
    if (rd.persist.length > 0) this.persist(rd.persist, rd.token as number);
    // A broadcast is one message object for several peers, in a row: encode it once.
    const { messages } = rd;
    for (let i = 0; i < messages.length; ) {
      const msg = messages[i]!.msg;
      const to: string[] = [];
      for (; i < messages.length && messages[i]!.msg === msg; i++) to.push(messages[i]!.to);
      this.transport.sendMany(to, msg);
    }
    for (const { reqId, result } of rd.replies) {
      const w = this.pending.get(reqId as number);
      if (w === undefined) continue; // timed out already
      this.pending.delete(reqId as number);
      w.resolve(result);
    }
    if (rd.snapshotInstalled !== undefined) {
      this.logger.info("snapshot installed from a peer", { index: rd.snapshotInstalled });
    }
    for (const v of rd.violations ?? []) this.logger.error("protocol violation", { detail: v });
  }

  /**
   * Appends `writes`. Every `compactEvery` snapshot records, the batch with the last one starts
   * a new segment instead, led by what it needs to stand alone (segmentCarry: a promise and a few
   * accepts, small); the log deletes the older segments once it is durable. Nothing is encoded
   * again and nothing waits for the deletion, so compaction costs an append about one more fsync.
   */
  private persist(writes: StorageWrite[], token: number): void {
    for (const w of writes) if (w.type === "snapshot") this.snapshotsSinceCompaction++;
    const carry =
      this.snapshotsSinceCompaction >= this.compactEvery
        ? segmentCarry(this.records, writes)
        : undefined;
    let written: Promise<void>;
    if (carry === undefined) {
      for (const w of writes) this.records.push(w);
      written = this.log.append(writes);
    } else {
      const before = this.records.length;
      this.records = [...carry, ...writes];
      this.snapshotsSinceCompaction = 0;
      written = this.log.startSegment(this.records);
      this.logger.debug("log compacting", { before, after: this.records.length });
    }
    written.then(
      () => this.onPersisted(token),
      (error: unknown) => this.fatal(error),
    );
  }

  private observeRole(): void {
    const s = this.node.status();
    if (s.role === this.lastRole && s.leader === this.lastLeader) return;
    if (s.role === "candidate" && this.lastRole !== "candidate") {
      this.logger.info("election started", { ballot: s.ballot });
    } else if (s.role !== this.lastRole) {
      this.logger.info("role changed", { role: s.role, leader: s.leader, ballot: s.ballot });
    } else {
      this.logger.info("leader changed", { leader: s.leader, ballot: s.ballot });
    }
    this.lastRole = s.role;
    this.lastLeader = s.leader;
  }

  // ---- Failure ----------------------------------------------------------------------------------

  private guard(f: () => void): void {
    try {
      f();
    } catch (error) {
      this.fatal(error);
    }
  }

  private fatal(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.tickTimer);
    this.onFatal(error);
  }
}
