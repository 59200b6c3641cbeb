// The kv workload: `keys` keys chosen uniformly or zipfian (key k0 hottest), reads, writes and
// cas of small values; checked with the kv model, key by key (P-compositionality).

import type { Workload, WorkloadOptions } from "../harness/types.js";
import { randomInt, zipfian } from "./random.js";
import { registerOp } from "./register.js";

export function kvWorkload(options: WorkloadOptions): Workload {
  const n = Math.max(1, options.keys);
  const keys = Array.from({ length: n }, (_, i) => `k${i}`);
  const pick =
    options.distribution === "zipfian"
      ? zipfian(n, options.random)
      : () => randomInt(options.random, n);
  return {
    name: "kv",
    model: "kv",
    next: () => registerOp(options.random, keys[pick()] as string),
    final: () => keys.map((key) => ({ f: "read", key })),
  };
}
