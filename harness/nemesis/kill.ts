// kill: SIGKILL (or docker kill) the targets; stop restarts them from their data.

import type { Killer, Nemesis } from "../types.js";
import { nodeFaultNemesis, type TargetOptions } from "./node-fault.js";

export function killNemesis(killer: Killer, options: TargetOptions = {}): Nemesis {
  return nodeFaultNemesis(
    "kill",
    options,
    async (nodes) => {
      await Promise.all(nodes.map((id) => killer.kill(id)));
      return { killed: nodes };
    },
    async (nodes) => {
      await Promise.all(nodes.map((id) => killer.restart(id)));
      return { restarted: nodes };
    },
  );
}
