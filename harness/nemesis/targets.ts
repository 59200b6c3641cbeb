// Which nodes a fault hits (as Jepsen's combined nemesis targets): one random node, a
// minority, a majority, all of them, the leader (from /status), or a follower: one node that
// answers and does not lead. A follower is how a schedule aims a second fault at a bystander
// while a first one holds the leader (a paused or killed node does not answer, so it is never
// the follower), which is what a deposed leader meeting a restarted acceptor takes.

import { LIVE_ANSWER_MS } from "../limits.js";
import type { ClusterView, NodeId } from "../types.js";
import { majority, shuffle } from "./shapes.js";

export type Target = "one" | "minority" | "majority" | "all" | "leader" | "follower";
export const TARGETS: readonly Target[] = [
  "one",
  "minority",
  "majority",
  "all",
  "leader",
  "follower",
];
/**
 * What "random" picks from by default: follower is asked for by name only (it is a one-node
 * fault like one, and adding it would change the draws of every seeded run recorded so far).
 */
export const RANDOM_TARGETS: readonly Target[] = ["one", "minority", "majority", "all", "leader"];

/**
 * The nodes of a target. minority: the largest strict minority (at least one node); majority:
 * the smallest majority; leader: [] when no node reports one; follower: one of `answering`
 * (default: every node) other than the leader, [] when there is none.
 */
export function selectTargets(
  target: Target,
  ids: readonly NodeId[],
  random: () => number,
  leader?: NodeId,
  answering: readonly NodeId[] = ids,
): NodeId[] {
  const n = ids.length;
  switch (target) {
    case "follower": {
      const followers = ids.filter((id) => id !== leader && answering.includes(id));
      return followers.length === 0
        ? []
        : [followers[Math.floor(random() * followers.length)] as NodeId];
    }
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
 * Resolves a choice against a live cluster (asks for the leader, and who answers, only when it
 * is needed). A leader target when no node names one (an election, or a system that has no
 * leader, such as a Maelstrom program), or a follower target when no other node answers, falls
 * back to one node, and says so: a fault that hits nothing is no fault.
 */
export async function pickTargets(
  choice: TargetChoice,
  cluster: ClusterView,
  choices: readonly Target[] = RANDOM_TARGETS,
): Promise<{ target: Target; nodes: NodeId[]; leader?: NodeId | null; fallback?: "one" }> {
  const target =
    choice === "random"
      ? (choices[Math.floor(cluster.random() * choices.length)] as Target)
      : choice;
  const ids = cluster.nodes.map((n) => n.spec.id);
  if (target !== "leader" && target !== "follower") {
    return { target, nodes: selectTargets(target, ids, cluster.random) };
  }
  // A follower is asked for while another fault may hold the leader: a paused node must not
  // keep the look waiting its full timeout, or the fault comes a second late.
  const follower = target === "follower";
  const [leader, answering] = await Promise.all([
    cluster.leader(follower ? LIVE_ANSWER_MS : undefined),
    follower ? cluster.answering() : ids,
  ]);
  const nodes = selectTargets(target, ids, cluster.random, leader, answering);
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
