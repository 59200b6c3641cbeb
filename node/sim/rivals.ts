// Rival leaders in one round, the fault that made ballot-round-only visible in the harness: the
// network slows down (every message a few ticks later, so that the followers' election timeouts
// run out together and they campaign in one round), then the leader is cut off from everyone and
// the others are put in a majorities ring: each sees a majority of the cluster with itself, and
// two rivals across the ring hear of each other only through the acceptors they share (the
// harness's `ring-without-leader` partition, harness/nemesis/shapes.ts). Healed after a while.
//
// Like the clock faults, every choice comes from a generator of its own, drawn for 5 nodes and
// more only, so that 3-node runs are the same as without it.

import type { NodeId } from "../core/types.js";
import type { Cluster } from "./cluster.js";
import { TICK } from "./cluster.js";
import type { EventQueue } from "./events.js";
import { Prng } from "./prng.js";

export class RivalFaults {
  private readonly rng: Prng;

  constructor(
    seed: number,
    private readonly events: EventQueue,
    private readonly cluster: Cluster,
  ) {
    this.rng = new Prng((seed ^ 0x2c1b3c6d) >>> 0);
  }

  /** Whether this run has them: 5 nodes or more, and then with this probability. */
  drawOn(probability: number): boolean {
    return this.cluster.nodes.length >= 5 && this.rng.chance(probability);
  }

  /** Every so often until `until`: slow links, then the leader out and the rest in a ring. */
  start(until: number): void {
    const next = () => {
      if (this.events.now >= until) return;
      const slowBy = this.rng.int(2, 6) * TICK;
      this.cluster.slowBy = slowBy;
      this.events.after(this.rng.int(5, 20) * TICK, () => {
        if (this.events.now >= until) {
          this.cluster.slowBy = 0;
          return;
        }
        this.cluster.cut(this.ringWithoutLeader());
        this.events.after(this.rng.int(20, 60) * TICK, () => {
          this.cluster.heal();
          this.cluster.slowBy = 0;
        });
      });
      this.events.after(this.rng.int(150, 300) * TICK, next);
    };
    this.events.after(this.rng.int(50, 150) * TICK, next);
  }

  /** The links to cut: every one of the leader's, and those across the ring of the others. */
  private ringWithoutLeader(): [NodeId, NodeId][] {
    const ids = this.cluster.nodes.map((n) => n.id);
    const loner = this.cluster.leader()?.id ?? this.rng.pick(ids);
    const ring = ids.filter((id) => id !== loner);
    for (let i = ring.length - 1; i > 0; i--) {
      const j = this.rng.int(0, i);
      [ring[i], ring[j]] = [ring[j] as NodeId, ring[i] as NodeId];
    }
    const m = ring.length;
    const majority = Math.floor(ids.length / 2) + 1;
    // Each ring node sees itself and its neighbours within d steps: 2d + 1 >= the majority.
    const d = Math.ceil((majority - 1) / 2);
    const links: [NodeId, NodeId][] = ring.map((id) => [loner, id]);
    for (let i = 0; i < m; i++) {
      for (let j = i + 1; j < m; j++) {
        const gap = j - i;
        if (Math.min(gap, m - gap) > d) links.push([ring[i] as NodeId, ring[j] as NodeId]);
      }
    }
    return links;
  }
}
