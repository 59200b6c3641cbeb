// loss: drop a share of the packets the targets send to the other nodes; stop ends it.

import type { Nemesis, NetworkFaults } from "../types.js";
import { nodeFaultNemesis, type TargetOptions } from "./node-fault.js";

export interface LossOptions extends TargetOptions {
  /** The share of packets dropped, 0..1. Default 0.3. */
  probability?: number;
}

export function lossNemesis(network: NetworkFaults, options: LossOptions = {}): Nemesis {
  const probability = options.probability ?? 0.3;
  return nodeFaultNemesis(
    "loss",
    options,
    async (nodes) => {
      await network.loss(nodes, probability);
      return { loss: probability, nodes };
    },
    async (nodes) => {
      await network.loss(nodes, 0);
      return { healed: nodes };
    },
  );
}
