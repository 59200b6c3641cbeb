// The jsonl parser's first try: events straight into a CompactHistory (compact.ts), no object
// per operation. It takes only what the typed arrays hold (read, write, cas of scalars) in a
// file in time order whose events pair up; anything else (a set history, a value that is an
// array or an object, time going backwards, an event that does not pair) gives up, and the
// object parser (jsonl.ts) reads the file from the start, with its messages for the errors.

import { CAS, CompactHistory, READ, type Scalar, WRITE } from "../compact.js";
import type { Value } from "../history.js";
import {
  CompactLineReader,
  NO_VALUE,
  OTHER,
  PAIR,
  SCALAR,
  StringIds,
  ValueIds,
} from "./jsonl-compact-line.js";
import { type ByteSource, forEachLine, type LineEvent, readSlowly } from "./jsonl-scan.js";

const INVOKE = 0;
const OK = 1;
const FAIL = 2;
/** Processes below this have their open call in an array; the rest (rare) in a Map. */
const DENSE_PROCESSES = 1 << 22;

/** Growable typed columns of the operations, in call order (slots, as pairing.ts has them). */
class Columns {
  size = 0;
  clientId: Float64Array;
  call: Float64Array;
  ret: Float64Array;
  f: Uint8Array;
  key: Int32Array;
  a: Int32Array;
  b: Int32Array;
  /** 0: no output (yet), 1: returned ok, 2: failed (left out at the end). */
  state: Uint8Array;

  /**
   * `capacity`: the operations expected. Growing by doubling copied a 10,000,000-op history's
   * columns several times over (most of a second); pages of a typed array never written cost
   * no memory, so an estimate on the high side is cheap.
   */
  constructor(capacity = 1024) {
    const n = Math.max(1024, Math.ceil(capacity));
    this.clientId = new Float64Array(n);
    this.call = new Float64Array(n);
    this.ret = new Float64Array(n);
    this.f = new Uint8Array(n);
    this.key = new Int32Array(n);
    this.a = new Int32Array(n);
    this.b = new Int32Array(n);
    this.state = new Uint8Array(n);
  }

  /** A new slot; its index. */
  push(): number {
    if (this.size === this.call.length) this.grow();
    return this.size++;
  }

  private grow(): void {
    const n = this.call.length * 2;
    const more = <T extends Float64Array | Int32Array | Uint8Array>(old: T, made: T): T => {
      made.set(old);
      return made;
    };
    this.clientId = more(this.clientId, new Float64Array(n));
    this.call = more(this.call, new Float64Array(n));
    this.ret = more(this.ret, new Float64Array(n));
    this.f = more(this.f, new Uint8Array(n));
    this.key = more(this.key, new Int32Array(n));
    this.a = more(this.a, new Int32Array(n));
    this.b = more(this.b, new Int32Array(n));
    this.state = more(this.state, new Uint8Array(n));
  }
}

/**
 * Reads a register history into a builder; undefined when it is not one the builder takes.
 * Throws the HistoryError of a bad line (the caller leaves it to the object parser to say).
 */
export function readCompact(source: ByteSource, file: string): CompactBuilder | undefined {
  const reading = new CompactReading(file);
  return reading.feed(source) ? reading.done() : undefined;
}

/** A history read line by line into a builder, from one or more stretches of its bytes. */
export class CompactReading {
  readonly builder: CompactBuilder;
  private readonly reader: CompactLineReader;
  private readonly slow: LineEvent = {
    time: undefined,
    type: 0,
    proc: 0,
    f: 0,
    key: "",
    value: undefined,
  };
  private timed = 0;
  private untimed = false;
  private lineNo = 0;

  /** `capacity`: the operations expected, if known (CompactBuilder). */
  constructor(
    private readonly file: string,
    capacity?: number,
  ) {
    this.builder = new CompactBuilder(capacity);
    this.reader = new CompactLineReader(this.builder.keys, this.builder.values);
  }

  /** Reads the lines of `source`, after those read so far; false: not for a compact history. */
  feed(source: ByteSource): boolean {
    return forEachLine(source, (buf, s, e) => this.line(buf, s, e));
  }

