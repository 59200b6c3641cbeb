// Partition shapes, as pure functions of the node ids and a random source (after Jepsen's
// nemesis.clj: bisect, split-one, bridge, majorities-ring). A shape is either groups (nodes in
// different groups cannot talk) or, where groups cannot say it, the exact links to cut.

import type { NodeId } from "../types.js";

export type PartitionShape =
  | "random-halves"
  | "isolate-one"
  | "majority-minority"
  | "bridge"
  | "majorities-ring"
  | "ring-without-leader";

/** The shapes a random partition picks from (kept as they were, so seeded runs draw the same). */
export const PARTITION_SHAPES: readonly PartitionShape[] = [
  "random-halves",
  "isolate-one",
  "majority-minority",
  "bridge",
  "majorities-ring",
];

/** Every shape: a schedule may name any of them. */
export const SHAPES: readonly PartitionShape[] = [...PARTITION_SHAPES, "ring-without-leader"];

export type Link = [NodeId, NodeId];

export interface Partition {
  shape: PartitionShape;
  /** Components; every link between two of them is cut. */
  groups?: NodeId[][];
  /** bridge: the node that still talks to both sides. */
  bridge?: NodeId;
  /** majorities-ring: the ring order; each node sees its neighbours within a majority. */
  ring?: NodeId[];
  /** ring-without-leader: the node cut off from all (the leader, when one was known). */
  loner?: NodeId;
  /** The links cut (both ways), always: a < b by position in `ids`, sorted. */
  links: Link[];
}

/** The smallest majority of n: floor(n/2) + 1. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Fisher-Yates with the given source; does not change `items`. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Every link between nodes of different groups. */
export function linksBetween(
  ids: readonly NodeId[],
  groups: readonly (readonly NodeId[])[],
): Link[] {
  const groupOf = new Map<NodeId, number>();
  groups.forEach((g, i) => {
    for (const id of g) groupOf.set(id, i);
  });
  return pairs(ids).filter(([a, b]) => {
    const ga = groupOf.get(a);
    const gb = groupOf.get(b);
    return ga !== undefined && gb !== undefined && ga !== gb;
  });
}

/** Shuffled, then cut in two, smaller half first (Jepsen's bisect of a shuffle). */
export function randomHalves(ids: readonly NodeId[], random: () => number): Partition {
  const s = shuffle(ids, random);
  const k = Math.floor(s.length / 2);
  const groups = [s.slice(0, k), s.slice(k)];
  return { shape: "random-halves", groups, links: linksBetween(ids, groups) };
}

/** One random node alone (Jepsen's split-one). */
export function isolateOne(ids: readonly NodeId[], random: () => number): Partition {
  const loner = ids[Math.floor(random() * ids.length)] as NodeId;
  const groups = [[loner], ids.filter((id) => id !== loner)];
  return { shape: "isolate-one", groups, links: linksBetween(ids, groups) };
}

/**
 * The largest minority against a majority, with the leader (when known) in the minority, so
 * the majority has to elect a new one.
 */
export function majorityMinority(
  ids: readonly NodeId[],
  random: () => number,
  leader?: NodeId,
): Partition {
  const size = Math.max(1, Math.ceil(ids.length / 2) - 1);
  const others = shuffle(
    ids.filter((id) => id !== leader),
    random,
  );
  const start = leader !== undefined && ids.includes(leader) ? [leader] : [];
  const minority = [...start, ...others].slice(0, size);
  const groups = [minority, ids.filter((id) => !minority.includes(id))];
  return { shape: "majority-minority", groups, links: linksBetween(ids, groups) };
}

/**
 * Two halves that cannot talk, but one node (the first of the larger half) talks to both
 * (Jepsen's bridge of a shuffle): 5 nodes → [a b] x [d e], c bridging.
 */
