// A JSON value, as recorded in a history and carried by operations. `null` in a read means
// "absent". Shared by the checker, the workloads, the harness and the generator.

export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

/** The checker's models a workload can be checked with. */
export type ModelName = "cas-register" | "kv" | "set";
