// kill: SIGKILL (or docker kill) the targets; stop restarts them from their data. Verified:
// the processes are gone, then running again.

import type { Killer, Nemesis, NodeId } from "../types.js";
import { nodeFaultNemesis, type TargetOptions } from "./node-fault.js";
import { Verifier } from "./verify.js";

export function killNemesis(
  killer: Killer,
  options: TargetOptions = {},
  verify: Verifier = new Verifier(undefined),
): Nemesis {
  return nodeFaultNemesis(
    "kill",
    options,
    async (nodes) => {
      await Promise.all(nodes.map((id) => killer.kill(id)));
      const checked = await verify.state(
        nodes,
        "gone",
        (id, seen) => `kill ${id}: the process is still ${seen} after SIGKILL`,
      );
      return { killed: nodes, ...checked };
    },
    (nodes) => restartVerified(killer, verify, nodes),
  );
}

/** Starts the nodes again from their data (kill's and power's heal), verified running. */
export async function restartVerified(killer: Killer, verify: Verifier, nodes: NodeId[]) {
  await Promise.all(nodes.map((id) => killer.restart(id)));
  const checked = await verify.state(
    nodes,
    "running",
    (id, seen) => `restart of ${id}: the process is ${seen}`,
  );
  return { restarted: nodes, ...checked };
}
