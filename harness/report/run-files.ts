// A run folder read back for the report: results.json, config.yaml, nemesis-ops.jsonl, and
// history.jsonl paired into client operations (columns, not objects: a 1,000,000-operation run
// is 2,000,000 lines) and nemesis events. What was written is what is shown: nothing is
// recomputed here but the pairing of each invoke with its completion.

import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import type { Value } from "../../checker/history.js";
import { StringTable } from "../../checker/string-table.js";
import type { Results } from "../results.js";

/** How an operation ended; `none`: no completion was recorded (the harness stopped first). */
export const OUTCOMES = ["ok", "fail", "info", "none"] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Client operations in invoke order, one column per field; strings are table indices. */
export interface ClientOps {
  count: number;
  /** Invoke time, ns since the test started. */
  call: number[];
  /** Completion time, ns; NaN without one. */
  ret: number[];
  process: number[];
  /** Index into `fs`. */
  f: number[];
  /** Index into OUTCOMES. */
  outcome: number[];
  /** Index into `keys`, -1 without a key. */
  key: number[];
  /** The value shown (a read's: what it read), index into `values`; -1 without one. */
  value: number[];
  /** Index into `nodes`, -1 when the history does not say (older runs). */
  node: number[];
  fs: string[];
  keys: string[];
  values: string[];
  nodes: string[];
}

export interface NemesisEvent {
  /** ns since the test started. */
  time: number;
  /** start-<kind>, stop-<kind>. */
  f: string;
  value: Value;
}

/** One line of nemesis-ops.jsonl: what the generator asked for, and when. */
export interface ScheduledOp {
  at_ms: number;
  f: string;
  value?: Value;
}

export interface RunFiles {
  dir: string;
  results: Results;
  /** config.yaml as written (flag names), or {} when it is missing or unreadable. */
  config: { [field: string]: Value };
  ops: ClientOps;
  nemesis: NemesisEvent[];
  schedule: ScheduledOp[];
  /** The last event's time, ns. */
  end: number;
}

/** A value longer than this is cut in the report's tables (a set's read of 10,000 elements). */
const VALUE_CHARS = 80;

export function readRun(dir: string): RunFiles {
  const results = JSON.parse(readFileSync(path.join(dir, "results.json"), "utf8")) as Results;
  const history = readHistory(path.join(dir, "history.jsonl"));
  return {
    dir,
    results,
    config: readConfig(path.join(dir, "config.yaml")),
    schedule: readSchedule(path.join(dir, "nemesis-ops.jsonl")),
    ...history,
  };
}

function readConfig(file: string): RunFiles["config"] {
  try {
    const parsed: unknown = parseYaml(readFileSync(file, "utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as RunFiles["config"])
      : {};
  } catch {
    return {};
  }
}

function readSchedule(file: string): ScheduledOp[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: ScheduledOp[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const o = JSON.parse(line) as ScheduledOp;
      if (typeof o.at_ms === "number" && typeof o.f === "string") out.push(o);
    } catch {
      // A torn last line (a crash while writing): the rest still shows.
    }
  }
  return out;
}

interface HistoryLine {
  time?: unknown;
  process?: unknown;
  type?: unknown;
  f?: unknown;
  key?: unknown;
  value?: Value;
  node?: unknown;
}

/**
 * Pairs each client's invoke with the next completion of the same process (Jepsen's model: a
 * process has one operation in flight). Lines that are not events (torn, malformed) are skipped:
 * the run's own check has already judged the file; the report shows what can be read.
 */
function readHistory(file: string): Pick<RunFiles, "ops" | "nemesis" | "end"> {
  const text = readFileSync(file, "utf8");
  const fs = new StringTable();
  const keys = new StringTable();
  const values = new StringTable();
  const nodes = new StringTable();
  const ops: ClientOps = {
    count: 0,
    call: [],
    ret: [],
    process: [],
    f: [],
    outcome: [],
    key: [],
    value: [],
    node: [],
    fs: fs.list,
    keys: keys.list,
    values: values.list,
    nodes: nodes.list,
  };
  const nemesis: NemesisEvent[] = [];
  const pending = new Map<number, number>();
  let end = 0;
  for (let start = 0; start < text.length; ) {
    let stop = text.indexOf("\n", start);
    if (stop === -1) stop = text.length;
    const line = text.slice(start, stop);
    start = stop + 1;
    if (line.length < 2) continue;
    let o: HistoryLine;
    try {
      o = JSON.parse(line) as HistoryLine;
    } catch {
      continue;
    }
    if (typeof o.time !== "number" || typeof o.f !== "string") continue;
    if (o.time > end) end = o.time;
    if (o.process === "nemesis") {
      nemesis.push({ time: o.time, f: o.f, value: o.value ?? null });
      continue;
    }
    if (typeof o.process !== "number") continue;
    if (o.type === "invoke") {
      const i = ops.count++;
      ops.call.push(o.time);
      ops.ret.push(Number.NaN);
      ops.process.push(o.process);
      ops.f.push(fs.add(o.f));
      ops.outcome.push(OUTCOMES.indexOf("none"));
      ops.key.push(typeof o.key === "string" ? keys.add(o.key) : -1);
      ops.value.push(o.value === undefined ? -1 : values.add(shown(o.value)));
      ops.node.push(typeof o.node === "string" ? nodes.add(o.node) : -1);
      pending.set(o.process, i);
      continue;
    }
    const outcome = OUTCOMES.indexOf(o.type as Outcome);
    const i = pending.get(o.process);
    if (i === undefined || outcome < 0) continue;
    pending.delete(o.process);
    ops.ret[i] = o.time;
    ops.outcome[i] = outcome;
    if (o.type === "ok" && o.value !== undefined) ops.value[i] = values.add(shown(o.value));
  }
  return { ops, nemesis, end };
}

function shown(v: Value): string {
  const s = JSON.stringify(v);
  return s.length > VALUE_CHARS ? `${s.slice(0, VALUE_CHARS - 1)}…` : s;
}
