// Our own history format (history.jsonl): one Jepsen-style operation per line.
//
// Files are nearly always in time order, so events are paired as they are read, keeping nothing
// but the operations (retaining a million parsed lines costs more in GC than parsing them).
// If time goes backwards, or pairing fails (which may only be the disorder showing), the file is
// read again, its events sorted by time, and paired from scratch: that pass has the last word
// on errors, so both ways report the same one.

import {
  badHistory,
  HistoryError,
  type ModelName,
  type OpInput,
  type OpOutput,
  type ParsedHistory,
  type Value,
} from "../history.js";
import { CAS_OK, NOTHING, OP_FUNCTIONS, type OpFunction, opInput, Pairing } from "./pairing.js";

// Null prototypes: "constructor" or "toString" must not pass as a type or an f.
const TYPES: Record<string, number> = Object.assign(Object.create(null), {
  invoke: 0,
  ok: 1,
  fail: 2,
  info: 3,
});
const INVOKE = 0;
const OK = 1;
const FAIL = 2;
const FS = OP_FUNCTIONS;
type F = OpFunction;
const F_CODES: Record<string, number> = Object.assign(Object.create(null), {
  read: 0,
  write: 1,
  cas: 2,
  add: 3,
  "read-all": 4,
});
const CAS = 2;
const READ_ALL = 4;

/** Gets each valid event of the file; false stops the scan. */
type Visit = (
  line: number,
  time: number,
  type: number,
  proc: number,
  f: number,
  key: string,
  value: Value | undefined,
) => boolean;

export function parseJsonl(text: string, file: string): ParsedHistory {
  let builder = new Builder(file);
  let last = Number.NEGATIVE_INFINITY;
  const streamed = scan(text, file, (line, time, type, proc, f, key, value) => {
    if (time < last) return false;
    last = time;
    try {
      builder.event(line, time, type, proc, f, key, value);
      return true;
    } catch (e) {
      if (e instanceof HistoryError) return false;
      throw e;
    }
  });
  if (!streamed) {
    builder = new Builder(file);
    replaySorted(text, file, builder);
  }
  return builder.finish();
}

function replaySorted(text: string, file: string, builder: Builder): void {
  const lines: number[] = [];
  const times: number[] = [];
  const types: number[] = [];
  const procs: number[] = [];
  const fs: number[] = [];
  const keys: string[] = [];
  const values: (Value | undefined)[] = [];
  scan(text, file, (line, time, type, proc, f, key, value) => {
    lines.push(line);
    times.push(time);
    types.push(type);
    procs.push(proc);
    fs.push(f);
    keys.push(key);
    values.push(value);
    return true;
  });
  const order = lines.map((_, i) => i);
  // Array.prototype.sort is stable: equal times keep file order.
  order.sort((a, b) => (times[a] as number) - (times[b] as number));
  for (const i of order) {
    builder.event(
      lines[i] as number,
      times[i] as number,
      types[i] as number,
      procs[i] as number,
      fs[i] as number,
      keys[i] as string,
      values[i],
    );
  }
}

class Builder {
  private readonly pairing: Pairing;
  private set = false;
  private firstKey: string | undefined;
  private manyKeys = false;

  constructor(file: string) {
    this.pairing = new Pairing(file);
  }

  event(
    line: number,
    time: number,
    type: number,
    proc: number,
    code: number,
    key: string,
    value: Value | undefined,
  ): void {
    const f = FS[code] as F;
    if (type === INVOKE) {
      if (f === "add" || f === "read-all") this.set = true;
      if (this.firstKey === undefined) this.firstKey = key;
      else if (key !== this.firstKey) this.manyKeys = true;
      // scan checked the shape of every cas invoke.
      this.pairing.invoke(proc, opInput(f, key, value) as OpInput, time, line);
      return;
    }
    const call = this.pairing.complete(proc, f, line);
    if (type === OK) this.pairing.returned(call, output(f, value), time);
    else if (type === FAIL) this.pairing.drop(call);
    // info: the output stays UNKNOWN and the return Infinity; the op may yet take effect.
  }

  finish(): ParsedHistory {
    const model: ModelName = this.set ? "set" : this.manyKeys ? "kv" : "cas-register";
    return { format: "jsonl", model, ops: this.pairing.finish(Infinity) };
  }
}

function output(f: F, value: Value | undefined): OpOutput {
  switch (f) {
    case "read":
      return { value: value ?? null };
    case "read-all":
      return { values: value as Value[] };
    case "cas":
      return CAS_OK;
    default:
      return NOTHING;
  }
}

/** Validates every line and hands its event to `visit`; false if `visit` stopped the scan. */
function scan(text: string, file: string, visit: Visit): boolean {
  let timed = 0;
  let untimedLine = 0;
  let lineNo = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    lineNo++;
    if (line.length === 0 || (line.charCodeAt(0) <= 32 && line.trim() === "")) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      badHistory(file, lineNo, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      badHistory(file, lineNo, "not a JSON object");
    }
    // JSON.parse only ever builds JSON values, so the fields are Values.
    const o = parsed as { [field: string]: Value | undefined };
    const proc = o.process;
    if (proc === "nemesis") continue;
    const type = typeof o.type === "string" ? TYPES[o.type] : undefined;
    if (type === undefined) {
      badHistory(file, lineNo, `type must be invoke, ok, fail or info, not ${show(o.type)}`);
    }
    if (typeof proc !== "number" || !Number.isInteger(proc)) {
      badHistory(file, lineNo, `process must be an integer or "nemesis", not ${show(proc)}`);
    }
    const time = o.time;
    if (time === undefined) {
      if (untimedLine === 0) untimedLine = lineNo;
    } else if (typeof time !== "number" || !Number.isFinite(time)) {
      badHistory(file, lineNo, `time must be a number of nanoseconds, not ${show(time)}`);
    } else timed++;
    if (o.f === undefined) badHistory(file, lineNo, "no f");
    const f = typeof o.f === "string" ? F_CODES[o.f] : undefined;
    if (f === undefined)
      badHistory(file, lineNo, `unknown f ${show(o.f)} (read, write, cas, add, read-all)`);
    const key = o.key;
    if (key !== undefined && typeof key !== "string" && typeof key !== "number") {
      badHistory(file, lineNo, `key must be a string or a number, not ${show(key)}`);
    }
    const value = o.value;
    if (type === INVOKE && f === CAS && !(Array.isArray(value) && value.length === 2)) {
      badHistory(file, lineNo, `a cas value must be [from, to], not ${show(value)}`);
    }
    if (type === OK && f === READ_ALL && !Array.isArray(value)) {
      badHistory(file, lineNo, `read-all must return an array, not ${show(value)}`);
    }
    const t = typeof time === "number" ? time : lineNo;
    const k = key === undefined ? "" : String(key);
    if (!visit(lineNo, t, type, proc, f, k, value)) return false;
  }
  if (timed > 0 && untimedLine !== 0)
    badHistory(file, untimedLine, "no time, while other lines have one");
  return true;
}

function show(v: Value | undefined): string {
  return v === undefined ? "nothing" : JSON.stringify(v);
}
