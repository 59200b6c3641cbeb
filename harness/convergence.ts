// After the final phase, with every fault healed: do the replicas agree? Two replicas that have
// applied the same number of log entries must hold the same state; if they do not, the log was
// not one log (two values chosen for one slot), whatever the clients happened to read. A client
// history shows such a split only when a read lands on the lost side before later writes hide
// it, so this check sees what the linearizability checker may not (etcd's robustness tests
// compare members' hashes at one revision for the same reason).
//
// Equal states can still hide a split log (writes to different keys commute, a later write hides
// an earlier one), so a backend may also give a digest of the commands it applied, in order: two
// replicas at one index with different logs have diverged too.
//
// A backend offers it through its protocol's replicaState (http-kv: GET /status?digest=1 with
// `applied`, `state_digest` and optionally `log_digest`, doc/protocol.md); one that does not is
// reported as not checked.

import type { NodeHandle, NodeId, Protocol, ReplicaState } from "./types.js";

export type Convergence =
  | { checked: true; applied: number; nodes: number }
  | { checked: false; reason: string }
  | { checked: true; diverged: Divergence };

export interface Divergence {
  /** The index at which the replicas were compared. */
  applied: number;
  /**
   * Each state seen there, with the nodes holding it; `log` when every replica there gave a log
   * digest (then replicas with one state and different logs are apart too).
   */
  states: { digest: string; log?: string; nodes: NodeId[] }[];
}

const LOOK_EVERY_MS = 100;
const LOOK_TIMEOUT_MS = 1000;

/**
 * Looks at every node's replica state until all that answer have applied the same index (then
 * compares them) or `withinMs` passes. Two replicas at one index with different states end the
 * wait at once: that is a divergence whatever the others do.
 */
export async function checkConvergence(
  nodes: readonly NodeHandle[],
  replicaState: NonNullable<Protocol["replicaState"]>,
  withinMs: number,
): Promise<Convergence> {
  const deadline = performance.now() + withinMs;
  let last: [NodeId, ReplicaState][] = [];
  for (;;) {
    const seen = await Promise.all(
      nodes.map(async (n) => [n.spec.id, await replicaState(n, LOOK_TIMEOUT_MS)] as const),
    );
    const states = seen.filter((s): s is [NodeId, ReplicaState] => s[1] !== undefined);
    if (states.length === 0 && last.length === 0) {
      return { checked: false, reason: "no node gave its replica state" };
    }
    if (states.length > 0) last = states;
    const split = divergence(states);
    if (split) return { checked: true, diverged: split };
    const indexes = new Set(states.map(([, s]) => s.applied));
    if (states.length >= 2 && states.length === nodes.length && indexes.size === 1) {
      return { checked: true, applied: states[0]?.[1].applied ?? 0, nodes: states.length };
    }
    if (performance.now() >= deadline) {
      const where = last.map(([id, s]) => `${id} ${s.applied}`).join(", ");
      const silent = nodes.length - last.length;
      return {
        checked: false,
        reason:
          `the replicas did not reach one applied index within ${withinMs / 1000} s (${where}` +
          `${silent > 0 ? `; ${silent} did not answer` : ""})`,
      };
    }
    await new Promise((r) => setTimeout(r, LOOK_EVERY_MS));
  }
}

/**
 * Replicas at one applied index holding different states, or the same state reached by different
 * commands (their log digests differ, where every replica at that index gave one), if any: the
 * lowest such index.
 */
export function divergence(states: readonly [NodeId, ReplicaState][]): Divergence | undefined {
  const byIndex = new Map<number, [NodeId, ReplicaState][]>();
  for (const entry of states) {
    const at = byIndex.get(entry[1].applied) ?? [];
    at.push(entry);
    byIndex.set(entry[1].applied, at);
  }
  for (const applied of [...byIndex.keys()].sort((a, b) => a - b)) {
    const at = byIndex.get(applied) ?? [];
    const withLogs = at.every(([, s]) => s.log !== undefined);
    const groups = new Map<string, { digest: string; log?: string; nodes: NodeId[] }>();
    for (const [id, s] of at) {
      const key = withLogs ? `${s.digest} ${s.log}` : s.digest;
      const group = groups.get(key) ?? {
        digest: s.digest,
        ...(withLogs && s.log !== undefined ? { log: s.log } : {}),
        nodes: [],
      };
      group.nodes.push(id);
      groups.set(key, group);
    }
    if (groups.size > 1) return { applied, states: [...groups.values()] };
  }
  return undefined;
}

/**
 * `replicas diverged: at applied index 812, n1, n3 hold state 1f2e… and n2 holds 9a8b…`; with
 * log digests, `… hold state 1f2e… (log 77a0…)`: one state with two logs means the same
 * commands' effects reached by different commands in some slot.
 */
export function describeDivergence(d: Divergence): string {
  const parts = d.states.map(
    (s) =>
      `${s.nodes.join(", ")} ${s.nodes.length > 1 ? "hold" : "holds"} state ${s.digest}` +
      (s.log === undefined ? "" : ` (log ${s.log})`),
  );
  return `replicas diverged: at applied index ${d.applied}, ${parts.join(" and ")}`;
}
