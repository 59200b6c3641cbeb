// The register workload: one key (or a few), reads, writes and compare-and-sets of small values
// (0..4, so that a cas often finds its `from`), checked against the cas-register model (per key).

import type { Invocation, Workload, WorkloadOptions } from "../contracts/workload.js";
import { randomInt } from "./random.js";

/** Values written are 0..VALUES-1: few, so that cas hits often. */
export const VALUES = 5;

/** A read, write or cas on one of `keys`, each a third of the time. */
export function registerOp(random: () => number, key: string): Invocation {
  const r = random();
  if (r < 1 / 3) return { f: "read", key };
  if (r < 2 / 3) return { f: "write", key, value: randomInt(random, VALUES) };
  return { f: "cas", key, value: [randomInt(random, VALUES), randomInt(random, VALUES)] };
}

/**
 * Register operations on `<prefix>0..<prefix>(count-1)` (at least one key), the key of each
 * picked by `pick` (an index below the count; default uniform). After the faults: a read of
 * every key from every node. The register and kv workloads.
 */
export function keyedWorkload(
  kind: Pick<Workload, "name" | "model">,
  prefix: string,
  options: WorkloadOptions,
  pick: (count: number) => () => number = (count) => () => randomInt(options.random, count),
): Workload {
  const keys = Array.from({ length: Math.max(1, options.keys) }, (_, i) => `${prefix}${i}`);
  const next = pick(keys.length);
  return {
    ...kind,
    next: () => registerOp(options.random, keys[next()] as string),
    final: () => keys.map((key) => ({ f: "read", key })),
  };
}

export function registerWorkload(options: WorkloadOptions): Workload {
  return keyedWorkload({ name: "register", model: "cas-register" }, "r", options);
}
