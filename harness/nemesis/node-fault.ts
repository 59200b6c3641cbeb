// The shape shared by nemeses that hit a set of nodes (kill, pause, clock, loss, delay): pick
// the targets at start, remember them and the start's parameters, and heal exactly those at
// stop (a heal that must know what the fault was, delay's check of its round trips, is told).

import type { Value } from "../../checker/history.js";
import type { ClusterView, Nemesis, NemesisKind, NodeId } from "../types.js";
import { choiceParam } from "./params.js";
import { pickTargets, RANDOM_TARGETS, TARGETS, type Target, type TargetChoice } from "./targets.js";

export interface TargetOptions {
  /** Which nodes: a target, or "random" (default): one of `targets` per fault. */
  target?: TargetChoice;
  /** The targets "random" picks from. Default: RANDOM_TARGETS (all but follower). */
  targets?: readonly Target[];
}

type Description = { [key: string]: Value };

export function nodeFaultNemesis(
  kind: NemesisKind,
  options: TargetOptions,
  begin: (nodes: NodeId[], cluster: ClusterView, params: Value | undefined) => Promise<Description>,
  end: (nodes: NodeId[], cluster: ClusterView, params: Value | undefined) => Promise<Description>,
): Nemesis {
  let active: { nodes: NodeId[]; params: Value | undefined } | undefined;
  const choices = options.targets ?? RANDOM_TARGETS;
  const nemesis: Nemesis = {
    kind,
    plan(stream) {
      const fixed = options.target ?? "random";
      if (fixed !== "random") return [{ target: fixed }, stream];
      const [i, after] = stream.int(choices.length);
      return [{ target: choices[i] as Target }, after];
    },
    async start(cluster, params) {
      if (active !== undefined) await nemesis.stop(cluster);
      const asked = choiceParam(params, "target", TARGETS, `${kind} target`);
      const picked = await pickTargets(asked ?? options.target ?? "random", cluster, choices);
      // Remembered before the fault begins: a fault that fails half-way is still healed.
      active = { nodes: picked.nodes, params };
      const described: Description = { target: picked.target };
      if (picked.leader !== undefined) described.leader = picked.leader;
      if (picked.fallback !== undefined) described.fallback = picked.fallback;
      return { ...described, ...(await begin(picked.nodes, cluster, params)) };
    },
    async stop(cluster) {
      if (active === undefined) return { healed: [] };
      const value = await end(active.nodes, cluster, active.params);
      active = undefined;
      return value;
    },
  };
  return nemesis;
}
