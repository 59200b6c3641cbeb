// What both jsonl parsers (jsonl.ts, jsonl-compact.ts) share: the lines of a history's bytes,
// chunk by chunk, and the slow path of a line that the fast readers leave (JSON.parse, then the
// checks of every field, each with its message).

import { readSync } from "node:fs";
import { badHistory, type Value } from "../history.js";
import { F_CODES, TYPE_CODES } from "./jsonl-line.js";

const INVOKE = 0;
const OK = 1;
const CAS = 2;
const READ_ALL = 4;

/**
 * The bytes of a history, chunk by chunk; each call reads it from its start again (a file out
 * of time order is read twice). Lines may straddle chunks. A chunk is valid until the one after
 * the next is asked for (forEachLine's use: the buffers are reused).
 */
export type ByteSource = () => Iterable<Buffer>;

/** Bytes read from a file at a time. */
const CHUNK = 1 << 22;

/**
 * A file's bytes from `from` (past a byte order mark, say) to `to` (default: its end), a few
 * megabytes at a time.
 */
export function fileSource(fd: number, from = 0, to = Number.POSITIVE_INFINITY): ByteSource {
  return function* () {
    // Two buffers, in turn: a chunk is read while the last one's unfinished line (forEachLine's
    // carry) may still point into the other. A new buffer a chunk was a page fault every 4 kB
    // written, a second of a 2 GB file's read.
    const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    for (let pos = from, k = 0; pos < to; k ^= 1) {
      const buf = buffers[k] as Buffer;
      const n = readSync(fd, buf, 0, Math.min(CHUNK, to - pos), pos);
      if (n === 0) return;
      pos += n;
      yield n < CHUNK ? buf.subarray(0, n) : buf;
    }
  };
}

/** Calls `line` with each line buf[s, e) of the source, in order; false once it says false. */
export function forEachLine(
  source: ByteSource,
  line: (buf: Buffer, s: number, e: number) => boolean,
): boolean {
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
  return true;
}

/** One line's event, as the fast reader or the JSON.parse path found it. */
export interface LineEvent {
  time: number | undefined;
  type: number;
  proc: number;
  f: number;
  key: string;
  value: Value | undefined;
}

/**
 * A line the fast reader left: JSON.parse, then the checks of every field, each with its
 * message. False for a line that holds no event (blank, or the nemesis's).
 */
export function readSlowly(line: string, file: string, lineNo: number, ev: LineEvent): boolean {
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
