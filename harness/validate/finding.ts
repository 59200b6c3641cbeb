// What a run that caught a mutant found, and when: the time of the first operation the checker
// could not explain, and the fault in force then (or the last one before it), read from the
// run's history.jsonl.
//
// "First": the checker's longest partial linearization of an illegal key ends where no
// operation can come next; the earliest return among the operations it left out is the moment
// the history stopped being explainable (Porcupine's search must place one of them before it,
// and none fits). Over every illegal key, the earliest such return. Times are seconds of test
// time: from the workload's first operation.

import { readFileSync } from "node:fs";
import { checkOperations } from "../../checker/check.js";
import { parseHistory } from "../../checker/formats/index.js";
import type { ModelName } from "../../checker/history.js";
import { modelFor } from "../../checker/models/index.js";
import { MODEL_NAMES } from "../../checker/models/names.js";

export interface FaultAt {
  /** partition, kill, ... */
  kind: string;
  /** What the fault was (a partition's shape, a node fault's target), when its event says. */
  detail?: string;
  /** In force at the time, or the last one healed before it. */
  inForce: boolean;
  /** Seconds of test time at which it started. */
  startedAt: number;
}

export interface Finding {
  /** Seconds of test time of the first illegal operation; absent when the checker cannot say (set). */
  at?: number;
  /** The fault in force at `at` (or the last before it); absent: no fault had started by then. */
  fault?: FaultAt;
}

export interface NemesisLine {
  time: number;
  f: string;
  value: unknown;
}

/**
 * The finding of an invalid run from its history (`model`: results.json's checker.model).
 * `timeoutS` bounds the checker's second, verbose pass.
 */
export function findingOf(historyFile: string, model: string, timeoutS = 60): Finding {
  const text = readFileSync(historyFile, "utf8");
  const { nemesis, workloadStart } = scanLines(text);
  const at = firstIllegalNs(text, historyFile, model, timeoutS);
  if (at === undefined) return {};
  const seconds = (ns: number) => Math.round(((ns - workloadStart) / 1e9) * 100) / 100;
  const fault = faultAt(nemesis, at);
  return {
    at: seconds(at),
    ...(fault === undefined
      ? {}
      : {
          fault: {
            kind: fault.kind,
            ...(fault.detail === undefined ? {} : { detail: fault.detail }),
            inForce: fault.inForce,
            startedAt: seconds(fault.start),
          },
        }),
  };
}

/** The nemesis events, and the time of the first client operation. */
function scanLines(text: string): { nemesis: NemesisLine[]; workloadStart: number } {
  const nemesis: NemesisLine[] = [];
  let workloadStart = Number.POSITIVE_INFINITY;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let event: { time?: unknown; process?: unknown; f?: unknown; value?: unknown };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      continue; // the checker already judged the file; a torn last line is not ours to report
    }
    if (typeof event.time !== "number") continue;
    if (event.process === "nemesis" && typeof event.f === "string") {
      nemesis.push({ time: event.time, f: event.f, value: event.value });
    } else if (event.time < workloadStart) workloadStart = event.time;
  }
  nemesis.sort((a, b) => a.time - b.time);
  return { nemesis, workloadStart: Number.isFinite(workloadStart) ? workloadStart : 0 };
}

/** Nanoseconds of the first illegal operation's return, or undefined when none is known. */
function firstIllegalNs(
  text: string,
  file: string,
  model: string,
  timeoutS: number,
): number | undefined {
  if (!(MODEL_NAMES as readonly string[]).includes(model) || model === "set") return undefined;
  const ops = parseHistory(text, file, "jsonl").ops;
  const outcome = checkOperations(modelFor(model as ModelName), ops, {
    verbose: true,
    timeout: timeoutS,
  });
  let first: number | undefined;
  for (const p of outcome.partitions) {
    if (p.result !== "illegal") continue;
    const placed = new Set(p.linearizations[0] ?? []);
    for (const [i, op] of p.ops.entries()) {
      if (placed.has(i) || !Number.isFinite(op.return)) continue;
      if (first === undefined || op.return < first) first = op.return;
    }
  }
  return first;
}

/** The fault in force at `time` (the latest started), else the last one healed before it. */
export function faultAt(
  events: readonly NemesisLine[],
  time: number,
): { kind: string; detail?: string; inForce: boolean; start: number } | undefined {
  const open = new Map<string, NemesisLine>();
  let last: NemesisLine | undefined;
  for (const e of events) {
    if (e.time > time) break;
    const [phase, kind] = splitF(e.f);
    if (phase === "start") open.set(kind, e);
    else if (phase === "stop") {
      const started = open.get(kind);
      if (started) last = started;
      open.delete(kind);
    }
  }
  const inForce = [...open.values()].sort((a, b) => b.time - a.time)[0];
  const chosen = inForce ?? last;
  if (chosen === undefined) return undefined;
  const detail = detailOf(chosen.value);
  return {
    kind: splitF(chosen.f)[1],
    ...(detail === undefined ? {} : { detail }),
    inForce: inForce !== undefined,
    start: chosen.time,
  };
}

function splitF(f: string): [string, string] {
  const dash = f.indexOf("-");
  return dash < 0 ? [f, ""] : [f.slice(0, dash), f.slice(dash + 1)];
}

/** A partition's shape, a node fault's target and nodes, a loss's rate, a skew. */
function detailOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.shape === "string") return v.shape;
  const nodes = ["killed", "paused", "nodes", "targets"]
    .map((k) => v[k])
    .find((x): x is string[] => Array.isArray(x));
  if (typeof v.target === "string") return nodes ? `${v.target} ${nodes.join(",")}` : v.target;
  return undefined;
}
