// ZooKeeper (3.5 and later) as an adapter: clients from client/zookeeper.ts, one session each to
// its node alone (the node's client port is the spec's http_port); a node is ready when its
// `srvr` four-letter word says it serves in a quorum (Mode: leader or follower; standalone for
// a cluster of one), and the leader is the node whose `srvr` says Mode: leader. The servers
// must allow the word: `4lw.commands.whitelist=srvr` (or more) in zoo.cfg.
//
// Options: `sync: true` puts a sync before each read (default false: reads are served from
// the server's own state, which a follower cut off from the leader keeps serving until it
// notices).

import net from "node:net";
import { ZooKeeperClient } from "../client/zookeeper.js";
import { SpareSessions } from "../client/zookeeper-spares.js";
import type { NodeHandle, NodeId, Protocol } from "../types.js";

export interface ZooKeeperOptions {
  sync: boolean;
}

/** The session timeout asked for: the server bounds it to 2-20 ticks (tickTime). */
const SESSION_TIMEOUT_MS = 10_000;
/** The longest wait between two attempts to reach the node. */
const SPIN_DELAY_MS = 500;

/** The options of a descriptor's `options:`; throws `options.<field> ...`. */
export function zookeeperOptions(options: Readonly<Record<string, unknown>>): ZooKeeperOptions {
  for (const [field, value] of Object.entries(options)) {
    if (field !== "sync") throw new Error(`options.${field}: zookeeper takes only sync`);
    if (typeof value !== "boolean") throw new Error("options.sync must be true or false");
  }
  return { sync: options.sync === true };
}

/** A four-letter word's answer (the server closes after it), or undefined when there is none. */
export function fourLetterWord(
  host: string,
  port: number,
  word: string,
  timeoutMs: number,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port }, () => socket.end(word));
    socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => {});
    socket.on("close", (hadError) => {
      const text = Buffer.concat(chunks).toString("utf8");
      resolve(hadError || text === "" ? undefined : text);
    });
  });
}

/** `Mode: follower` in a `srvr` answer: leader, follower, standalone, observer; else undefined. */
export function modeOf(srvr: string | undefined): string | undefined {
  return /^Mode: (\w+)/m.exec(srvr ?? "")?.[1];
}

const SERVING = new Set(["leader", "follower", "standalone"]);

/** Spare sessions kept ready per node (zookeeper-spares.ts): a few per worker on it. */
const SPARES_PER_NODE = 4;

export function zookeeperProtocol(options: ZooKeeperOptions): Protocol {
  const clients = new Set<ZooKeeperClient>();
  const spares = new Map<string, SpareSessions>();
  const sparesOf = (connect: string): SpareSessions => {
    let s = spares.get(connect);
    if (s === undefined) {
      const session = { sessionTimeoutMs: SESSION_TIMEOUT_MS, spinDelayMs: SPIN_DELAY_MS };
      s = new SpareSessions(connect, session, SPARES_PER_NODE);
      spares.set(connect, s);
    }
    return s;
  };
  const srvr = (node: NodeHandle, timeoutMs: number) =>
    fourLetterWord(node.spec.host, node.spec.httpPort, "srvr", timeoutMs);
  return {
    name: "zookeeper",
    client(node) {
      const sessions = sparesOf(`${node.spec.host}:${node.spec.httpPort}`);
      const client = new ZooKeeperClient({ sync: options.sync, session: () => sessions.take() });
      clients.add(client);
      const close = client.close.bind(client);
      client.close = async () => {
        clients.delete(client);
        await close();
      };
      return client;
    },
    async close() {
      await Promise.all([...clients].map((c) => c.close()));
      for (const s of spares.values()) s.close();
      spares.clear();
    },
    ready: async (node, timeoutMs) => SERVING.has(modeOf(await srvr(node, timeoutMs)) ?? ""),
    readiness: (node) =>
      `say Mode: leader or follower to srvr on ${node.spec.host}:${node.spec.httpPort}`,
    async leader(nodes, timeoutMs = 2000): Promise<NodeId | undefined> {
      const modes = await Promise.all(nodes.map(async (n) => modeOf(await srvr(n, timeoutMs))));
      return nodes[modes.indexOf("leader")]?.spec.id;
    },
  };
}
