// pause: freeze the targets (SIGSTOP, docker pause); stop thaws them. Verified: the processes
// are stopped (state T), then running again.

import type { Nemesis, Pauser } from "../types.js";
import { nodeFaultNemesis, type TargetOptions } from "./node-fault.js";
import { Verifier } from "./verify.js";

export function pauseNemesis(
  pauser: Pauser,
  options: TargetOptions = {},
  verify: Verifier = new Verifier(undefined),
): Nemesis {
  return nodeFaultNemesis(
    "pause",
    options,
    async (nodes) => {
      await Promise.all(nodes.map((id) => pauser.pause(id)));
      const checked = await verify.state(
        nodes,
        "stopped",
        (id, seen) => `pause ${id}: the process is not stopped (${seen})`,
      );
      return { paused: nodes, ...checked };
    },
    async (nodes) => {
      await Promise.all(nodes.map((id) => pauser.resume(id)));
      const checked = await verify.state(
        nodes,
        "running",
        (id, seen) => `resume of ${id}: the process is still ${seen}`,
      );
      return { resumed: nodes, ...checked };
    },
  );
}
