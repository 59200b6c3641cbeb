// clock: shift the targets' wall clocks, each by its own random offset within ±maxSkewMs
// (monotonic clocks stay true); stop sets them back. An operation may fix the direction
// (`skew: forward` or `back`): a clock skewed forward jumps back when the fault stops, which is
// what stretches a lease read off the wall clock. Verified: libfaketime is loaded in each
// target's process. A node program libfaketime cannot reach (statically linked, Go) is
// refused when the nemesis is made (clockRefusal), before any node starts.

import { faketimeUnreachable, resolveProgram } from "../runtime/elf.js";
import type { Backend, ClockFaults, Nemesis, NodeSpec } from "../types.js";
import { nodeFaultNemesis, type TargetOptions } from "./node-fault.js";
import { choiceParam } from "./params.js";
import { Verifier } from "./verify.js";

/** Which way a clock fault shifts the clocks (an operation's `skew`; default: either, at random). */
export const SKEWS = ["forward", "back"] as const;
export type Skew = (typeof SKEWS)[number];

export interface ClockOptions extends TargetOptions {
  /** The largest offset either way. Default 60 s. */
  maxSkewMs?: number;
}

export function clockNemesis(
  clock: ClockFaults,
  options: ClockOptions = {},
  verify: Verifier = new Verifier(undefined),
): Nemesis {
  const max = options.maxSkewMs ?? 60_000;
  return nodeFaultNemesis(
    "clock",
    options,
    async (nodes, cluster, params) => {
      const direction = choiceParam(params, "skew", SKEWS, "clock skew");
      const skewed: { [id: string]: number } = {};
      for (const id of nodes) {
        // At least a tenth of the maximum: a skew too small to matter is no test.
        const size = Math.round(max * (0.1 + 0.9 * cluster.random()));
        const back = direction === undefined ? cluster.random() < 0.5 : direction === "back";
        skewed[id] = back ? -size : size;
      }
      for (const id of nodes) await clock.skew(id, skewed[id] as number);
      return { skew_ms: skewed, ...(await verify.faketime(nodes, `clock ${nodes.join(",")}`)) };
    },
    async (nodes) => {
      for (const id of nodes) await clock.skew(id, 0);
      return { reset: nodes };
    },
  );
}

/**
 * Why the clock nemesis cannot skew this node program, or undefined when it can (or when the
 * program is not a file on this machine, e.g. one that lives only in an image: the start will
 * say what is wrong with it, and the probe whether libfaketime got in).
 */
export function clockRefusal(program: string | undefined): string | undefined {
  if (program === undefined || resolveProgram(program) === undefined) return undefined;
  return faketimeUnreachable(program);
}

/** The executable a backend's node runs as, on this runtime (for clockRefusal). */
export function nodeProgramOf(backend: Backend, runtime: "local" | "docker"): string | undefined {
  const spec: NodeSpec = {
    id: "n1",
    host: "10.0.0.1",
    httpPort: 8000,
    peerPort: 7000,
    dataDir: "/data",
  };
  try {
    const command =
      runtime === "docker"
        ? backend.containerCommand?.(spec, [spec])
        : backend.localCommand(spec, [spec]);
    return command?.command;
  } catch {
    return undefined;
  }
}
