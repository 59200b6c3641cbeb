// delay: slow the packets between the targets and the other nodes (netem, where the kernel
// has it); stop ends it. Where it cannot, the runtime's capabilities say why and makeNemeses
// refuses it up front.

import type { Nemesis, NetworkFaults } from "../types.js";
import { nodeFaultNemesis, type TargetOptions } from "./node-fault.js";

export interface DelayOptions extends TargetOptions {
  /** Added latency. Default 100 ms. */
  ms?: number;
}

export function delayNemesis(network: NetworkFaults, options: DelayOptions = {}): Nemesis {
  const ms = options.ms ?? 100;
  return nodeFaultNemesis(
    "delay",
    options,
    async (nodes) => {
      await network.delay(nodes, ms);
      return { delay_ms: ms, nodes };
    },
    async (nodes) => {
      await network.delay(nodes, 0);
      return { healed: nodes };
    },
  );
}
