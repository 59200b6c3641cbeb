// The workloads by name.

import type { Workload, WorkloadOptions } from "../contracts/workload.js";
import { kvWorkload } from "./kv.js";
import { registerWorkload } from "./register.js";
import { setWorkload } from "./set.js";

export type WorkloadName = Workload["name"];
export const WORKLOAD_NAMES = ["register", "kv", "set"] as const satisfies readonly WorkloadName[];

export function makeWorkload(name: WorkloadName, options: WorkloadOptions): Workload {
  switch (name) {
    case "register":
      return registerWorkload(options);
    case "kv":
      return kvWorkload(options);
    case "set":
      return setWorkload(options.worker);
  }
}
