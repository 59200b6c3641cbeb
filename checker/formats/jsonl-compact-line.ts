// The compact parser's line reader (jsonl-compact.ts): one line of a register history read from
// its bytes straight into numbers, the key and the values as indices into the history's tables.
//
// jsonl-line.ts's reader makes a Value of each value (an array for every cas) that the compact
// builder then looks up in a Map; here a scalar becomes its index as it is read (small integers,
// the common values, through an array), and a cas's [from, to] two indices. As jsonl-line.ts, it
// takes only lines it fully understands, a flat JSON object without escapes; anything else is
// left to the caller's slower path (JSON.parse and its checks), which has the last word.

import { type Scalar, ValueTable } from "../compact.js";
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

/** What a line's `value` is, in `kind`. */
export const NO_VALUE = 0;
export const SCALAR = 1;
export const PAIR = 2;
/** A value a compact history does not hold (another array, -0): fine where it is not used. */
export const OTHER = 3;

/** Integers below this have their value index in an array, the others go through the Map. */
const SMALL = 1 << 16;

/** Strings (keys, values) to indices, from their bytes: a history names the same few often. */
export class StringIds {
  readonly strings: string[] = [];
  private readonly byString = new Map<string, number>();
  private table = new Int32Array(1024).fill(-1);
  /** The indices in `table` (strings of ASCII bytes found through it), for rehashing. */
  private readonly tabled: number[] = [];

  /** The index of the string of bytes buf[s, e) (no escapes in it). */
  get(buf: Buffer, s: number, e: number): number {
    const n = e - s;
    let h = 0x811c9dc5;
    let ascii = n <= 32;
    for (let p = s; p < e && ascii; p++) {
      const c = buf[p] as number;
      if (c >= 0x80) ascii = false;
      h = Math.imul(h ^ c, 0x01000193);
    }
    if (!ascii) return this.of(buf.toString("utf8", s, e));
    const table = this.table;
    const mask = table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = table[slot] as number;
      if (id < 0) {
        const made = this.of(buf.toString("latin1", s, e));
        table[slot] = made;
        this.tabled.push(made);
        if (this.tabled.length * 2 > table.length) this.rehash();
        return made;
      }
      const str = this.strings[id] as string;
      if (str.length === n && same(str, buf, s)) return id;
    }
  }

  /** The index of a string, made if new. */
  of(str: string): number {
    let id = this.byString.get(str);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(str);
      this.byString.set(str, id);
    }
    return id;
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2).fill(-1);
    const mask = table.length - 1;
    const buf = Buffer.alloc(32);
    for (const id of this.tabled) {
      const str = this.strings[id] as string;
      const n = buf.write(str, 0, "latin1");
      let h = 0x811c9dc5;
      for (let p = 0; p < n; p++) h = Math.imul(h ^ (buf[p] as number), 0x01000193);
      let slot = h & mask;
      while ((table[slot] as number) >= 0) slot = (slot + 1) & mask;
      table[slot] = id;
    }
    this.table = table;
  }
}

/** Scalars to value indices: the history's ValueTable, with shortcuts for ints and strings. */
export class ValueIds {
  readonly table = new ValueTable();
  private readonly small = new Int32Array(SMALL).fill(-1);
  private readonly strings = new StringIds();
  /** String index (`strings`) -> value index, -1 until known. */
  private stringValue = new Int32Array(64).fill(-1);

  /** The index of a scalar; -1 for -0 (see ValueTable). */
  of(v: Scalar): number {
    // -0 >= 0, but it is not 0 here (ValueTable has no index for it).
    if (typeof v === "number" && v >= 0 && v < SMALL && Number.isInteger(v) && 1 / v > 0) {
      return this.int(v);
    }
    return this.table.of(v);
  }

  int(v: number): number {
    let i = this.small[v] as number;
    if (i < 0) {
      i = this.table.of(v);
      this.small[v] = i;
    }
    return i;
  }

  /** The index of the string value of bytes buf[s, e). */
  string(buf: Buffer, s: number, e: number): number {
    const id = this.strings.get(buf, s, e);
    if (id >= this.stringValue.length) {
      const grown = new Int32Array(Math.max(id + 1, this.stringValue.length * 2)).fill(-1);
      grown.set(this.stringValue);
      this.stringValue = grown;
    }
    let i = this.stringValue[id] as number;
    if (i < 0) {
      i = this.table.of(this.strings.strings[id] as string);
      this.stringValue[id] = i;
    }
    return i;
  }
}

