// Which nodes a fault hits (as Jepsen's combined nemesis targets): one random node, a
// minority, a majority, all of them, or the leader (from /status).

import type { ClusterView, NodeId } from "../types.js";
import { majority, shuffle } from "./shapes.js";

export type Target = "one" | "minority" | "majority" | "all" | "leader";
export const TARGETS: readonly Target[] = ["one", "minority", "majority", "all", "leader"];

/**
 * The nodes of a target. minority: the largest strict minority (at least one node); majority:
 * the smallest majority; leader: [] when no node reports one.
 */
export function selectTargets(
  target: Target,
  ids: readonly NodeId[],
  random: () => number,
  leader?: NodeId,
): NodeId[] {
  const n = ids.length;
  switch (target) {
    case "one":
      return n === 0 ? [] : [ids[Math.floor(random() * n)] as NodeId];
    case "minority":
      return shuffle(ids, random).slice(0, Math.max(1, Math.ceil(n / 2) - 1));
    case "majority":
      return shuffle(ids, random).slice(0, majority(n));
    case "all":
      return [...ids];
    case "leader":
      return leader !== undefined && ids.includes(leader) ? [leader] : [];
  }
}

/** A target, or "random": one of `choices` picked with the cluster's randomness. */
export type TargetChoice = Target | "random";

/**
 * Resolves a choice against a live cluster (asks for the leader only when it is needed). A
 * leader target when no node names one (an election, or a system that has no leader, such as
 * a Maelstrom program) falls back to one node, and says so: a fault that hits nothing is no fault.
 */
export async function pickTargets(
  choice: TargetChoice,
  cluster: ClusterView,
  choices: readonly Target[] = TARGETS,
): Promise<{ target: Target; nodes: NodeId[]; leader?: NodeId | null; fallback?: "one" }> {
  const target =
    choice === "random"
      ? (choices[Math.floor(cluster.random() * choices.length)] as Target)
      : choice;
  const ids = cluster.nodes.map((n) => n.spec.id);
  if (target !== "leader") return { target, nodes: selectTargets(target, ids, cluster.random) };
  const leader = await cluster.leader();
  const nodes = selectTargets(target, ids, cluster.random, leader);
  if (nodes.length === 0 && ids.length > 0) {
    return {
      target,
      nodes: selectTargets("one", ids, cluster.random),
      leader: null,
      fallback: "one",
    };
  }
  return { target, nodes, leader: leader ?? null };
}
