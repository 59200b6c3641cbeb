// delay: slow the packets between the targets and the other nodes, where the runtime can;
// stop ends it. Where it cannot, the runtime's capabilities say why and makeNemeses refuses it
// up front. Verification is the network's (NetworkFaults.verifyDelay / verifyDelayHealed, e.g.
// round trips through the relays): without it the event says it is unverified, and why.

import type { Nemesis, NetworkFaults } from "../types.js";
import { nodeFaultNemesis, type TargetOptions } from "./node-fault.js";
import { FaultNotTaken } from "./verify.js";

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
      const checked = network.verifyDelay
        ? await network.verifyDelay(nodes, ms)
        : { verified: false, unverified: "this network cannot measure its delays" };
      if (typeof checked.not_taken === "string") {
        throw new FaultNotTaken(`delay ${nodes.join(",")}: ${checked.not_taken}`);
      }
      return { delay_ms: ms, nodes, ...checked };
    },
    async (nodes) => {
      await network.delay(nodes, 0);
      const checked = network.verifyDelayHealed ? await network.verifyDelayHealed(nodes, ms) : {};
      if (typeof checked.not_taken === "string") {
        throw new FaultNotTaken(`heal of delay ${nodes.join(",")}: ${checked.not_taken}`);
      }
      return { healed: nodes, ...checked };
    },
  );
}