export function bridge(ids: readonly NodeId[], random: () => number): Partition {
  const s = shuffle(ids, random);
  const k = Math.floor(s.length / 2);
  const left = s.slice(0, k);
  const middle = s[k] as NodeId;
  const right = s.slice(k + 1);
  const groups = [left, right];
  return { shape: "bridge", groups, bridge: middle, links: linksBetween(ids, groups) };
}

/**
 * Every node sees a majority, and no two see the same one (Jepsen's majorities-ring): the
 * nodes in a random ring, each connected to the nodes within d steps, 2d + 1 >= majority.
 * 5 nodes: each sees itself and its two neighbours; the 5 links of the pentagram are cut.
 * Links are cut both ways (a one-way cut kills TCP both ways anyway), which is why each node
 * keeps a symmetric neighbourhood, as in Jepsen's "perfect" variant. 3 nodes: nothing to cut.
 */
export function majoritiesRing(ids: readonly NodeId[], random: () => number): Partition {
  const ring = shuffle(ids, random);
  const links = pairs(ids).filter(outOfSight(ring, ids.length));
  return { shape: "majorities-ring", ring, links };
}

/**
 * For two nodes of `ring`: whether they are out of each other's sight, more than d steps apart
 * either way round, where each node sees itself and its neighbours within d steps and 2d + 1 is
 * at least the majority of a cluster of `clusterSize`.
 */
function outOfSight(ring: readonly NodeId[], clusterSize: number): (link: Link) => boolean {
  const d = Math.ceil((majority(clusterSize) - 1) / 2);
  const position = new Map(ring.map((id, i) => [id, i]));
  return ([a, b]) => {
    const gap = Math.abs((position.get(a) as number) - (position.get(b) as number));
    return Math.min(gap, ring.length - gap) > d;
  };
}

/**
 * The leader cut off from every node, and the others in a majorities ring: each sees a majority
 * of the whole cluster (itself included) and no two see the same one. With the leader gone any
 * of the others may be elected, and two rivals that do not see each other share acceptors: the
 * only news one has of the other comes through those acceptors, so each can have values chosen
 * before it learns of its rival (a correct acceptor's promise is what stops it). 5 nodes: the
 * leader alone and the other four in a square with its diagonals cut. 3 nodes: the leader
 * alone (the two others see each other). With no leader known, a random node is the one cut off.
 */
export function ringWithoutLeader(
  ids: readonly NodeId[],
  random: () => number,
  leader?: NodeId,
): Partition {
  const loner =
    leader !== undefined && ids.includes(leader)
      ? leader
      : (ids[Math.floor(random() * ids.length)] as NodeId);
  const ring = shuffle(
    ids.filter((id) => id !== loner),
    random,
  );
  const apart = outOfSight(ring, ids.length);
  const links = pairs(ids).filter((link) => link.includes(loner) || apart(link));
  return { shape: "ring-without-leader", ring, loner, links };
}

/** The partition of a shape. */
export function partitionOf(
  shape: PartitionShape,
  ids: readonly NodeId[],
  random: () => number,
  leader?: NodeId,
): Partition {
  switch (shape) {
    case "random-halves":
      return randomHalves(ids, random);
    case "isolate-one":
      return isolateOne(ids, random);
    case "majority-minority":
      return majorityMinority(ids, random, leader);
    case "bridge":
      return bridge(ids, random);
    case "majorities-ring":
      return majoritiesRing(ids, random);
    case "ring-without-leader":
      return ringWithoutLeader(ids, random, leader);
  }
}

/** The nodes a node can still reach (itself included) under these cut links. */
export function reachable(id: NodeId, ids: readonly NodeId[], links: readonly Link[]): NodeId[] {
  return ids.filter(
    (other) => !links.some(([a, b]) => (a === id && b === other) || (b === id && a === other)),
  );
}

function pairs(ids: readonly NodeId[]): Link[] {
  const out: Link[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) out.push([ids[i] as NodeId, ids[j] as NodeId]);
  }
  return out;
}
