// The consensus core's public surface: what the shell (node/io, node/main.ts) needs.

export { compareBallots } from "./ballot.js";
export { isEmptyReady, type NodeOptions, PaxosNode } from "./node.js";
export {
  compactWrites,
  emptyDurableState,
  recoverDurableState,
  segmentCarry,
} from "./storage.js";
export type * from "./types.js";
export { defaultTiming } from "./types.js";
export { isPeerMessage } from "./validate.js";