/** Where the last number or value read ended, and what it was (no object per value). */
let after = 0;
let number = 0;
let valueIndex = -1;

/**
 * Reads lines of a register history. After `read` returns true its fields hold that line's
 * event; false: the slower path must read the line.
 */
export class CompactLineReader {
  time = 0;
  timed = false;
  type = 0;
  proc = 0;
  f = 0;
  key = 0;
  kind = NO_VALUE;
  a = -1;
  b = -1;

  constructor(
    readonly keys: StringIds,
    readonly values: ValueIds,
  ) {}

  read(buf: Buffer, start: number, end: number): boolean {
    let timed = false;
    let time = 0;
    let type = -1;
    let f = -1;
    let proc = Number.NaN;
    let key = -1;
    let kind = NO_VALUE;
    let a = -1;
    let b = -1;
    let p = start;
    while (p < end && isSpace(buf[p] as number)) p++;
    if (p >= end || buf[p] !== OPEN_BRACE) return false;
    p++;
    for (;;) {
      while (p < end && isSpace(buf[p] as number)) p++;
      if (p >= end || buf[p] !== QUOTE) return false;
      const ns = p + 1;
      const ne = stringEnd(buf, ns, end);
      if (ne < 0) return false;
      p = ne + 1;
      while (p < end && isSpace(buf[p] as number)) p++;
      if (p >= end || buf[p] !== COLON) return false;
      p++;
      while (p < end && isSpace(buf[p] as number)) p++;
      if (p >= end) return false;
      const c = buf[p] as number;
      const n = ne - ns;
      const c0 = buf[ns] as number;
      if (c === QUOTE) {
        const vs = p + 1;
        const ve = stringEnd(buf, vs, end);
        if (ve < 0) return false;
        p = ve + 1;
        if (
          n === 4 &&
          c0 === 0x74 &&
          buf[ns + 1] === 0x79 &&
          buf[ns + 2] === 0x70 &&
          buf[ns + 3] === 0x65
        ) {
          type = typeCode(buf, vs, ve - vs);
          if (type < 0) return false;
        } else if (n === 1 && c0 === 0x66) {
          f = fCode(buf, vs, ve - vs);
          if (f < 0) return false;
        } else if (n === 3 && c0 === 0x6b && buf[ns + 1] === 0x65 && buf[ns + 2] === 0x79) {
          key = this.keys.get(buf, vs, ve);
        } else if (n === 5 && c0 === 0x76 && same("value", buf, ns)) {
          kind = SCALAR;
          a = this.values.string(buf, vs, ve);
        } else if (isField(n, c0, buf, ns)) {
          // time or process given as a string: the slower path says why not.
          return false;
        }
      } else {
        if (!this.value(buf, p, end)) return false;
        p = after;
        const isValue = n === 5 && c0 === 0x76 && same("value", buf, ns);
        if (isValue) {
          b = -1;
          if (valueIndex === -2) {
            kind = PAIR;
            a = pairA;
            b = pairB;
          } else if (valueIndex === -3) {
            kind = OTHER;
          } else {
            kind = SCALAR;
            a = valueIndex === -4 ? this.numberIndex() : valueIndex;
            // -0: no index (ValueTable); whether that matters is the builder's to say.
            if (a < 0) kind = OTHER;
          }
        } else if (
          n === 4 &&
          c0 === 0x74 &&
          buf[ns + 1] === 0x69 &&
          buf[ns + 2] === 0x6d &&
          buf[ns + 3] === 0x65
        ) {
          if (valueIndex !== -4 || !Number.isFinite(number)) return false;
          timed = true;
          time = number;
        } else if (n === 7 && c0 === 0x70 && same("process", buf, ns)) {
          if (valueIndex !== -4 || !Number.isInteger(number)) return false;
          proc = number;
        } else if (isField(n, c0, buf, ns)) {
          return false;
        }
      }
      while (p < end && isSpace(buf[p] as number)) p++;
      if (p >= end) return false;
      const sep = buf[p] as number;
      p++;
      if (sep === CLOSE_BRACE) break;
      if (sep !== COMMA) return false;
    }
    while (p < end && isSpace(buf[p] as number)) p++;
    if (p !== end || type < 0 || f < 0 || Number.isNaN(proc)) return false;
    // A cas invoke must carry [from, to]; the slower path says so when it does not.
    if (type === 0 && f === 2 && kind !== PAIR) return false;
    this.timed = timed;
    this.time = time;
    this.type = type;
    this.f = f;
    this.proc = proc;
    // No key: "" (as jsonl.ts has it).
    this.key = key < 0 ? this.keys.of("") : key;
    this.kind = kind;
    this.a = a;
    this.b = b;
    return true;
  }

