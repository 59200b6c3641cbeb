// partition: cut the network into a shape (shapes.ts); stop heals the partition it made (and
// nothing else: a loss fault in force stays). Both are verified (verify.ts): the cut links are
// silent and the kept ones connect; after the heal every link connects.

import type { Nemesis, NetworkFaults, NodeId } from "../types.js";
import { choiceParam } from "./params.js";
import { PARTITION_SHAPES, type PartitionShape, partitionOf, SHAPES } from "./shapes.js";
import { partitionName, Verifier } from "./verify.js";

export interface PartitionOptions {
  /** A shape, or "random" (default): one of `shapes` per fault. */
  shape?: PartitionShape | "random";
  /** The shapes "random" picks from. Default: every shape the network can make. */
  shapes?: readonly PartitionShape[];
}

/** Shapes that need exact links cut rather than groups. */
const NEEDS_CUT: readonly PartitionShape[] = ["bridge", "majorities-ring", "ring-without-leader"];
/** Shapes that put the leader somewhere in particular: it is looked up first. */
const NEEDS_LEADER: readonly PartitionShape[] = ["majority-minority", "ring-without-leader"];

export function partitionNemesis(
  network: NetworkFaults,
  options: PartitionOptions = {},
  verify: Verifier = new Verifier(undefined),
): Nemesis {
  const canCut = network.cut !== undefined;
  const wanted =
    options.shape === undefined || options.shape === "random" ? undefined : options.shape;
  if (wanted && NEEDS_CUT.includes(wanted) && !canCut) {
    throw new Error(`partition shape ${wanted} needs a network that cuts single links`);
  }
  const makeable = SHAPES.filter((s) => canCut || !NEEDS_CUT.includes(s));
  const shapes = (options.shapes ?? PARTITION_SHAPES).filter((s) => makeable.includes(s));
  /** The partition in force, by name (for the heal's messages). */
  let active: string | undefined;

  const heal = async (ids: NodeId[]) => {
    if (network.cut) await network.cut([]);
    else await network.partition([ids]);
  };

  // A ring of 3 cuts nothing: not worth a turn.
  const worthIt = (nodes: number) => (s: PartitionShape) => s !== "majorities-ring" || nodes >= 4;
  /** The shapes a random fault picks from. */
  const usable = (nodes: number) => shapes.filter(worthIt(nodes));

  return {
    kind: "partition",
    plan(stream, nodes) {
      if (wanted) return [{ shape: wanted }, stream];
      const choices = usable(nodes);
      const [i, after] = stream.int(choices.length);
      return [{ shape: choices[i] as PartitionShape }, after];
    },
    async start(cluster, params) {
      const ids = cluster.nodes.map((n) => n.spec.id);
      const choices = usable(ids.length);
      const asked = choiceParam(
        params,
        "shape",
        makeable.filter(worthIt(ids.length)),
        "partition shape",
      );
      const shape =
        asked ??
        wanted ??
        (choices[Math.floor(cluster.random() * choices.length)] as PartitionShape);
      const leader = NEEDS_LEADER.includes(shape) ? await cluster.leader() : undefined;
      const p = partitionOf(shape, ids, cluster.random, leader);
      active = partitionName(p);
      if (network.cut) await network.cut(p.links);
      else await network.partition(p.groups ?? [ids]);
      return {
        shape,
        ...(p.groups ? { groups: p.groups } : {}),
        ...(p.bridge ? { bridge: p.bridge } : {}),
        ...(p.ring ? { ring: p.ring } : {}),
        ...(p.loner ? { loner: p.loner } : {}),
        ...(NEEDS_LEADER.includes(shape) ? { leader: leader ?? null } : {}),
        cut: p.links,
        ...(await verify.cut(ids, p.links, active)),
      };
    },
    async stop(cluster) {
      if (active === undefined) return { healed: false };
      const ids = cluster.nodes.map((n) => n.spec.id);
      await heal(ids);
      const name = active;
      active = undefined;
      return { healed: true, ...(await verify.healed(ids, name)) };
    },
  };
}
