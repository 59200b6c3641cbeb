// clock: shift the targets' wall clocks, each by its own random offset within ±maxSkewMs
// (monotonic clocks stay true); stop sets them back.

import type { ClockFaults, Nemesis } from "../types.js";
import { nodeFaultNemesis, type TargetOptions } from "./node-fault.js";

export interface ClockOptions extends TargetOptions {
  /** The largest offset either way. Default 60 s. */
  maxSkewMs?: number;
}

export function clockNemesis(clock: ClockFaults, options: ClockOptions = {}): Nemesis {
  const max = options.maxSkewMs ?? 60_000;
  return nodeFaultNemesis(
    "clock",
    options,
    async (nodes, cluster) => {
      const skewed: { [id: string]: number } = {};
      for (const id of nodes) {
        // At least a tenth of the maximum, either way: a skew too small to matter is no test.
        const size = Math.round(max * (0.1 + 0.9 * cluster.random()));
        skewed[id] = cluster.random() < 0.5 ? -size : size;
      }
      for (const id of nodes) await clock.skew(id, skewed[id] as number);
      return { skewed };
    },
    async (nodes) => {
      for (const id of nodes) await clock.skew(id, 0);
      return { reset: nodes };
    },
  );
}
