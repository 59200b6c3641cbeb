// TCP between peers, lossy by design: consensus tolerates lost messages, so nothing here
// retransmits; it only keeps trying to stay connected and bounds what it buffers.
//
// Each node dials every peer and sends only on the connection it dialed; it receives only on
// connections it accepted. Dialing from the node's own address (localAddress) is what lets
// source-keyed iptables rules partition local nodes on 127.0.x.y.
//
// Wire: length-prefixed JSON frames (framing.ts). The dialer sends {"hello": id} first, then
// {"m": message} and {"ping": 1}; the acceptor answers each ping with {"pong": 1}. The pings
// exist because a partition made of DROP rules leaves both sockets open: without traffic coming
// back, the dialer would keep writing into a dead connection for the TCP timeout (minutes).
import { connect, createServer, type Server, type Socket } from "node:net";
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameDecoder, FrameError } from "./framing.js";
import type { Logger } from "./logger.js";

export interface PeerAddress {
  id: string;
  host: string;
  port: number;
}

export interface TransportOptions {
  /** This node: listens on host:port and dials from host. */
  self: PeerAddress;
  /** The other nodes (an entry for self is ignored). */
  peers: readonly PeerAddress[];
  /** Exceptions thrown here are not caught: a core that throws should stop the node. */
  onMessage: (from: string, message: unknown) => void;
  /** Messages buffered per peer while it is unreachable or slow; the oldest go first. */
  queueLimit?: number;
  maxFrameBytes?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  connectTimeoutMs?: number;
  heartbeatMs?: number;
  /** A connection that brought nothing (no pong, no frame) for this long is dropped. */
  idleTimeoutMs?: number;
  /** In [0, 1); jitters the reconnect delay. Injectable for deterministic tests. */
  random?: () => number;
  logger?: Logger;
}

export interface TransportStats {
  sent: number;
  received: number;
  dropped: number;
  reconnects: number;
  badFrames: number;
  /** Messages refused before sending: their frame was over the limit every receiver enforces. */
  oversized: number;
  peers: Record<string, { connected: boolean; queued: number }>;
}

type Settings = Required<Omit<TransportOptions, "logger">> & Pick<TransportOptions, "logger">;

interface Link {
  peer: PeerAddress;
  queue: Buffer[];
  socket?: Socket;
  connected: boolean;
  attempt: number;
  timer?: NodeJS.Timeout;
  /**
   * performance.now() when the peer was last heard: a monotonic clock, so that a wall clock
   * that jumps (NTP, the clock nemesis) does not make every peer look silent at once.
   */
  lastHeard: number;
}

interface Inbound {
  socket: Socket;
  peerId?: string;
  lastHeard: number;
}

const PING = encodeFrame({ ping: 1 });
const PONG = encodeFrame({ pong: 1 });

export class Transport {
  private readonly links = new Map<string, Link>();
  private readonly inbound = new Set<Inbound>();
  private readonly counters = {
    sent: 0,
    received: 0,
    dropped: 0,
    reconnects: 0,
    badFrames: 0,
    oversized: 0,
  };
  private readonly o: Settings;
  private heartbeat?: NodeJS.Timeout;
  private closing = false;

  private constructor(
    options: TransportOptions,
    private readonly server: Server,
  ) {
    this.o = {
      ...options,
      queueLimit: options.queueLimit ?? 1024,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      backoffMinMs: options.backoffMinMs ?? 50,
      backoffMaxMs: options.backoffMaxMs ?? 1000,
      connectTimeoutMs: options.connectTimeoutMs ?? 1000,
      heartbeatMs: options.heartbeatMs ?? 250,
      idleTimeoutMs: options.idleTimeoutMs ?? 2000,
      random: options.random ?? Math.random,
    };
    for (const peer of options.peers) {
      if (peer.id === options.self.id) continue;
      this.links.set(peer.id, { peer, queue: [], connected: false, attempt: 0, lastHeard: 0 });
    }
  }

  private get log(): Logger | undefined {
    return this.o.logger;
  }

  /** Listens on self.host:self.port, then starts dialing every peer. */
  static async start(options: TransportOptions): Promise<Transport> {
    const server = createServer();
    const transport = new Transport(options, server);
    server.on("connection", (socket) => transport.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.self.port, options.self.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (error) => transport.log?.error("peer listener failed", { error }));
    for (const link of transport.links.values()) transport.dial(link);
    transport.heartbeat = setInterval(() => transport.beat(), transport.o.heartbeatMs);
    return transport;
  }

  /** Queues `message` for `to`; never blocks. Throws on an unknown peer or a non-JSON message. */
  send(to: string, message: unknown): void {
    this.sendMany([to], message);
  }

  /** Queues one `message` for several peers, encoding it once (a broadcast). */
  sendMany(to: readonly string[], message: unknown): void {
    const links = to.map((id) => {
      const link = this.links.get(id);
      if (link === undefined) throw new Error(`unknown peer "${id}"`);
      return link;
    });
    if (this.closing || links.length === 0) return;
    let frame: Buffer;
    try {
      frame = encodeFrame({ m: message }, this.o.maxFrameBytes);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      // Refused before it is sent; the core treats it as a lost message (it retries or moves on).
      this.counters.dropped += links.length;
      this.counters.oversized++;
      this.log?.error("message too large to send", { to, error: error.message });
      return;
    }
    for (const link of links) this.enqueue(link, frame);
  }

