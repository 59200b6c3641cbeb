// The nemesis side of a test: one composed nemesis that does what each nemesis operation says,
// routed by `f` (Jepsen's nemesis/compose): `start-<kind>` starts a fault of that kind with the
// operation's parameters, `stop-<kind>` heals it, `heal` heals every fault in force. Faults of
// different kinds may overlap (a partition during a clock skew); a second start of a kind in
// force first heals it. The first fault that could not be made, did not take, or did not heal
// is the run's failure: no fault starts after it. A start whose parameters say `when:
// leader-change` first waits for one (leader-change.ts), and is skipped, saying so, if none comes
// within its `within_ms`.

import type { Value } from "../../checker/history.js";
import type { ClusterView, Nemesis, NemesisKind } from "../types.js";
import { awaitLeaderChange, type LeaderChange, WHEN } from "./leader-change.js";
import { SAME } from "./node-fault.js";
import { choiceParam } from "./params.js";

function isObject(v: Value | undefined): v is { [key: string]: Value } {
  return v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v);
}

export interface NemesisRecord {
  /** The history's nemesis event (process "nemesis", type info). */
  nemesis(kind: NemesisKind, phase: "start" | "stop", value: Value): void;
  log(message: string, fields?: Record<string, unknown>): void;
}

export type NemesisOutcome = { type: "info"; value: Value };

export class ComposedNemesis {
  private readonly byKind: ReadonlyMap<NemesisKind, Nemesis>;
  private readonly active = new Set<NemesisKind>();
  /** The nemesis that started the last fault (for `target: same`). */
  private lastStarted: Nemesis | undefined;
  /** The first fault (or heal) that failed: the run's error. */
  failure: Error | undefined;

  constructor(
    nemeses: readonly Nemesis[],
    private readonly cluster: ClusterView,
    private readonly record: NemesisRecord,
    private readonly onFailure: (error: Error) => void = () => {},
  ) {
    this.byKind = new Map(nemeses.map((n) => [n.kind, n]));
  }

  /** The kinds with a fault in force. */
  get inForce(): NemesisKind[] {
    return [...this.active];
  }

  /** Does what the operation says. Never throws: a failure is recorded and kept in `failure`. */
  async invoke(op: { f: string; value?: Value }): Promise<NemesisOutcome> {
    if (op.f === "heal") return { type: "info", value: await this.heal() };
    const m = /^(start|stop)-(.+)$/.exec(op.f);
    const nemesis = m ? this.byKind.get(m[2] as NemesisKind) : undefined;
    if (!m || !nemesis) {
      const error = `no nemesis does ${op.f} (kinds: ${[...this.byKind.keys()].join(", ") || "none"})`;
      this.fail(new Error(error));
      return { type: "info", value: { error } };
    }
    if (m[1] === "start") return { type: "info", value: await this.start(nemesis, op.value) };
    return { type: "info", value: await this.stop(nemesis) };
  }

  private async start(nemesis: Nemesis, given: Value | undefined): Promise<Value> {
    if (this.failure !== undefined) return { skipped: "an earlier fault failed" };
    let params = given;
    let change: LeaderChange | undefined;
    let afterMs: number | undefined;
    try {
      const when = choiceParam(given, "when", WHEN, `${nemesis.kind} when`);
      if (when !== undefined) {
        const { when: _, within_ms: within, ...rest } = given as { [key: string]: Value };
        params = Object.keys(rest).length > 0 ? rest : undefined;
        const withinMs = typeof within === "number" ? within : 0;
        change = await awaitLeaderChange(this.cluster, withinMs);
        if (change === undefined) {
          const skipped = { when, skipped: `no leader change within ${withinMs / 1000} s` };
          this.record.nemesis(nemesis.kind, "start", skipped);
          this.record.log(`nemesis: start ${nemesis.kind} skipped`, { value: skipped });
          return skipped;
        }
      }
      // `after`: so many ms after the fault before it returned (it runs on this same thread,
      // so this op comes right after it): measured from when that fault took, not from its turn.
      const after = isObject(params) ? params.after_ms : undefined;
      if (isObject(params) && typeof after === "number") {
        const { after_ms: _, ...rest } = params;
        params = Object.keys(rest).length > 0 ? rest : undefined;
        afterMs = after;
        await new Promise((resolve) => setTimeout(resolve, after));
      }
    } catch (err) {
      this.fail(err);
      return { error: message(err) };
    }
    if (isObject(params) && params.target === SAME) {
      // The nodes the fault before it hit, known now: no second look for the leader, which
      // under load takes longer than the distance an `after` asks for.
      const nodes = this.lastStarted?.lastTargets?.();
      if (nodes === undefined || nodes.length === 0) {
        const error = `${nemesis.kind} target same: the fault before it hit no node`;
        this.fail(new Error(error));
        return { error };
      }
      params = { ...params, nodes };
    }
    if (this.active.has(nemesis.kind)) await this.stop(nemesis);
    // Kept in force before it begins: a fault that fails half-way is still healed.
    this.active.add(nemesis.kind);
    try {
      const begun = await nemesis.start(this.cluster, params);
      const started: Value =
        afterMs === undefined
          ? begun
          : { ...(begun as { [key: string]: Value }), after_ms: afterMs };
      const value: Value =
        change === undefined
          ? started
          : {
              ...(started as { [key: string]: Value }),
              when: "leader-change",
              leader_change: {
                from: change.from ?? null,
                to: change.to,
                waited_ms: change.waitedMs,
              },
            };
      this.record.nemesis(nemesis.kind, "start", value);
      this.record.log(`nemesis: start ${nemesis.kind}`, { value });
      this.lastStarted = nemesis;
      return value;
    } catch (err) {
      const error = message(err);
      this.record.nemesis(nemesis.kind, "start", { error });
      this.record.log(`nemesis: start ${nemesis.kind} failed: ${error}`);
      this.fail(err);
      return { error };
    }
  }

  private async stop(nemesis: Nemesis): Promise<Value> {
    if (!this.active.has(nemesis.kind)) return { healed: false };
    let value: Value;
    try {
      value = await nemesis.stop(this.cluster);
      this.record.log(`nemesis: stop ${nemesis.kind}`, { value });
    } catch (err) {
      value = { error: message(err) };
      this.record.log(`nemesis: stop ${nemesis.kind} failed: ${message(err)}`);
      this.fail(err);
    }
    this.record.nemesis(nemesis.kind, "stop", value);
    this.active.delete(nemesis.kind);
    return value;
  }

  /** Heals every fault in force, the last started first. Safe at any time, and more than once. */
  async heal(): Promise<Value> {
    const healed: string[] = [];
    for (const kind of [...this.active].reverse()) {
      const nemesis = this.byKind.get(kind);
      if (nemesis) {
        await this.stop(nemesis);
        healed.push(kind);
      }
    }
    return { healed };
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.onFailure(this.failure);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
