// How each node sees the cluster when its outgoing traffic goes through its relay: pure
// functions, so the placement (one relay per node, listening on the node's own address, one
// port per peer) is written down in one place.
//
// Node a reaches peer b at a.host:<port of link a->b> on a's relay, which dials b's real
// address from a.host. Two links per pair: one to b's peer port (the built-in node's
// transport) and one to b's HTTP port (backends whose peer traffic is HTTP, such as the memory
// node, and the round-trip probe, which needs something that answers).

import type { NodeId, NodeSpec } from "../types.js";
import type { LinkSpec, LinkState } from "./protocol.js";

export type LinkKind = "peer" | "http";

/** The relay ports of the links from one node to one peer. */
export interface LinkPorts {
  peerPort: number;
  httpPort: number;
}

/** From node, to peer: the ports on the from-node's relay. */
export type RelayPorts = ReadonlyMap<NodeId, ReadonlyMap<NodeId, LinkPorts>>;

/** The name of the link from -> to on from's relay: "n1->n2" (peer) or "n1->n2:http". */
export function linkName(from: NodeId, to: NodeId, kind: LinkKind = "peer"): string {
  return kind === "peer" ? `${from}->${to}` : `${from}->${to}:http`;
}

/**
 * The cluster as `node` must see it: its own entry as it is, every other node's host,
 * peerPort and httpPort replaced by the relay address of the link node -> that node.
 * Feed it to Backend.localCommand(node, view) (the built-in node's --peers, a descriptor's
 * {peers}). Throws naming the link when a port is missing.
 */
export function peerView(
  node: NodeSpec,
  cluster: readonly NodeSpec[],
  ports: RelayPorts,
): NodeSpec[] {
  return cluster.map((peer) => {
    if (peer.id === node.id) return peer;
    const link = ports.get(node.id)?.get(peer.id);
    if (link === undefined) throw new Error(`no relay port for ${linkName(node.id, peer.id)}`);
    return { ...peer, host: node.host, peerPort: link.peerPort, httpPort: link.httpPort };
  });
}

/**
 * The links `node`'s relay serves: for every other node, its peer port and its HTTP port,
 * listening on node's own address (any free port: the relay's reply says which) and dialing
 * from it, so source-keyed iptables rules still apply to relayed traffic.
 */
export function relayLinks(node: NodeSpec, cluster: readonly NodeSpec[]): LinkSpec[] {
  return cluster
    .filter((peer) => peer.id !== node.id)
    .flatMap((peer) =>
      (["peer", "http"] as const).map((kind) => ({
        name: linkName(node.id, peer.id, kind),
        listen: { host: node.host, port: 0 },
        target: { host: peer.host, port: kind === "peer" ? peer.peerPort : peer.httpPort },
        dialFrom: node.host,
      })),
    );
}

/** RelayPorts from the states the relays returned for the links of relayLinks(). */
export function relayPorts(
  cluster: readonly NodeSpec[],
  states: ReadonlyMap<NodeId, readonly LinkState[]>,
): RelayPorts {
  const out = new Map<NodeId, Map<NodeId, LinkPorts>>();
  for (const [from, links] of states) {
    const port = (to: NodeId, kind: LinkKind) => {
      const name = linkName(from, to, kind);
      const link = links.find((l) => l.name === name);
      if (link === undefined) throw new Error(`relay of ${from} has no link ${name}`);
      return link.listen.port;
    };
    const byPeer = new Map<NodeId, LinkPorts>();
    for (const peer of cluster) {
      if (peer.id === from) continue;
      byPeer.set(peer.id, { peerPort: port(peer.id, "peer"), httpPort: port(peer.id, "http") });
    }
    out.set(from, byPeer);
  }
  return out;
}
