// Wall-clock faults of the simulation: every machine's wall clock starts at its own offset from
// the simulated time, jumps now and then (either way, by up to several leases), and, the fault
// that matters for a lease, a leader's clock jumps back by several leases just when a partition
// cuts it off from a quorum (the majority elects a new leader while the old one's clock says its
// lease still holds).
//
// The correct core never reads the wall clock, so these faults change nothing in its runs; every
// choice here comes from a generator of its own (not the run's), so a seed's run of the correct
// core, or of any mutant but wall-clock-lease, is the same event for event with or without them.

import type { Cluster } from "./cluster.js";
import { TICK } from "./cluster.js";
import type { EventQueue } from "./events.js";
import { Prng } from "./prng.js";

export class ClockFaults {
  private readonly rng: Prng;

  constructor(
    seed: number,
    private readonly events: EventQueue,
    private readonly cluster: Cluster,
    /** The lease the faults are measured in (simulated time units). */
    private readonly leaseUnits: number,
  ) {
    this.rng = new Prng((seed ^ 0x5bd1e995) >>> 0);
  }

  /** Whether this run has clock faults (drawn from the faults' own generator). */
  drawOn(probability: number): boolean {
    return this.rng.chance(probability);
  }

  /** Offsets at start, then random jumps until `until`. */
  start(until: number): void {
    for (const n of this.cluster.nodes) {
      this.cluster.jumpClock(n.id, this.rng.int(-20, 20) * this.leaseUnits);
    }
    const next = () => {
      if (this.events.now >= until) return;
      const n = this.rng.pick(this.cluster.nodes);
      const leases = this.rng.int(1, 10);
      this.cluster.jumpClock(n.id, (this.rng.chance(0.5) ? -1 : 1) * leases * this.leaseUnits);
      this.events.after(this.rng.int(20, 100) * TICK, next);
    };
    this.events.after(this.rng.int(20, 100) * TICK, next);
  }

  /** A partition just began: a leader it cut off from a quorum may see its clock jump back. */
  partitioned(): void {
    const leader = this.cluster.leader();
    if (!leader || !this.cluster.cutOff(leader.id) || !this.rng.chance(0.8)) return;
    this.cluster.jumpClock(leader.id, -this.rng.int(3, 10) * this.leaseUnits);
    this.cluster.stats.leaderClockJumps++;
  }
}
