// One seeded simulation run: a cluster of real cores, faults, clients; then the checks (the
// linearizability checker on the history, plus the invariants the cluster watched).

import { checkOperations } from "../../checker/check.js";
import type { HistoryOp } from "../../checker/history.js";
import type { CheckResult } from "../../checker/model.js";
import { modelFor } from "../../checker/models/index.js";
import type { Mutant } from "../core/mutants.js";
import type { NodeConfig } from "../core/types.js";
import { type ClientStats, Clients } from "./clients.js";
import { ClockFaults } from "./clock.js";
import { Cluster, type ClusterStats, type FaultConfig, TICK } from "./cluster.js";
import { EventQueue } from "./events.js";
import { Prng } from "./prng.js";
import { RivalFaults } from "./rivals.js";

/**
 * Every acknowledged request must be in every replica that has applied past its slot: the
 * replica's session for the client holds the same result (or a later request of that client).
 */
function lostAcknowledged(cluster: Cluster, clients: Clients): string[] {
  const out: string[] = [];
  for (const { request, result } of clients.acked) {
    const key = `${request.clientId}/${request.seq}`;
    const slot = cluster.requestSlot.get(key);
    for (const n of cluster.up()) {
      const core = n.core as NonNullable<typeof n.core>;
      if (slot === undefined || core.status().appliedIndex < slot) continue;
      const there = core.appliedResult(request);
      if (there === "stale") continue;
      if (there === undefined || JSON.stringify(there) !== JSON.stringify(result)) {
        out.push(`acknowledged ${key} (slot ${slot}) is not in ${n.id}'s state`);
      }
    }
  }
  return out;
}

export interface SimOptions {
  seed: number;
  nodes: 3 | 5;
  /** Simulated time units (a node ticks every 10). */
  steps: number;
  /** Faults; by default drawn from the seed. */
  faults?: Partial<FaultConfig>;
  clients?: number;
  keys?: number;
  /** Check every frame with isPeerMessage (a violation if one fails). */
  validateFrames?: boolean;
  /** Checker timeout, seconds. */
  checkTimeout?: number;
  /** Run every core with this deliberate bug (to show the simulation catches it). */
  mutant?: Mutant;
}

export interface SimStats extends ClusterStats, ClientStats {
  /** Operations that completed ok after the faults ended (liveness once healed). */
  okAfterFaults: number;
  check: CheckResult;
  checkMs: number;
}

export interface SimResult {
  /** The faults this run drew from its seed (or was given). */
  faults: FaultConfig;
  history: HistoryOp[];
  violations: string[];
  stats: SimStats;
}

export const SIM_TIMING: Omit<NodeConfig, "id" | "peers"> = {
  electionTicks: 10,
  heartbeatTicks: 2,
  retryTicks: 4,
  unavailableTicks: 8,
  requestTimeoutTicks: 60,
  snapshotEvery: 20,
  maxBatch: 8,
  maxInflight: 4,
  maxCatchup: 32,
  // Read only by the wall-clock-lease mutant: electionTicks - 2 ticks.
  leaseMs: 8 * TICK,
};

