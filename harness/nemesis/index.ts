// Nemeses by kind, made for a runtime: each asks the runtime for the capability it needs, and
// refuses up front, naming itself and the reason, where the runtime cannot.

import type { Nemesis, NemesisKind, Runtime } from "../types.js";
import { type ClockOptions, clockNemesis, clockRefusal } from "./clock.js";
import { type DelayOptions, delayNemesis } from "./delay.js";
import { killNemesis } from "./kill.js";
import { type LossOptions, lossNemesis } from "./loss.js";
import type { TargetOptions } from "./node-fault.js";
import { type PartitionOptions, partitionNemesis } from "./partition.js";
import { pauseNemesis } from "./pause.js";
import { powerNemesis } from "./power.js";
import { resetNemesis } from "./reset.js";
import { Verifier } from "./verify.js";

export { nodeProgramOf } from "./clock.js";
export { PARTITION_SHAPES, type PartitionShape, partitionOf } from "./shapes.js";
export { selectTargets, TARGETS, type Target } from "./targets.js";
export { FaultNotTaken } from "./verify.js";

export interface NemesisOptions {
  partition?: PartitionOptions;
  kill?: TargetOptions;
  pause?: TargetOptions;
  clock?: ClockOptions;
  loss?: LossOptions;
  delay?: DelayOptions;
  power?: TargetOptions;
  reset?: TargetOptions;
  /**
   * The executable every node runs (nodeProgramOf): the clock nemesis refuses one libfaketime
   * cannot reach (statically linked, Go). Absent: not checked.
   */
  nodeProgram?: string;
  /** Kinds the backend cannot be put under, with why (Protocol.unsupportedFaults). */
  backendRefuses?: Partial<Record<NemesisKind, string>>;
}

/** The nemeses of these kinds; throws "nemesis <kind>: <why>" if the runtime cannot do one. */
export async function makeNemeses(
  kinds: readonly NemesisKind[],
  runtime: Runtime,
  options: NemesisOptions = {},
): Promise<Nemesis[]> {
  const caps = await runtime.capabilities();
  return kinds.map((kind) => {
    const why = whyNot(kind, caps, options.nodeProgram, options.backendRefuses);
    if (why !== undefined) throw new Error(`nemesis ${kind}: ${why}`);
    return make(kind, runtime, options);
  });
}

function whyNot(
  kind: NemesisKind,
  caps: Awaited<ReturnType<Runtime["capabilities"]>>,
  nodeProgram: string | undefined,
  backendRefuses: Partial<Record<NemesisKind, string>> = {},
): string | undefined {
  // The backend's refusal first: it holds on any machine.
  const refused = backendRefuses[kind];
  if (refused !== undefined) return refused;
  const cap = caps[kind];
  if (!cap.ok) return cap.why;
  return kind === "clock" ? clockRefusal(nodeProgram) : undefined;
}

/**
 * Of these kinds, those the runtime can do on this machine, and those it cannot with why, in
 * the order given: what `--nemesis all` runs, and what it leaves out.
 */
export async function supportedKinds(
  kinds: readonly NemesisKind[],
  runtime: Runtime,
  nodeProgram?: string,
  backendRefuses?: Partial<Record<NemesisKind, string>>,
): Promise<{ supported: NemesisKind[]; leftOut: { kind: NemesisKind; why: string }[] }> {
  const caps = await runtime.capabilities();
  const supported: NemesisKind[] = [];
  const leftOut: { kind: NemesisKind; why: string }[] = [];
  for (const kind of kinds) {
    const why = whyNot(kind, caps, nodeProgram, backendRefuses);
    if (why === undefined) supported.push(kind);
    else leftOut.push({ kind, why });
  }
  return { supported, leftOut };
}

function make(kind: NemesisKind, runtime: Runtime, options: NemesisOptions): Nemesis {
  const { network, killer, pauser, clock } = runtime;
  const verify = new Verifier(runtime.probe, `the ${runtime.name} runtime has no fault probe yet`);
  if (network && kind === "partition") return partitionNemesis(network, options.partition, verify);
  if (network && kind === "loss") return lossNemesis(network, options.loss, verify);
  if (network && kind === "delay") return delayNemesis(network, options.delay);
  if (network && kind === "reset") return resetNemesis(network, options.reset);
  if (killer && kind === "kill") return killNemesis(killer, options.kill, verify);
  if (pauser && kind === "pause") return pauseNemesis(pauser, options.pause, verify);
  if (clock && kind === "clock") return clockNemesis(clock, options.clock, verify);
  if (killer?.powerOff && kind === "power") return powerNemesis(killer, options.power, verify);
  throw new Error(`nemesis ${kind}: the ${runtime.name} runtime has no way to do it`);
}
