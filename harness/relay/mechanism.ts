// Which mechanism delays traffic between local nodes on this machine: the kernel's netem
// where it has sch_netem and the netem path is built, else our relay (any kernel).
// The netem path is not built yet (it could not be tested on a kernel without sch_netem), so
// today the answer is always the relay; the reason says whether netem would be there.

import { netemUnavailable } from "../runtime/iptables.js";

export type DelayMechanism = "netem" | "relay";

/** Whether delay through netem qdiscs is implemented (false: see the note above). */
export const NETEM_DELAY_BUILT = false;

export interface DelayMechanismAnswer {
  mechanism: DelayMechanism;
  /** Why this one, for doctor: "this kernel has no sch_netem". */
  why: string;
}

export async function delayMechanism(): Promise<DelayMechanismAnswer> {
  const netemMissing = await netemUnavailable();
  if (netemMissing !== undefined) {
    return { mechanism: "relay", why: "this kernel has no sch_netem" };
  }
  if (NETEM_DELAY_BUILT) return { mechanism: "netem", why: "this kernel has sch_netem" };
  return {
    mechanism: "relay",
    why: "this kernel has sch_netem, but delay through it is not built",
  };
}