  /**
   * Events read elsewhere (a worker thread, jsonl-split.ts), after those read so far: their
   * keys and values are indices into `keys` and `values`, the tables they were read with.
   */
  events(
    e: EventColumns,
    keys: readonly string[],
    values: readonly Scalar[],
    lines: number,
  ): boolean {
    const b = this.builder;
    const keyOf = Int32Array.from(keys, (k) => b.keys.of(k));
    const valueIndex = Int32Array.from(values, (v) => b.values.of(v));
    for (let i = 0; i < e.size; i++) {
      const kind = e.kind[i] as number;
      const a = e.a[i] as number;
      const v = e.b[i] as number;
      const ok = b.add(
        e.time[i] as number,
        e.type[i] as number,
        e.proc[i] as number,
        e.f[i] as number,
        keyOf[e.key[i] as number] as number,
        kind,
        a >= 0 ? (valueIndex[a] as number) : a,
        v >= 0 ? (valueIndex[v] as number) : v,
      );
      if (!ok) return false;
    }
    this.timed += e.size;
    this.lineNo += lines;
    return true;
  }

  /** The builder, once every line is read; undefined if it is not a compact history. */
  done(): CompactBuilder | undefined {
    // Lines with a time and lines without: the object parser says which line.
    return this.timed > 0 && this.untimed ? undefined : this.builder;
  }

  private line(buf: Buffer, s: number, e: number): boolean {
    const r = this.reader;
    const lineNo = ++this.lineNo;
    if (r.read(buf, s, e)) {
      if (r.timed) this.timed++;
      else this.untimed = true;
      return this.builder.add(
        r.timed ? r.time : lineNo,
        r.type,
        r.proc,
        r.f,
        r.key,
        r.kind,
        r.a,
        r.b,
      );
    }
    const slow = this.slow;
    if (!readSlowly(buf.toString("utf8", s, e), this.file, lineNo, slow)) return true;
    if (slow.time === undefined) this.untimed = true;
    else this.timed++;
    return this.builder.event(
      slow.time ?? lineNo,
      slow.type,
      slow.proc,
      slow.f,
      slow.key,
      slow.value,
    );
  }
}

/** Events as a worker thread reads them (jsonl-split-worker.ts): one array a field. */
export interface EventColumns {
  size: number;
  time: Float64Array;
  proc: Float64Array;
  type: Uint8Array;
  f: Uint8Array;
  key: Int32Array;
  kind: Uint8Array;
  a: Int32Array;
  b: Int32Array;
}

/** Builds a compact history event by event; `add` false: this history is not for it. */
export class CompactBuilder {
  readonly keys = new StringIds();
  readonly values = new ValueIds();
  private readonly cols: Columns;
  /** process -> its open slot + 1 (0: none), for processes below DENSE_PROCESSES. */
  private dense = new Int32Array(64);
  private readonly sparse = new Map<number, number>();
  private last = Number.NEGATIVE_INFINITY;
  private failed = 0;
  /** The key of the first invoke, and whether another invoke names another key. */
  private firstKey = -1;
  manyKeys = false;

  /** `capacity`: the operations expected (Columns). */
  constructor(capacity?: number) {
    this.cols = new Columns(capacity);
  }

  /** An event as the JSON.parse path read it (its value a Value). */
  event(
    time: number,
    type: number,
    proc: number,
    f: number,
    key: string,
    value: Value | undefined,
  ): boolean {
    let kind = NO_VALUE;
    let a = -1;
    let b = -1;
    if (value !== undefined) {
      kind = OTHER;
      if (Array.isArray(value)) {
        if (value.length === 2 && isScalar(value[0]) && isScalar(value[1])) {
          a = this.values.of(value[0]);
          b = this.values.of(value[1]);
          if (a >= 0 && b >= 0) kind = PAIR;
        }
      } else if (isScalar(value)) {
        a = this.values.of(value);
        if (a >= 0) kind = SCALAR;
      }
    }
    return this.add(time, type, proc, f, this.keys.of(key), kind, a, b);
  }

