// pause: freeze the targets (SIGSTOP, docker pause); stop thaws them.

import type { Nemesis, Pauser } from "../types.js";
import { nodeFaultNemesis, type TargetOptions } from "./node-fault.js";

export function pauseNemesis(pauser: Pauser, options: TargetOptions = {}): Nemesis {
  return nodeFaultNemesis(
    "pause",
    options,
    async (nodes) => {
      await Promise.all(nodes.map((id) => pauser.pause(id)));
      return { paused: nodes };
    },
    async (nodes) => {
      await Promise.all(nodes.map((id) => pauser.resume(id)));
      return { resumed: nodes };
    },
  );
}
