// power: a power failure of the targets. Each node's process is SIGKILLed and what it wrote
// but did not fsync is lost (its data folder is a lazyfs mount, runtime/lazy-data.ts); stop
// restarts it from what is durable. Verified: the processes are gone, then running again; the
// value says how much each lost (0 bytes is a power cut at a moment with nothing unsynced).

import type { Value } from "../../checker/history.js";
import type { Killer, Nemesis } from "../types.js";
import { restartVerified } from "./kill.js";
import { nodeFaultNemesis, type TargetOptions } from "./node-fault.js";
import { Verifier } from "./verify.js";

export function powerNemesis(
  killer: Killer,
  options: TargetOptions = {},
  verify: Verifier = new Verifier(undefined),
): Nemesis {
  const powerOff = killer.powerOff?.bind(killer);
  if (powerOff === undefined) throw new Error("nemesis power: this runtime cannot cut power");
  return nodeFaultNemesis(
    "power",
    options,
    async (nodes) => {
      const lost: { [id: string]: Value } = {};
      await Promise.all(
        nodes.map(async (id) => {
          const { files, bytes } = await powerOff(id);
          lost[id] = { files, bytes };
        }),
      );
      const checked = await verify.state(
        nodes,
        "gone",
        (id, seen) => `power ${id}: the process is still ${seen} after SIGKILL`,
      );
      return { powered_off: nodes, lost, ...checked };
    },
    (nodes) => restartVerified(killer, verify, nodes),
  );
}
