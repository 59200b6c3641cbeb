// The kv workload: `keys` keys chosen uniformly or zipfian (key k0 hottest), reads, writes and
// cas of small values; checked with the kv model, key by key (P-compositionality).

import type { Workload, WorkloadOptions } from "../contracts/workload.js";
import { zipfian } from "./random.js";
import { keyedWorkload } from "./register.js";

export function kvWorkload(options: WorkloadOptions): Workload {
  return keyedWorkload(
    { name: "kv", model: "kv" },
    "k",
    options,
    options.distribution === "zipfian" ? (count) => zipfian(count, options.random) : undefined,
  );
}
