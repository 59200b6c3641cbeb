// Our own history format (history.jsonl): one Jepsen-style operation per line.
//
// Files are nearly always in time order, so events are paired as they are read, keeping nothing
// but the operations (retaining a million parsed lines costs more in GC than parsing them).
// If time goes backwards, or pairing fails (which may only be the disorder showing), the file is
// read again, its events sorted by time, and paired from scratch: that pass has the last word
// on errors, so both ways report the same one.

import { readSync } from "node:fs";
import {
  badHistory,
  HistoryError,
  type ModelName,
  type OpInput,
  type OpOutput,
  type ParsedHistory,
  type Value,
} from "../history.js";
import { CompactBuilder } from "./jsonl-compact.js";
import { F_CODES, LineReader, TYPE_CODES } from "./jsonl-line.js";
import { CAS_OK, NOTHING, OP_FUNCTIONS, type OpFunction, opInput, Pairing } from "./pairing.js";

const INVOKE = 0;
const OK = 1;
const FAIL = 2;
const FS = OP_FUNCTIONS;
type F = OpFunction;
const CAS = 2;
const READ_ALL = 4;

/**
 * The bytes of a history, chunk by chunk; each call reads it from its start again (a file out
 * of time order is read twice). Lines may straddle chunks.
 */
export type ByteSource = () => Iterable<Buffer>;

/** Bytes read from a file at a time. */
const CHUNK = 1 << 22;

/** A file's bytes from `from` on (past a byte order mark, say), a few megabytes at a time. */
export function fileSource(fd: number, from = 0): ByteSource {
  return function* () {
    for (let pos = from; ; ) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const n = readSync(fd, buf, 0, CHUNK, pos);
      if (n === 0) return;
      pos += n;
      yield n < CHUNK ? buf.subarray(0, n) : buf;
    }
  };
}

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
  const bytes = Buffer.from(text, "utf8");
  return parseJsonlBytes(() => [bytes], file);
}

/**
 * A jsonl history from its bytes (a file's, through `fileSource`, or a text's). `compact`
 * false: operation objects only, never a compact history (the tests compare the two).
 */
export function parseJsonlBytes(source: ByteSource, file: string, compact = true): ParsedHistory {
  if (compact) {
    const history = compactOrNot(source, file);
    if (history) return history;
  }
  let builder = new Builder(file);
  let last = Number.NEGATIVE_INFINITY;
  const streamed = scan(source, file, (line, time, type, proc, f, key, value) => {
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
    replaySorted(source, file, builder);
  }
  return builder.finish();
}

/**
 * The history as a compact one, if it can be (compact.ts): else undefined, and the object
 * parser reads the file from the start (with its messages, for a file in error).
 */
function compactOrNot(source: ByteSource, file: string): ParsedHistory | undefined {
  const builder = new CompactBuilder();
  try {
    const done = scan(source, file, (_line, time, type, proc, f, key, value) =>
      builder.event(time, type, proc, f, key, value),
    );
    if (!done) return undefined;
  } catch (e) {
    if (e instanceof HistoryError) return undefined;
    throw e;
  }
  const compact = builder.finish();
  const model: ModelName = builder.keyCount > 1 ? "kv" : "cas-register";
  return {
    format: "jsonl",
    model,
    compact,
    get ops() {
      return compact.ops();
    },
  };
}

function replaySorted(source: ByteSource, file: string, builder: Builder): void {
  const lines: number[] = [];
  const times: number[] = [];
  const types: number[] = [];
  const procs: number[] = [];
  const fs: number[] = [];
  const keys: string[] = [];
  const values: (Value | undefined)[] = [];
  scan(source, file, (line, time, type, proc, f, key, value) => {
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

/** One line's event, as the fast reader or the JSON.parse path found it. */
interface LineEvent {
  time: number | undefined;
  type: number;
  proc: number;
  f: number;
  key: string;
  value: Value | undefined;
}

/** Validates every line and hands its event to `visit`; false if `visit` stopped the scan. */
function scan(source: ByteSource, file: string, visit: Visit): boolean {
  const reader = new LineReader();
  const slow: LineEvent = { time: undefined, type: 0, proc: 0, f: 0, key: "", value: undefined };
  let timed = 0;
  let untimedLine = 0;
  let lineNo = 0;
  /** Reads the line buf[s, e); false if `visit` stopped the scan. */
  const line = (buf: Buffer, s: number, e: number): boolean => {
    lineNo++;
    let ev: LineEvent;
    if (reader.read(buf, s, e)) ev = reader;
    else if (readSlowly(buf.toString("utf8", s, e), file, lineNo, slow)) ev = slow;
    else return true;
    const time = ev.time;
    if (time === undefined) {
      if (untimedLine === 0) untimedLine = lineNo;
    } else timed++;
    return visit(lineNo, time ?? lineNo, ev.type, ev.proc, ev.f, ev.key, ev.value);
  };
  let carry: Buffer | undefined;
  for (const chunk of source()) {
    let start = 0;
    if (carry !== undefined) {
      // The line that straddles the last chunk and this one.
      const nl = chunk.indexOf(0x0a);
      if (nl === -1) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      const joined = Buffer.concat([carry, chunk.subarray(0, nl)]);
      carry = undefined;
      if (!line(joined, 0, joined.length)) return false;
      start = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      if (!line(chunk, start, nl)) return false;
      start = nl + 1;
    }
    if (start < chunk.length) carry = chunk.subarray(start);
  }
  if (carry !== undefined && !line(carry, 0, carry.length)) return false;
  if (timed > 0 && untimedLine !== 0)
    badHistory(file, untimedLine, "no time, while other lines have one");
  return true;
}

/**
 * A line the fast reader left: JSON.parse, then the checks of every field, each with its
 * message. False for a line that holds no event (blank, or the nemesis's).
 */
function readSlowly(line: string, file: string, lineNo: number, ev: LineEvent): boolean {
  if (line.length === 0 || (line.charCodeAt(0) <= 32 && line.trim() === "")) return false;
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
  if (proc === "nemesis") return false;
  const type =
    typeof o.type === "string" && Object.hasOwn(TYPE_CODES, o.type)
      ? TYPE_CODES[o.type]
      : undefined;
  if (type === undefined) {
    badHistory(file, lineNo, `type must be invoke, ok, fail or info, not ${show(o.type)}`);
  }
  if (typeof proc !== "number" || !Number.isInteger(proc)) {
    badHistory(file, lineNo, `process must be an integer or "nemesis", not ${show(proc)}`);
  }
  const time = o.time;
  if (time !== undefined && (typeof time !== "number" || !Number.isFinite(time))) {
    badHistory(file, lineNo, `time must be a number of nanoseconds, not ${show(time)}`);
  }
  if (o.f === undefined) badHistory(file, lineNo, "no f");
  const f = typeof o.f === "string" && Object.hasOwn(F_CODES, o.f) ? F_CODES[o.f] : undefined;
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
  ev.time = time;
  ev.type = type;
  ev.proc = proc;
  ev.f = f;
  ev.key = key === undefined ? "" : String(key);
  ev.value = value;
  return true;
}

function show(v: Value | undefined): string {
  return v === undefined ? "nothing" : JSON.stringify(v);
}
