// One relay per node serving that node's outgoing links (peer-view.ts), started together:
// what a runtime wires in to delay traffic between its nodes on any kernel.

import path from "node:path";
import type { NodeId, NodeSpec } from "../types.js";
import { peerView, type RelayPorts, relayLinks, relayPorts } from "./peer-view.js";
import { RelayProcess } from "./process.js";
import type { LinkState } from "./protocol.js";

export interface ClusterRelayOptions {
  /** A command prefix for a node's relay (e.g. `ip netns exec <its namespace>`). Default none. */
  wrap?: (node: NodeSpec) => readonly string[];
  /** A folder for the relays' stderr, relay-<id>.log. Default: kept in memory. */
  logDir?: string;
}

export class ClusterRelays {
  private constructor(
    readonly relays: ReadonlyMap<NodeId, RelayProcess>,
    readonly ports: RelayPorts,
    private readonly cluster: readonly NodeSpec[],
  ) {}

  /** Starts every node's relay and adds its links; on a failure, stops those started. */
  static async start(
    cluster: readonly NodeSpec[],
    options: ClusterRelayOptions = {},
  ): Promise<ClusterRelays> {
    const relays = new Map<NodeId, RelayProcess>();
    try {
      const states = new Map<NodeId, LinkState[]>();
      await Promise.all(
        cluster.map(async (node) => {
          const relay = await RelayProcess.start({
            ...(options.wrap ? { wrap: options.wrap(node) } : {}),
            ...(options.logDir
              ? { logFile: path.join(options.logDir, `relay-${node.id}.log`) }
              : {}),
          });
          relays.set(node.id, relay);
          const links: LinkState[] = [];
          for (const link of relayLinks(node, cluster)) links.push(await relay.add(link));
          states.set(node.id, links);
        }),
      );
      return new ClusterRelays(relays, relayPorts(cluster, states), cluster);
    } catch (error) {
      await Promise.all([...relays.values()].map((r) => r.stop()));
      throw error;
    }
  }

  /** The cluster as this node must see it (its peers at its relay's addresses). */
  view(node: NodeSpec): NodeSpec[] {
    return peerView(node, this.cluster, this.ports);
  }

  /** Every relay's links with their counters. */
  async stats(): Promise<Map<NodeId, LinkState[]>> {
    const out = new Map<NodeId, LinkState[]>();
    for (const [id, relay] of this.relays) out.set(id, await relay.stats());
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.relays.values()].map((r) => r.stop()));
  }
}
