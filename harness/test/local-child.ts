// A harness-like child process for the leftovers tests: starts a local runtime (state files in
// the folder given), partitions it and pauses n2, prints the node and probe-agent PIDs and its
// fabric on one JSON line, then waits. On SIGINT it heals and stops, as the runner does on Ctrl-C.
// With "exit" as a fourth argument it exits at once instead, without stop(): the exit hook's case.

import { memoryBackend } from "../backends/index.js";
import { LocalRuntime, localNodeSpecs } from "../runtime/local.js";

const [store, subnet, stateDir, mode] = process.argv.slice(2);
const runtime = new LocalRuntime({ subnet: Number(subnet), stateDir });
const dir = `${store}/child/${process.pid}`;
const specs = await localNodeSpecs(3, dir, { subnet: Number(subnet) });
await runtime.start(specs, memoryBackend(), {
  dir,
  log: () => {},
  signal: new AbortController().signal,
});
await runtime.network.partition([["n1"], ["n2", "n3"]]);
await runtime.pauser.pause("n2");
process.on("SIGINT", () => {
  void runtime.stop().then(() => process.exit(130));
});
process.stdout.write(
  `${JSON.stringify({
    pids: [...runtime.pids().values(), ...runtime.agentPids().values()],
    fabric: runtime.fabric,
  })}\n`,
);
if (mode === "exit") process.exit(0);
setInterval(() => {}, 1 << 30);
