// loss: drop a share of the packets the targets send to the other nodes; stop ends it.
// Verified: probe datagrams from the targets come back at about the rate asked for, then
// (almost) all of them.

import type { Nemesis, NetworkFaults } from "../types.js";
import { nodeFaultNemesis, type TargetOptions } from "./node-fault.js";
import { Verifier } from "./verify.js";

export interface LossOptions extends TargetOptions {
  /** The share of packets dropped, 0..1. Default 0.3. */
  probability?: number;
}

export function lossNemesis(
  network: NetworkFaults,
  options: LossOptions = {},
  verify: Verifier = new Verifier(undefined),
): Nemesis {
  const probability = options.probability ?? 0.3;
  return nodeFaultNemesis(
    "loss",
    options,
    async (nodes, cluster) => {
      await network.loss(nodes, probability);
      const ids = cluster.nodes.map((n) => n.spec.id);
      const what = `loss ${probability} from ${nodes.join(",")}`;
      return { loss: probability, nodes, ...(await verify.loss(ids, nodes, probability, what)) };
    },
    async (nodes, cluster) => {
      await network.loss(nodes, 0);
      const ids = cluster.nodes.map((n) => n.spec.id);
      const what = `loss ${probability} from ${nodes.join(",")}`;
      return { healed: nodes, ...(await verify.lossHealed(ids, nodes, what)) };
    },
  );
}
