// delay: slow the packets between the targets and the other nodes, where the runtime can;
// stop ends it. Where it cannot, the runtime's capabilities say why and makeNemeses refuses it
// up front. Verification is the network's (NetworkFaults.verifyDelay / verifyDelayHealed, e.g.
// round trips through the relays): without it the event says it is unverified, and why.

import type { Value } from "../../checker/history.js";
import type { Nemesis, NetworkFaults } from "../types.js";
import { nodeFaultNemesis, type TargetOptions } from "./node-fault.js";
import { FaultNotTaken } from "./verify.js";

export interface DelayOptions extends TargetOptions {
  /** Added latency. Default 100 ms. */
  ms?: number;
  /** Each packet's delay up to this much more or less (uniform, never reordered). Default 0. */
  jitterMs?: number;
}

/** The added latency when neither the options nor the operation give one. */
export const DEFAULT_DELAY_MS = 100;

/** An operation's own `ms` or `jitter` (a schedule's delay fault), else the options'. */
function millis(params: Value | undefined, name: string, fallback: number): number {
  if (params === null || typeof params !== "object" || Array.isArray(params)) return fallback;
  const v = params[name];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !(v >= 0)) {
    throw new Error(`delay ${name} ${JSON.stringify(v)} is not a number of ms >= 0`);
  }
  return v;
}

export function delayNemesis(network: NetworkFaults, options: DelayOptions = {}): Nemesis {
  const delayOf = (params: Value | undefined) =>
    millis(params, "ms", options.ms ?? DEFAULT_DELAY_MS);
  return nodeFaultNemesis(
    "delay",
    options,
    async (nodes, _cluster, params) => {
      const ms = delayOf(params);
      const jitter = millis(params, "jitter", options.jitterMs ?? 0);
      if (jitter > ms) throw new Error(`delay jitter ${jitter} ms is more than its ${ms} ms`);
      await network.delay(nodes, ms, jitter);
      const checked = network.verifyDelay
        ? await network.verifyDelay(nodes, ms)
        : { verified: false, unverified: "this network cannot measure its delays" };
      if (typeof checked.not_taken === "string") {
        throw new FaultNotTaken(`delay ${nodes.join(",")}: ${checked.not_taken}`);
      }
      return { delay_ms: ms, nodes, ...checked };
    },
    async (nodes, _cluster, params) => {
      await network.delay(nodes, 0);
      const checked = network.verifyDelayHealed
        ? await network.verifyDelayHealed(nodes, delayOf(params))
        : {};
      if (typeof checked.not_taken === "string") {
        throw new FaultNotTaken(`heal of delay ${nodes.join(",")}: ${checked.not_taken}`);
      }
      return { healed: nodes, ...checked };
    },
  );
}