  /** An event: its key an index into `keys`, its value `kind` (a, b: indices into `values`). */
  add(
    time: number,
    type: number,
    proc: number,
    f: number,
    key: number,
    kind: number,
    a: number,
    b: number,
  ): boolean {
    if (time < this.last || f > CAS) return false;
    this.last = time;
    const c = this.cols;
    if (type === INVOKE) {
      if (this.openOf(proc) >= 0) return false;
      const slot = c.push();
      c.clientId[slot] = proc;
      c.call[slot] = time;
      c.ret[slot] = Number.POSITIVE_INFINITY;
      c.f[slot] = f;
      c.state[slot] = 0;
      c.key[slot] = key;
      if (this.firstKey < 0) this.firstKey = key;
      else if (key !== this.firstKey) this.manyKeys = true;
      c.a[slot] = -1;
      if (f === WRITE) {
        // A write without a value writes null, as jsonl.ts has it.
        if (kind !== SCALAR && kind !== NO_VALUE) return false;
        c.a[slot] = kind === SCALAR ? a : this.values.of(null);
      } else if (f === CAS) {
        if (kind !== PAIR) return false;
        c.a[slot] = a;
        c.b[slot] = b;
      }
      this.setOpen(proc, slot);
      return true;
    }
    const slot = this.openOf(proc);
    if (slot < 0 || c.f[slot] !== f) return false;
    this.setOpen(proc, -1);
    if (type === OK) {
      c.state[slot] = 1;
      c.ret[slot] = time;
      if (f === READ) {
        if (kind !== SCALAR && kind !== NO_VALUE) return false;
        c.a[slot] = kind === SCALAR ? a : this.values.of(null);
      }
    } else if (type === FAIL) {
      c.state[slot] = 2;
      this.failed++;
    }
    // info: the output stays unknown and the return Infinity; the op may yet take effect.
    return true;
  }

  /** The history: failed calls left out; calls still open never returned (Infinity). */
  finish(): CompactHistory {
    const c = this.cols;
    const n = c.size - this.failed;
    const { clientId, call, ret, f, key, a, b, state } = c;
    // Failed calls leave in place (j <= i), and the columns are views of the first n slots:
    // copying them into arrays of their own doubled the memory of a big history for a while.
    let j = 0;
    for (let i = 0; i < c.size; i++) {
      const s = state[i] as number;
      if (s === 2) continue;
      if (j !== i) {
        clientId[j] = clientId[i] as number;
        call[j] = call[i] as number;
        ret[j] = ret[i] as number;
        f[j] = f[i] as number;
        key[j] = key[i] as number;
        a[j] = a[i] as number;
        b[j] = b[i] as number;
        state[j] = s;
      }
      j++;
    }
    const view = <T extends Float64Array | Int32Array | Uint8Array>(x: T): T =>
      x.subarray(0, n) as T;
    return new CompactHistory(
      n,
      view(clientId),
      view(call),
      view(ret),
      view(f),
      view(key),
      view(a),
      view(b),
      // What is left of the states is 0 (no output known) or 1 (ok): `known`.
      view(state),
      this.keys.strings,
      [...this.values.table.values],
    );
  }

  private openOf(proc: number): number {
    if (proc >= 0 && proc < DENSE_PROCESSES) {
      return proc < this.dense.length ? (this.dense[proc] as number) - 1 : -1;
    }
    return this.sparse.get(proc) ?? -1;
  }

  private setOpen(proc: number, slot: number): void {
    if (proc >= 0 && proc < DENSE_PROCESSES) {
      if (proc >= this.dense.length) {
        const grown = new Int32Array(Math.max(proc + 1, this.dense.length * 2));
        grown.set(this.dense);
        this.dense = grown;
      }
      this.dense[proc] = slot + 1;
    } else if (slot < 0) this.sparse.delete(proc);
    else this.sparse.set(proc, slot);
  }
}

function isScalar(v: Value | undefined): v is Scalar {
  return v === null || (typeof v !== "object" && v !== undefined);
}
