// Node-to-node messages between shims: real TCP between the nodes' addresses (namespaces,
// containers), so the harness's partitions, loss and delay apply to them. Each message is one
// JSON line. Like Maelstrom's network, this one may lose messages and never says so: a
// message to a peer we cannot reach (connect refused or timed out, connection reset, too much
// already waiting) is dropped, and the program's own timeouts deal with it.

import net from "node:net";
import type { PeerAddress } from "../peer-flag.js";

export type { PeerAddress };

/** How long a connect may take before its queued messages are dropped. */
const CONNECT_TIMEOUT_MS = 1000;
/** Bytes waiting on one link (while connecting, or unsent under a cut) before new ones drop. */
const MAX_WAITING_BYTES = 1 << 20;

/** Listens on this node's peer address; each line received goes to `deliver`. */
export function listenForPeers(
  self: PeerAddress,
  deliver: (line: string) => void,
  onError: (error: Error) => void,
): net.Server {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let buffered = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim() !== "") deliver(line);
        nl = buffered.indexOf("\n");
      }
    });
    socket.on("error", () => socket.destroy());
  });
  server.on("error", onError);
  server.listen(self.port, self.host);
  return server;
}

/** The outgoing links to every other node, one TCP connection each, made when first needed. */
export class PeerLinks {
  private readonly links = new Map<string, Link>();
  /** Messages dropped (unreachable peer, too much waiting), for /status. */
  dropped = 0;

  constructor(self: PeerAddress, peers: readonly PeerAddress[]) {
    for (const p of peers) if (p.id !== self.id) this.links.set(p.id, new Link(p, self.host));
  }

  /** Sends one message line to a peer; false when it has no such peer. */
  send(peer: string, line: string): boolean {
    const link = this.links.get(peer);
    if (link === undefined) return false;
    if (!link.send(line)) this.dropped++;
    return true;
  }

  close(): void {
    for (const link of this.links.values()) link.close();
  }
}

class Link {
  private socket: net.Socket | undefined;
  private connected = false;

  constructor(
    private readonly peer: PeerAddress,
    private readonly localAddress: string,
  ) {}

  /** Writes, or queues while connecting; false when the message was dropped. */
  send(line: string): boolean {
    const socket = this.socket ?? this.connect();
    if (socket.writableLength > MAX_WAITING_BYTES) return false;
    socket.write(`${line}\n`);
    return true;
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connect(): net.Socket {
    // Dialed from this node's own address: rules keyed by source address apply as well.
    const socket = net.connect({
      host: this.peer.host,
      port: this.peer.port,
      localAddress: this.localAddress,
    });
    socket.setNoDelay(true);
    this.socket = socket;
    this.connected = false;
    const timer = setTimeout(() => {
      if (!this.connected) socket.destroy();
    }, CONNECT_TIMEOUT_MS);
    socket.on("connect", () => {
      this.connected = true;
      clearTimeout(timer);
    });
    const forget = () => {
      clearTimeout(timer);
      // What was queued on it is lost, as on a lossy network; the next send dials again.
      if (this.socket === socket) this.socket = undefined;
    };
    socket.on("error", forget);
    socket.on("close", forget);
    // Anything the peer sends back on our dial is not ours to read.
    socket.resume();
    return socket;
  }
}
