#!/usr/bin/env node
// `npm start [-- flags]`: the set-up a test needs on this machine (scripts/setup.mjs), then
// `paxos-harness test` with the flags, in this same process (no second Node start-up).
// What the set-up could not install (not root) is left out of the default faults by the CLI,
// which names it.

import { setupOrExit } from "./setup.mjs";

const args = process.argv.slice(2);
// Asking for the flags installs nothing.
const help = args.some((a) => a === "--help" || a === "-h");
if (!help) await setupOrExit("start", args);
// The CLI reads its arguments from process.argv, as when run as bin/paxos-harness.cjs.
process.argv = [
  process.argv[0],
  new URL("../bin/paxos-harness.cjs", import.meta.url).pathname,
  "test",
  ...args,
];
await import("../bin/paxos-harness.cjs");
