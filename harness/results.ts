// results.json (the README's fields, plus what a reader needs next: the violating keys, the
// set's lost and phantom elements, the seed) and the short summary printed at the end.

import {
  canonicalJson,
  type HistoryOp,
  type OpInput,
  type OpOutput,
  type Value,
} from "../checker/history.js";
import { type CheckOutcome, UNKNOWN } from "../checker/model.js";
import type { TestConfig } from "./config.js";
import type { Convergence } from "./convergence.js";
import { describeFaults, type FaultRecord } from "./fault-tally.js";
import type { Counts } from "./recorder.js";
import { keysVerdict, plural } from "./text.js";

export interface Results {
  valid: boolean | "unknown";
  backend: string;
  runtime: string;
  nodes: number;
  workload: string;
  nemesis: string[];
  ops: Counts;
  throughput: { ok_per_s: number };
  latency_ms: { p50: number; p95: number; p99: number; max: number };
  checker: {
    result: "ok" | "illegal" | "unknown";
    model: string;
    partitions: number;
    duration_ms: number;
    /** Why the verdict is unknown, when it is: timeout, memory, or an error reading the history. */
    reason?: string;
  };
  /** kv / register, invalid: the keys whose history is not linearizable. */
  violating_keys?: string[];
  /** kv / register, invalid: the keys the full report left unknown (its time ran out). */
  unknown_keys?: string[];
  /** set: acknowledged adds missing from a final read, and elements read but never added. */
  lost?: Value[];
  phantom?: Value[];
  name: string;
  seed: number;
  interrupted: boolean;
  /** Seconds of the workload phase. */
  duration_s: number;
  nemesis_events: number;
  /** Per kind asked for: faults started, verified to have taken, and seconds under them. */
  faults: FaultRecord;
  /** Why a run whose history checked out is still not a pass: faults asked for, none injected. */
  /**
   * The replicas compared after the final phase (convergence.ts): at one applied index, or not
   * checked and why (absent: the run did not get that far).
   */
  convergence?: Convergence;
  /** Replicas at one applied index with different states: the run is invalid. */
  diverged?: string;
  no_faults?: string;
  /** A set-up failure (exit 3). */
  error?: string;
}

export function percentiles(latencies: number[]): Results["latency_ms"] {
  if (latencies.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) =>
    round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number);
  return {
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: round(sorted[sorted.length - 1] as number),
  };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Labels of the partitions found illegal (keys for kv and cas-register). */
export function illegalLabels(outcome: CheckOutcome<OpInput, OpOutput>): string[] {
  return outcome.partitions.filter((p) => p.result === "illegal").map((p) => p.label);
}

/**
 * The set's findings, as Jepsen's set checker: an element acknowledged (ok add) before a
 * successful read-all began and missing from it is lost; an element read that no add ever
 * tried (ok or indeterminate; failed adds are not in the checked history) is a phantom.
 */
export function setFindings(ops: readonly HistoryOp[]): { lost: Value[]; phantom: Value[] } {
  const tried = new Map<string, Value>();
  const acked: { key: string; value: Value; at: number }[] = [];
  const reads: { call: number; present: Set<string> }[] = [];
  const seen = new Map<string, Value>();
  for (const op of ops) {
    if (op.input.f === "add") {
      const key = canonicalJson(op.input.value);
      tried.set(key, op.input.value);
      if (op.output !== UNKNOWN) acked.push({ key, value: op.input.value, at: op.return });
    } else if (op.input.f === "read-all" && op.output !== UNKNOWN) {
      const values = op.output.values ?? [];
      const present = new Set<string>();
      for (const v of values) {
        const k = canonicalJson(v);
        present.add(k);
        seen.set(k, v);
      }
      reads.push({ call: op.call, present });
    }
  }
  const lost = acked
    .filter((a) => reads.some((r) => r.call > a.at && !r.present.has(a.key)))
    .map((a) => a.value);
  const phantom = [...seen].filter(([k]) => !tried.has(k)).map(([, v]) => v);
  return { lost, phantom };
}

export function exitCodeOf(valid: Results["valid"]): 0 | 1 | 2 {
  return valid === true ? 0 : valid === false ? 1 : 2;
}

/** A few lines for the terminal: the verdict, what is wrong, the figures, the run's folder. */
export function summary(r: Results, dir: string, config: TestConfig): string {
  const lines: string[] = [];
  const verdict =
    r.error !== undefined
      ? `ERROR: ${r.error}`
      : r.no_faults !== undefined
        ? `NO FAULT: ${r.no_faults} (the history is linearizable, but that says nothing about faults)`
        : r.valid === true
          ? "VALID: the history is linearizable"
          : r.interrupted && r.valid === "unknown" && r.checker.result === "ok"
            ? "UNKNOWN: interrupted; the history so far is linearizable, but a run cut short is not a pass"
            : r.valid === false && r.checker.result === "ok" && r.diverged !== undefined
              ? "INVALID: the replicas diverged (the history alone is linearizable)"
              : r.valid === false
                ? "INVALID: the history is not linearizable"
                : `UNKNOWN: the checker could not decide${r.checker.reason ? ` (${r.checker.reason})` : ""}`;
  const cutShort = r.interrupted && !verdict.startsWith("UNKNOWN: interrupted");
  lines.push(`${config.name}: ${verdict}${cutShort ? " (interrupted: the history so far)" : ""}`);
  if (r.violating_keys && r.violating_keys.length > 0) {
    const keys = keysVerdict(r.violating_keys, r.unknown_keys ?? [], r.checker.partitions);
    if (keys !== "") lines.push(`  ${keys}`);
  }
  if (r.diverged !== undefined) lines.push(`  ${r.diverged}`);
  if (r.lost && r.lost.length > 0) lines.push(`  lost: ${list(r.lost)}`);
  if (r.phantom && r.phantom.length > 0) lines.push(`  phantom: ${list(r.phantom)}`);
  const o = r.ops;
  const protocol =
    o.protocol_errors > 0
      ? ` (${plural(o.protocol_errors, "protocol error")}: replies the client could not understand)`
      : "";
  lines.push(
    `  ops: ${o.invoke} invoked, ${o.ok} ok, ${o.fail} fail, ${o.info} info${protocol}; ${r.throughput.ok_per_s} ok/s over ${r.duration_s} s`,
  );
  if (Object.keys(r.faults).length > 0) lines.push(`  faults: ${describeFaults(r.faults)}`);
  const l = r.latency_ms;
  lines.push(`  latency ms: p50 ${l.p50}, p95 ${l.p95}, p99 ${l.p99}, max ${l.max}`);
  lines.push(`  checker: ${checkerLine(r)}`);
  lines.push(`  run: ${dir}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The checker's line. After an error it says what the check saw (the history up to the error),
 * or that it did not run: a bare "ok" under an ERROR would read as a pass.
 */
function checkerLine(r: Results): string {
  const c = r.checker;
  const figures = `model ${c.model}, ${plural(c.partitions, "partition")}, ${c.duration_ms} ms`;
  if (r.error === undefined) return `${c.result}, ${figures}`;
  if (r.ops.invoke === 0) return "not run (no operation was recorded before the error)";
  return `${c.result} on the ${plural(r.ops.invoke, "operation")} recorded before the error, ${figures}`;
}

function list(values: Value[]): string {
  const shown = values.slice(0, 20).map((v) => canonicalJson(v));
  return `${shown.join(", ")}${values.length > 20 ? ` ... (${values.length} in all)` : ""}`;
}
