// The set workload: adds of unique elements (0, 1, 2, ... across the workers), then a final read of the whole set
// from every node. An acknowledged add missing from a final read is lost; an element read but
// never added is a phantom. Checked with the set model (per element, as Jepsen's set-full).
//
// The http-kv protocol has no listing, so the set is ONE key holding an array: the client does
// an add as a cas loop (read, cas [old, old + e]) and a read-all as a read of that key. The key
// is created (an empty array) by `setup` before the workers start.

import type { Workload, WorkloadOptions } from "../contracts/workload.js";

export const SET_KEY = "set";

export function setWorkload(worker: WorkloadOptions["worker"] = { index: 0, count: 1 }): Workload {
  // Unique across the workers' copies: worker w adds w, w + count, w + 2 count, ...
  let nextElement = worker.index;
  return {
    name: "set",
    model: "set",
    next: () => {
      const value = nextElement;
      nextElement += worker.count;
      return { f: "add", key: SET_KEY, value };
    },
    final: () => [{ f: "read-all", key: SET_KEY }],
    setup: () => [{ f: "write", key: SET_KEY, value: [] }],
  };
}
