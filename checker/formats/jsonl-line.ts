// The fast path of the jsonl parser: one line read straight from its UTF-8 bytes into the fields
// the checker needs, without building an object per line (JSON.parse of a million lines, and the
// garbage it leaves, was most of the time of checking a big history).
//
// It accepts only lines it fully understands: a flat JSON object whose fields are valid as
// jsonl.ts requires, with no escapes in its strings and no objects among its values. Anything
// else (a nemesis line, an error of any kind) is left to JSON.parse and jsonl.ts's checks, so
// messages and edge cases stay those of the JSON.parse path.

import type { Value } from "../history.js";
import {
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COLON,
  COMMA,
  MINUS,
  NINE,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
  readNumber,
  same,
  scanned,
  stringEnd,
  ZERO,
} from "./json-bytes.js";

/** The fields of a line, by the name's first letter and length (then checked in full). */
enum Field {
  Other,
  Time,
  Process,
  Type,
  F,
  Key,
  Value,
}

/** Event types and functions, as jsonl.ts numbers them. */
export const TYPE_CODES: Readonly<Record<string, number>> = { invoke: 0, ok: 1, fail: 2, info: 3 };
export const F_CODES: Readonly<Record<string, number>> = {
  read: 0,
  write: 1,
  cas: 2,
  add: 3,
  "read-all": 4,
};
const INVOKE = 0;
const OK = 1;
const CAS = 2;
const READ_ALL = 4;

/** What a value reader returns for input it does not handle (the line goes to JSON.parse). */
const NOT_MINE: unique symbol = Symbol("not-mine");
/** Where the last value read ended: the readers' second result (no object per value). */
let after = 0;

/**
 * Reads lines of a jsonl history. After `read` returns true its fields hold that line's event.
 * Written for speed: positions in locals, no call per byte, nothing thrown.
 */
export class LineReader {
  time: number | undefined = undefined;
  type = 0;
  proc = 0;
  f = 0;
  key = "";
  value: Value | undefined = undefined;
  private readonly strings = new Interner();

  /** Reads the line `buf[start, end)`; false when the JSON.parse path must read it instead. */
  read(buf: Buffer, start: number, end: number): boolean {
    let time: number | undefined;
    let key = "";
    let value: Value | undefined;
    let type = -1;
    let f = -1;
    let proc = Number.NaN;
    let p = skip(buf, start, end);
    if (buf[p] !== OPEN_BRACE || p >= end) return false;
    p = skip(buf, p + 1, end);
    for (;;) {
      if (p >= end || buf[p] !== QUOTE) return false;
      const s = p + 1;
      const e = stringEnd(buf, s, end);
      if (e < 0) return false;
      const field = fieldOf(buf, s, e - s);
      p = skip(buf, e + 1, end);
      if (buf[p] !== COLON || p >= end) return false;
      p = skip(buf, p + 1, end);
      if (field === Field.Type || field === Field.F) {
        if (buf[p] !== QUOTE) return false;
        const vs = p + 1;
        const ve = stringEnd(buf, vs, end);
        if (ve < 0) return false;
        const code = field === Field.Type ? typeCode(buf, vs, ve - vs) : fCode(buf, vs, ve - vs);
        if (code < 0) return false;
        if (field === Field.Type) type = code;
        else f = code;
        p = ve + 1;
      } else {
        const v = readValue(buf, p, end, this.strings);
        if (v === NOT_MINE) return false;
        p = after;
        switch (field) {
          case Field.Time:
            if (typeof v !== "number" || !Number.isFinite(v)) return false;
            time = v;
            break;
          case Field.Process:
            if (typeof v !== "number" || !Number.isInteger(v)) return false;
            proc = v;
            break;
          case Field.Key:
            if (typeof v === "string") key = v;
            else if (typeof v === "number") key = String(v);
            else return false;
            break;
          case Field.Value:
            value = v;
            break;
        }
      }
      p = skip(buf, p, end);
      if (p >= end) return false;
      const b = buf[p];
      p = skip(buf, p + 1, end);
      if (b === CLOSE_BRACE) break;
      if (b !== COMMA) return false;
    }
    if (p !== end || type < 0 || f < 0 || Number.isNaN(proc)) return false;
    if (type === INVOKE && f === CAS && !(Array.isArray(value) && value.length === 2)) return false;
    if (type === OK && f === READ_ALL && !Array.isArray(value)) return false;
    this.time = time;
    this.type = type;
    this.f = f;
    this.proc = proc;
    this.key = key;
    this.value = value;
    return true;
  }
}

/** The first position from `p` that is not JSON whitespace. */
function skip(buf: Buffer, p: number, end: number): number {
  while (p < end) {
    const c = buf[p] as number;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return p;
    p++;
  }
  return p;
}