  private enqueue(link: Link, frame: Buffer): void {
    link.queue.push(frame);
    if (link.queue.length > this.o.queueLimit) {
      link.queue.shift();
      this.counters.dropped++;
    }
    this.pump(link);
  }

  stats(): TransportStats {
    const peers: TransportStats["peers"] = {};
    for (const [id, link] of this.links) {
      peers[id] = { connected: link.connected, queued: link.queue.length };
    }
    return { ...this.counters, peers };
  }

  /** Ends every socket and timer; queued messages are discarded. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const link of this.links.values()) {
      clearTimeout(link.timer);
      link.socket?.destroy();
      link.queue = [];
    }
    for (const conn of this.inbound) conn.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private dial(link: Link): void {
    if (this.closing) return;
    const { peer } = link;
    const socket = connect({ host: peer.host, port: peer.port, localAddress: this.o.self.host });
    link.socket = socket;
    socket.setNoDelay(true);
    // A SYN into a DROP rule would otherwise wait out the kernel's retries (about two minutes).
    link.timer = setTimeout(() => socket.destroy(), this.o.connectTimeoutMs);
    const decoder = new FrameDecoder(this.o.maxFrameBytes);
    socket.on("connect", () => {
      clearTimeout(link.timer);
      link.connected = true;
      link.attempt = 0;
      link.lastHeard = performance.now();
      socket.write(encodeFrame({ hello: this.o.self.id }));
      this.log?.info("peer connected", { peer: peer.id });
      this.pump(link);
    });
    socket.on("data", (chunk: Buffer) => {
      try {
        decoder.push(chunk);
        link.lastHeard = performance.now();
      } catch (error) {
        this.badFrame(socket, peer.id, error);
      }
    });
    socket.on("drain", () => this.pump(link));
    socket.on("error", (error) => this.log?.debug("peer socket error", { peer: peer.id, error }));
    socket.on("close", () => {
      if (link.socket !== socket) return;
      clearTimeout(link.timer);
      if (link.connected) this.log?.info("peer disconnected", { peer: peer.id });
      link.socket = undefined;
      link.connected = false;
      this.redial(link);
    });
  }

  private redial(link: Link): void {
    if (this.closing) return;
    const { backoffMinMs, backoffMaxMs, random } = this.o;
    const base = Math.min(backoffMaxMs, backoffMinMs * 2 ** link.attempt);
    link.attempt = Math.min(link.attempt + 1, 30);
    this.counters.reconnects++;
    link.timer = setTimeout(() => this.dial(link), base * (0.5 + 0.5 * random()));
  }

  private pump(link: Link): void {
    const { socket } = link;
    if (!link.connected || socket === undefined) return;
    while (link.queue.length > 0 && !socket.writableNeedDrain) {
      socket.write(link.queue.shift()!);
      this.counters.sent++;
    }
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn: Inbound = { socket, lastHeard: performance.now() };
    this.inbound.add(conn);
    const decoder = new FrameDecoder(this.o.maxFrameBytes);
    socket.on("data", (chunk: Buffer) => {
      let frames: unknown[];
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        this.badFrame(socket, conn.peerId, error);
        return;
      }
      conn.lastHeard = performance.now();
      for (const frame of frames) {
        if (socket.destroyed) return;
        this.receive(conn, frame);
      }
    });
    socket.on("error", (error) => this.log?.debug("inbound socket error", { error }));
    socket.on("close", () => this.inbound.delete(conn));
  }

  private receive(conn: Inbound, frame: unknown): void {
    const f = (typeof frame === "object" && frame !== null ? frame : {}) as Record<string, unknown>;
    if (conn.peerId === undefined) {
      const id = f.hello;
      if (typeof id !== "string" || !this.links.has(id)) {
        this.badFrame(conn.socket, undefined, new FrameError("expected a hello from a known peer"));
        return;
      }
      conn.peerId = id;
      // A newer connection from the same peer means the older one is dead (e.g. cut by a partition).
      for (const other of this.inbound) {
        if (other !== conn && other.peerId === id) other.socket.destroy();
      }
    } else if ("m" in f) {
      this.counters.received++;
      this.o.onMessage(conn.peerId, f.m);
    } else if ("ping" in f) {
      conn.socket.write(PONG);
    } else {
      this.badFrame(conn.socket, conn.peerId, new FrameError("unknown frame kind"));
    }
  }

  private badFrame(socket: Socket, peer: string | undefined, error: unknown): void {
    this.counters.badFrames++;
    this.log?.warn("bad frame, dropping connection", {
      peer,
      remote: socket.remoteAddress,
      error: (error as Error).message,
    });
    socket.destroy();
  }

  private beat(): void {
    const now = performance.now();
    const deadline = now - this.o.idleTimeoutMs;
    for (const link of this.links.values()) {
      if (!link.connected || link.socket === undefined) continue;
      if (link.lastHeard < deadline) {
        this.log?.info("peer silent, reconnecting", { peer: link.peer.id });
        link.socket.destroy();
      } else {
        link.socket.write(PING);
      }
    }
    for (const conn of this.inbound) {
      if (conn.lastHeard < deadline) conn.socket.destroy();
    }
  }
}
