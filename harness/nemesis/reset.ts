// reset: the TCP connections the targets dialed to the other nodes (their outbound ones) are
// reset, each at its next packet, and what was in flight on them is lost; connections dialed
// after pass at once, and what the other nodes send the targets keeps coming. What an egress
// proxy that restarts, or a NAT that loses its table, does to a node.
// A Paxos leader whose accepts were lost this way, and which dies before it sends them again,
// leaves holes: slots below others that no acceptor has (a new leader must fill them with
// no-ops).
//
// Verified in two steps. The start returns as soon as the rule is in force (a fault aimed at a
// moment after it, `after:` in a schedule, must not wait on a check), saying how many
// connections it covers and how long listing them and putting the rule in took (probe_ms).
// The stop reads how many packets it reset; none, though connections were open (a node that
// runs sends a packet within its heartbeat, a killed one its FIN), and the fault did not take:
// the run's error.

import type { Nemesis, NetworkFaults } from "../types.js";
import { nodeFaultNemesis, type TargetOptions } from "./node-fault.js";
import { FaultNotTaken, type Measured } from "./verify.js";

export function resetNemesis(network: NetworkFaults, options: TargetOptions = {}): Nemesis {
  const reset = network.reset?.bind(network);
  const endReset = network.endReset?.bind(network);
  if (reset === undefined || endReset === undefined) {
    throw new Error("nemesis reset: this network cannot reset connections");
  }
  /** Connections open per target when the fault in force began. */
  let covered: { [node: string]: number } = {};
  return nodeFaultNemesis(
    "reset",
    options,
    async (nodes) => {
      const began = performance.now();
      const connections = await reset(nodes);
      covered = connections;
      const measured: Measured = nodes.every((id) => (connections[id] ?? 0) === 0)
        ? {
            verified: false,
            unverified: `no connection was open between ${nodes.join(", ")} and the other nodes`,
          }
        : { verified: true, probe_ms: Math.round(performance.now() - began) };
      return { nodes, connections, ...measured };
    },
    async (nodes) => {
      const packets = await endReset(nodes);
      for (const id of nodes) {
        const open = covered[id] ?? 0;
        if (open > 0 && (packets[id] ?? 0) === 0) {
          throw new FaultNotTaken(
            `reset ${id}: its rule reset no packet of the ${open} connections it had dialed to the other nodes`,
          );
        }
      }
      return { healed: nodes, reset_packets: packets, verified: true };
    },
  );
}
