// Operations written back as a history file that the parsers read as the same operations
// (a witness is written this way, so that `check` can be run on it).
//
// The format is the one the operations were read from, but for Jepsen EDN, which is written as
// our JSONL (the operations it holds are exactly those JSONL holds). Porcupine's etcd log is kept
// for its failed cas (a cas that ran and found another value: JSONL's `fail` means "did not
// happen"), Porcupine's kv log for its get/put/append. In the log formats the time of an event is
// its line: events are written in time order, so intervals keep their order; a call whose
// outcome is unknown is left open (no completion line), which those parsers read as an unknown
// return at the end of the history, as the original had it (a return after every other event).

import type { FormatName, HistoryOp, Value } from "../history.js";
import { UNKNOWN } from "../model.js";

export interface WrittenHistory {
  format: FormatName;
  text: string;
}

/** The format operations read from `format` are written in. */
export function writtenFormat(format: FormatName): FormatName {
  return format === "jepsen-edn" ? "jsonl" : format;
}

export function writeHistory(ops: readonly HistoryOp[], from: FormatName): WrittenHistory {
  const format = writtenFormat(from);
  const events = eventsOf(ops);
  const lines =
    format === "jsonl"
      ? events.map(jsonlLine)
      : format === "porcupine-etcd"
        ? events.flatMap(etcdLine)
        : events.flatMap(kvLine);
  return { format, text: lines.length === 0 ? "" : `${lines.join("\n")}\n` };
}

interface Event {
  op: HistoryOp;
  type: "invoke" | "ok" | "fail" | "info";
  time: number;
}

/**
 * Invokes and completions in time order. At equal times completions come first (a process may
 * invoke at the time its previous call returned), and an unknown outcome right after its invoke.
 */
function eventsOf(ops: readonly HistoryOp[]): Event[] {
  const events: Event[] = [];
  for (const op of ops) {
    events.push({ op, type: "invoke", time: op.call });
    if (op.output === UNKNOWN) events.push({ op, type: "info", time: op.call });
    else if (op.input.f === "cas" && op.output.ok === false)
      events.push({ op, type: "fail", time: op.return });
    else events.push({ op, type: "ok", time: op.return });
  }
  const rank = { ok: 0, fail: 0, invoke: 1, info: 2 } as const;
  return events.sort((a, b) => a.time - b.time || rank[a.type] - rank[b.type]);
}

function jsonlLine(e: Event): string {
  const { input, output } = e.op;
  const line: Record<string, Value> = { time: e.time, process: e.op.clientId, type: e.type };
  line.f = input.f;
  if (input.key !== "") line.key = input.key;
  switch (input.f) {
    case "write":
    case "add":
    case "put":
    case "append":
      line.value = input.value;
      break;
    case "cas":
      line.value = [input.from, input.to];
      break;
    case "read":
    case "get":
      line.value = e.type === "ok" && output !== UNKNOWN ? (output.value ?? null) : null;
      break;
    case "read-all":
      line.value = e.type === "ok" && output !== UNKNOWN ? (output.values ?? []) : null;
      break;
  }
  return JSON.stringify(line);
}

function etcdLine(e: Event): string[] {
  const { input, output } = e.op;
  if (e.type === "info") return []; // left open: an unknown return at the end
  let value: string;
  switch (input.f) {
    case "read":
      value = e.type === "ok" && output !== UNKNOWN ? edn(output.value ?? null) : "nil";
      break;
    case "write":
      value = edn(input.value);
      break;
    case "cas":
      value = edn([input.from, input.to]);
      break;
    default:
      throw new RangeError(`the porcupine-etcd format has no ${input.f}`);
  }
  return [`INFO  jepsen.util - ${e.op.clientId}\t:${e.type}\t:${input.f}\t${value}`];
}

function kvLine(e: Event): string[] {
  const { input, output } = e.op;
  if (e.type === "info") return [];
  if (input.f !== "get" && input.f !== "put" && input.f !== "append")
    throw new RangeError(`the porcupine-kv format has no ${input.f}`);
  const value =
    input.f === "get"
      ? e.type === "ok" && output !== UNKNOWN
        ? edn(output.value ?? "")
        : "nil"
      : edn(input.value);
  return [
    `{:process ${e.op.clientId}, :type :${e.type}, :f :${input.f}, :key ${edn(input.key)}, :value ${value}}`,
  ];
}

/** A recorded value as EDN. */
function edn(v: Value): string {
  if (v === null) return "nil";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v !== "object") return String(v);
  if (Array.isArray(v)) return `[${v.map(edn).join(" ")}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)} ${edn(v[k] as Value)}`)
    .join(", ")}}`;
}
