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

/**
 * `target: same` in a schedule: the nodes the fault before it hit. The composed nemesis puts
 * them in the parameters (`{target: "same", nodes: [...]}`) before the start.
 */
export const SAME = "same";

function sameNodes(params: Value | undefined): NodeId[] | undefined {
  if (params === null || typeof params !== "object" || Array.isArray(params)) return undefined;
  if (params.target !== SAME || !Array.isArray(params.nodes)) return undefined;
  return params.nodes.filter((n): n is string => typeof n === "string");
}

export function nodeFaultNemesis(
  kind: NemesisKind,
  options: TargetOptions,
  begin: (nodes: NodeId[], cluster: ClusterView, params: Value | undefined) => Promise<Description>,
  end: (nodes: NodeId[], cluster: ClusterView, params: Value | undefined) => Promise<Description>,
): Nemesis {
  let active: { nodes: NodeId[]; params: Value | undefined } | undefined;
  let last: NodeId[] = [];
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
      const given = sameNodes(params);
      const asked = given ? undefined : choiceParam(params, "target", TARGETS, `${kind} target`);
      const picked = given
        ? { target: SAME, nodes: given }
        : await pickTargets(asked ?? options.target ?? "random", cluster, choices);
      last = picked.nodes;
      // Remembered before the fault begins: a fault that fails half-way is still healed.
      active = { nodes: picked.nodes, params };
      const described: Description = { target: picked.target };
      if ("leader" in picked && picked.leader !== undefined) described.leader = picked.leader;
      if ("fallback" in picked && picked.fallback !== undefined)
        described.fallback = picked.fallback;
      return { ...described, ...(await begin(picked.nodes, cluster, params)) };
    },
    lastTargets: () => [...last],
    async stop(cluster) {
      if (active === undefined) return { healed: [] };
      const value = await end(active.nodes, cluster, active.params);
      active = undefined;
      return value;
    },
  };
  return nemesis;
}