export function runSimulation(opts: SimOptions): SimResult {
  const rng = new Prng(opts.seed);
  const events = new EventQueue();
  const faults: FaultConfig = {
    loss: rng.pick([0, 0.01, 0.05, 0.1]),
    duplicate: rng.pick([0, 0.02, 0.05]),
    reorder: rng.pick([0.02, 0.1]),
    partitions: rng.chance(0.7),
    crashes: rng.chance(0.8),
    syncDelay: rng.pick([4, 10, 40]),
    // Disks of one speed and crashes at random times never hit a ballot reused after a restart;
    // one slow disk and new leaders crashing soon after they win do.
    slowDisk: rng.pick([1, 10, 10, 20]),
    electionCrash: rng.pick([0, 0.2, 0.5]),
    ...opts.faults,
  };
  const ids = Array.from({ length: opts.nodes }, (_, i) => `n${i + 1}`);
  faults.slowNode ??= rng.pick(ids);
  const timing = opts.mutant ? { ...SIM_TIMING, mutant: opts.mutant } : SIM_TIMING;
  const cluster = new Cluster(rng, events, ids, timing, faults);
  cluster.validateFrames = opts.validateFrames ?? false;
  const faultsUntil = Math.floor(opts.steps * 0.75);
  // Drawn apart from `rng`: runs of a core that ignores the wall clock are the same without them.
  const clock = new ClockFaults(opts.seed, events, cluster, SIM_TIMING.leaseMs ?? 0);
  faults.clock ??= clock.drawOn(0.7);
  if (faults.clock) clock.start(faultsUntil);
  // Rival leaders in one round (rivals.ts), from a generator of their own too.
  const rivals = new RivalFaults(opts.seed, events, cluster);
  faults.rivals ??= rivals.drawOn(0.5);
  if (faults.rivals) rivals.start(faultsUntil);
  const clients = new Clients(rng, events, cluster, {
    clients: opts.clients ?? 5,
    keys: opts.keys ?? 3,
    timeout: 40 * TICK,
    until: Math.floor(opts.steps * 0.85),
  });

  cluster.failedRequests = clients.failed;
  events.at(faultsUntil, () => {
    cluster.faultsOn = false;
  });
  scheduleNemesis(rng, events, cluster, faults, faultsUntil, faults.clock ? clock : undefined);
  while (events.step(opts.steps)) {
    // run
  }

  const outcome = checkOperations(modelFor("kv"), clients.history, {
    timeout: opts.checkTimeout ?? 20,
  });
  const violations = [...cluster.violations, ...lostAcknowledged(cluster, clients)];
  if (outcome.result === "illegal") violations.push("history is not linearizable");
  if (outcome.result === "unknown") violations.push("checker timed out");
  return {
    faults,
    history: clients.history,
    violations,
    stats: {
      ...cluster.stats,
      ...clients.stats,
      okAfterFaults: clients.history.filter((o) => o.call >= faultsUntil && o.return !== Infinity)
        .length,
      check: outcome.result,
      checkMs: outcome.durationMs,
    },
  };
}

/**
 * Partitions (healed later) and crash-restarts, at random times until `until`; with clock faults,
 * a leader a partition cuts off may see its wall clock jump back.
 */
function scheduleNemesis(
  rng: Prng,
  events: EventQueue,
  cluster: Cluster,
  faults: FaultConfig,
  until: number,
  clock: ClockFaults | undefined,
): void {
  const next = () => {
    if (events.now >= until) {
      cluster.heal();
      for (const n of cluster.nodes) cluster.restart(n);
      return;
    }
    const r = rng.next();
    if (faults.partitions && r < 0.5) {
      const ids = cluster.nodes.map((n) => n.id);
      const shuffled = [...ids].sort(() => rng.next() - 0.5);
      const cut = rng.int(1, ids.length - 1);
      cluster.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      clock?.partitioned();
      events.after(rng.int(10, 60) * TICK, () => cluster.heal());
    } else if (faults.crashes) {
      // Often the leader (its crash matters most), sometimes a quick bounce of several nodes.
      // Or a power failure: every node at once, losing every unsynced write.
      const r2 = rng.next();
      const victims =
        r2 < 0.4
          ? [cluster.leader() ?? rng.pick(cluster.nodes)]
          : r2 < 0.8
            ? cluster.nodes.filter(() => rng.chance(0.4))
            : cluster.nodes;
      for (const v of victims) {
        cluster.crash(v);
        events.after(rng.int(1, 30) * TICK, () => cluster.restart(v));
      }
    }
    events.after(rng.int(10, 60) * TICK, next);
  };
  events.after(rng.int(10, 50) * TICK, next);
}
