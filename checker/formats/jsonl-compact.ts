// The jsonl parser's first try: events straight into a CompactHistory (compact.ts), no object
// per operation. It takes only what the typed arrays hold (read, write, cas of scalars) in a
// file in time order whose events pair up; anything else (a set history, a value that is an
// array or an object, time going backwards, an event that does not pair) gives up, and the
// object parser (jsonl.ts) reads the file from the start, with its messages for the errors.

import { CAS, CompactHistory, READ, ValueTable, WRITE } from "../compact.js";
import type { Value } from "../history.js";

const INVOKE = 0;
const OK = 1;
const FAIL = 2;
/** Processes below this have their open call in an array; the rest (rare) in a Map. */
const DENSE_PROCESSES = 1 << 22;

/** Growable typed columns of the operations, in call order (slots, as pairing.ts has them). */
class Columns {
  size = 0;
  clientId = new Float64Array(1024);
  call = new Float64Array(1024);
  ret = new Float64Array(1024);
  f = new Uint8Array(1024);
  key = new Int32Array(1024);
  a = new Int32Array(1024);
  b = new Int32Array(1024);
  /** 0: no output (yet), 1: returned ok, 2: failed (left out at the end). */
  state = new Uint8Array(1024);

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

/** Builds a compact history event by event; `event` false: this history is not for it. */
export class CompactBuilder {
  private readonly cols = new Columns();
  private readonly keyIndex = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly values = new ValueTable();
  /** process -> its open slot + 1 (0: none), for processes below DENSE_PROCESSES. */
  private dense = new Int32Array(64);
  private readonly sparse = new Map<number, number>();
  private last = Number.NEGATIVE_INFINITY;
  private failed = 0;

  event(
    time: number,
    type: number,
    proc: number,
    f: number,
    key: string,
    value: Value | undefined,
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
      let k = this.keyIndex.get(key);
      if (k === undefined) {
        k = this.keys.length;
        this.keys.push(key);
        this.keyIndex.set(key, k);
      }
      c.key[slot] = k;
      c.a[slot] = -1;
      if (f === WRITE) {
        const v = this.values.of(value ?? null);
        if (v < 0) return false;
        c.a[slot] = v;
      } else if (f === CAS) {
        // The line reader checked that a cas invoke's value is [from, to].
        const pair = value as Value[];
        const from = this.values.of(pair[0] as Value);
        const to = this.values.of(pair[1] as Value);
        if (from < 0 || to < 0) return false;
        c.a[slot] = from;
        c.b[slot] = to;
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
        const v = this.values.of(value ?? null);
        if (v < 0) return false;
        c.a[slot] = v;
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
    const clientId = new Float64Array(n);
    const call = new Float64Array(n);
    const ret = new Float64Array(n);
    const f = new Uint8Array(n);
    const key = new Int32Array(n);
    const a = new Int32Array(n);
    const b = new Int32Array(n);
    const known = new Uint8Array(n);
    let j = 0;
    for (let i = 0; i < c.size; i++) {
      const state = c.state[i] as number;
      if (state === 2) continue;
      clientId[j] = c.clientId[i] as number;
      call[j] = c.call[i] as number;
      ret[j] = c.ret[i] as number;
      f[j] = c.f[i] as number;
      key[j] = c.key[i] as number;
      a[j] = c.a[i] as number;
      b[j] = c.b[i] as number;
      known[j] = state;
      j++;
    }
    return new CompactHistory(n, clientId, call, ret, f, key, a, b, known, this.keys, [
      ...this.values.values,
    ]);
  }

  /** How many distinct keys the history has so far. */
  get keyCount(): number {
    return this.keys.length;
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