function fieldOf(buf: Buffer, s: number, n: number): Field {
  const c = buf[s];
  if (n === 4 && c === 0x74) {
    if (buf[s + 1] === 0x69 && buf[s + 2] === 0x6d && buf[s + 3] === 0x65) return Field.Time;
    if (buf[s + 1] === 0x79 && buf[s + 2] === 0x70 && buf[s + 3] === 0x65) return Field.Type;
    return Field.Other;
  }
  if (n === 1 && c === 0x66) return Field.F;
  if (n === 3 && c === 0x6b && buf[s + 1] === 0x65 && buf[s + 2] === 0x79) return Field.Key;
  if (n === 7 && c === 0x70 && same("process", buf, s)) return Field.Process;
  if (n === 5 && c === 0x76 && same("value", buf, s)) return Field.Value;
  return Field.Other;
}

/** TYPE_CODES of the string buf[s, s+n); -1 if none. */
function typeCode(buf: Buffer, s: number, n: number): number {
  if (n === 6 && same("invoke", buf, s)) return 0;
  if (n === 2 && buf[s] === 0x6f && buf[s + 1] === 0x6b) return 1;
  if (n === 4 && same("fail", buf, s)) return 2;
  if (n === 4 && same("info", buf, s)) return 3;
  return -1;
}

/** F_CODES of the string buf[s, s+n); -1 if none. */
function fCode(buf: Buffer, s: number, n: number): number {
  if (n === 4 && same("read", buf, s)) return 0;
  if (n === 5 && same("write", buf, s)) return 1;
  if (n === 3 && same("cas", buf, s)) return 2;
  if (n === 3 && same("add", buf, s)) return 3;
  if (n === 8 && same("read-all", buf, s)) return 4;
  return -1;
}

/** A JSON value without objects or escapes at `p`, its end in `after`; else NOT_MINE. */
function readValue(
  buf: Buffer,
  p: number,
  end: number,
  strings: Interner,
): Value | typeof NOT_MINE {
  const c = buf[p] as number;
  if (p >= end) return NOT_MINE;
  if (c === QUOTE) {
    const e = stringEnd(buf, p + 1, end);
    if (e < 0) return NOT_MINE;
    after = e + 1;
    return strings.get(buf, p + 1, e);
  }
  if (c === MINUS || (c >= ZERO && c <= NINE)) {
    const n = readNumber(buf, p, end);
    if (n === undefined) return NOT_MINE;
    after = scanned.end;
    return n;
  }
  if (c === OPEN_BRACKET) {
    const items: Value[] = [];
    p = skip(buf, p + 1, end);
    if (buf[p] === CLOSE_BRACKET && p < end) {
      after = p + 1;
      return items;
    }
    for (;;) {
      const v = readValue(buf, p, end, strings);
      if (v === NOT_MINE) return NOT_MINE;
      items.push(v);
      p = skip(buf, after, end);
      if (p >= end) return NOT_MINE;
      const b = buf[p];
      if (b === CLOSE_BRACKET) {
        after = p + 1;
        return items;
      }
      if (b !== COMMA) return NOT_MINE;
      p = skip(buf, p + 1, end);
    }
  }
  if (c === 0x6e && p + 4 <= end && same("null", buf, p)) {
    after = p + 4;
    return null;
  }
  if (c === 0x74 && p + 4 <= end && same("true", buf, p)) {
    after = p + 4;
    return true;
  }
  if (c === 0x66 && p + 5 <= end && same("false", buf, p)) {
    after = p + 5;
    return false;
  }
  // An object, or not JSON at all (what follows a literal is checked by the caller).
  return NOT_MINE;
}

/**
 * Strings of few bytes (keys, types, f) made once each: a history of a million lines names the
 * same thousand keys over and over.
 */
class Interner {
  private table: (string | undefined)[] = new Array(1024);
  private count = 0;

  get(buf: Buffer, s: number, e: number): string {
    const n = e - s;
    if (n > 24) return buf.toString("utf8", s, e);
    let h = 0x811c9dc5;
    let ascii = true;
    for (let p = s; p < e; p++) {
      const c = buf[p] as number;
      if (c >= 0x80) ascii = false;
      h = Math.imul(h ^ c, 0x01000193);
    }
    if (!ascii) return buf.toString("utf8", s, e);
    const mask = this.table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const str = this.table[slot];
      if (str === undefined) {
        const made = buf.toString("latin1", s, e);
        this.table[slot] = made;
        if (++this.count * 2 > this.table.length) this.grow();
        return made;
      }
      if (str.length === n && same(str, buf, s)) return str;
    }
  }

  private grow(): void {
    const old = this.table;
    this.table = new Array(old.length * 2);
    this.count = 0;
    const buf = Buffer.alloc(24);
    for (const str of old) {
      if (str === undefined) continue;
      const n = buf.write(str, 0, "latin1");
      this.get(buf, 0, n);
    }
  }
}