  /**
   * A value that is not a string at `p`: a scalar (its index in `valueIndex`, the number also
   * in `number` with valueIndex -4 when it is one: time and process are numbers), a pair of
   * scalars (-2, in pairA and pairB; a scalar without an index, -0, makes it -3), or another
   * array of scalars (-3). False for anything else (an object, nested arrays, not JSON).
   */
  private value(buf: Buffer, p: number, end: number): boolean {
    const c = buf[p] as number;
    if (c === MINUS || (c >= ZERO && c <= NINE)) {
      const n = readNumber(buf, p, end);
      if (n === undefined) return false;
      number = n;
      after = scanned.end;
      valueIndex = -4;
      return true;
    }
    if (c === OPEN_BRACKET) {
      let count = 0;
      let bad = false;
      p++;
      for (;;) {
        while (p < end && isSpace(buf[p] as number)) p++;
        if (p >= end) return false;
        if (buf[p] === CLOSE_BRACKET && count === 0) break;
        const v = buf[p] as number;
        let index: number;
        if (v === QUOTE) {
          const e = stringEnd(buf, p + 1, end);
          if (e < 0) return false;
          index = this.values.string(buf, p + 1, e);
          p = e + 1;
        } else {
          if (v === OPEN_BRACKET || !this.value(buf, p, end)) return false;
          index = valueIndex === -4 ? this.numberIndex() : valueIndex;
          if (index < 0) bad = true;
          p = after;
        }
        if (count === 0) pairA = index;
        else if (count === 1) pairB = index;
        count++;
        while (p < end && isSpace(buf[p] as number)) p++;
        if (p >= end) return false;
        if (buf[p] === CLOSE_BRACKET) break;
        if (buf[p] !== COMMA) return false;
        p++;
      }
      after = p + 1;
      valueIndex = count === 2 && !bad ? -2 : -3;
      return true;
    }
    if (c === 0x6e && p + 4 <= end && same("null", buf, p)) valueIndex = this.values.of(null);
    else if (c === 0x74 && p + 4 <= end && same("true", buf, p)) valueIndex = this.values.of(true);
    else if (c === 0x66 && p + 5 <= end && same("false", buf, p))
      valueIndex = this.values.of(false);
    else return false;
    after = p + (c === 0x66 ? 5 : 4);
    return true;
  }

  /** The value index of `number`; -1 for -0. */
  private numberIndex(): number {
    const v = number;
    return v >= 0 && v < SMALL && v === Math.floor(v) && !(v === 0 && 1 / v < 0)
      ? this.values.int(v)
      : this.values.of(v);
  }
}

let pairA = -1;
let pairB = -1;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** Whether the field is one whose value the reader checks (time, process, type, f, key). */
function isField(n: number, c0: number, buf: Buffer, s: number): boolean {
  if (n === 4 && c0 === 0x74) return same("time", buf, s) || same("type", buf, s);
  if (n === 1) return c0 === 0x66;
  if (n === 3) return same("key", buf, s);
  if (n === 7) return same("process", buf, s);
  return false;
}

function typeCode(buf: Buffer, s: number, n: number): number {
  if (n === 6 && same("invoke", buf, s)) return 0;
  if (n === 2 && buf[s] === 0x6f && buf[s + 1] === 0x6b) return 1;
  if (n === 4 && same("fail", buf, s)) return 2;
  if (n === 4 && same("info", buf, s)) return 3;
  return -1;
}

/** read, write, cas; -1 for anything else (add and read-all are not a register's). */
function fCode(buf: Buffer, s: number, n: number): number {
  if (n === 4 && same("read", buf, s)) return 0;
  if (n === 5 && same("write", buf, s)) return 1;
  if (n === 3 && same("cas", buf, s)) return 2;
  return -1;
}
