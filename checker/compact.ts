// A register history (read, write, cas on scalar values) in typed arrays, one slot an operation.
//
// A million-operation history held as objects was two objects an operation (~270 bytes), and
// building, keeping and collecting them was most of the time of checking it. Here an operation
// is a few numbers: its times, its client, its function, its key and values as indices into
// tables of distinct keys and values (a history names the same thousand keys and a few values
// over and over). Values are scalars only, interned so that equal values share an index:
// equality of states is then equality of indices (register-int.ts). Operation objects are made
// only when something asks for them (`ops`, `opsOf`: a report, a witness, a worker thread).

import { CAS_OK, NOTHING } from "./formats/pairing.js";
import type { HistoryOp, OpInput, OpOutput, Value } from "./history.js";
import { UNKNOWN } from "./model.js";

/** The functions of a compact history (jsonl's codes). */
export const READ = 0;
export const WRITE = 1;
export const CAS = 2;

/** A scalar a compact history can intern: what a register holds in most histories. */
export type Scalar = null | boolean | number | string;

export class CompactHistory {
  constructor(
    /** Operations, in call order. */
    readonly length: number,
    readonly clientId: Float64Array,
    readonly call: Float64Array,
    /** Infinity for an operation that never returned, or whose output is unknown. */
    readonly ret: Float64Array,
    /** READ, WRITE or CAS. */
    readonly f: Uint8Array,
    /** Index into `keys`. */
    readonly key: Int32Array,
    /** Index into `values`: what a write writes, what a cas expects, what a read returned. */
    readonly a: Int32Array,
    /** Index into `values`: what a cas writes. */
    readonly b: Int32Array,
    /** 1 when the output is known (ok), 0 when not (info, no return). */
    readonly known: Uint8Array,
    readonly keys: readonly string[],
    /** Distinct values, each once (0 and -0 are not both here: see ValueTable). */
    readonly values: readonly Scalar[],
  ) {}

  private made: HistoryOp[] | undefined;

  /**
   * The operations at `indices` (in that order) as a history of their own, for a worker thread
   * (its arrays are copied by postMessage; the tables are this history's).
   */
  subset(indices: ArrayLike<number>): CompactWire {
    const pick = <T extends Float64Array | Int32Array | Uint8Array>(x: T, made: T): T => {
      for (let j = 0; j < indices.length; j++) made[j] = x[indices[j] as number] as number;
      return made;
    };
    const n = indices.length;
    return {
      length: n,
      clientId: pick(this.clientId, new Float64Array(n)),
      call: pick(this.call, new Float64Array(n)),
      ret: pick(this.ret, new Float64Array(n)),
      f: pick(this.f, new Uint8Array(n)),
      key: pick(this.key, new Int32Array(n)),
      a: pick(this.a, new Int32Array(n)),
      b: pick(this.b, new Int32Array(n)),
      known: pick(this.known, new Uint8Array(n)),
      keys: this.keys,
      values: this.values,
    };
  }

  /** A history from what `subset` made (after postMessage). */
  static of(w: CompactWire): CompactHistory {
    return new CompactHistory(
      w.length,
      w.clientId,
      w.call,
      w.ret,
      w.f,
      w.key,
      w.a,
      w.b,
      w.known,
      w.keys,
      w.values,
    );
  }

  /** Every operation as an object, made once (as the object parsers would have made them). */
  ops(): HistoryOp[] {
    this.made ??= this.opsOf(undefined);
    return this.made;
  }

  /** The operations at `indices` (all of them when undefined), as objects. */
  opsOf(indices: ArrayLike<number> | undefined): HistoryOp[] {
    const n = indices === undefined ? this.length : indices.length;
    const out: HistoryOp[] = new Array(n);
    for (let j = 0; j < n; j++)
      out[j] = this.op(indices === undefined ? j : (indices[j] as number));
    return out;
  }

  private op(i: number): HistoryOp {
    const key = this.keys[this.key[i] as number] as string;
    const a = this.values[this.a[i] as number] as Value;
    let input: OpInput;
    // Outputs that carry nothing of their own are the parsers' shared ones (pairing.ts).
    let output: OpOutput;
    switch (this.f[i]) {
      case READ:
        input = { f: "read", key };
        output = { value: a };
        break;
      case WRITE:
        input = { f: "write", key, value: a };
        output = NOTHING;
        break;
      default:
        input = { f: "cas", key, from: a, to: this.values[this.b[i] as number] as Value };
        output = CAS_OK;
    }
    return {
      clientId: this.clientId[i] as number,
      input,
      call: this.call[i] as number,
      output: this.known[i] === 1 ? output : UNKNOWN,
      return: this.ret[i] as number,
    };
  }
}

/** A compact history as plain data, as it crosses to a worker thread. */
export interface CompactWire {
  length: number;
  clientId: Float64Array;
  call: Float64Array;
  ret: Float64Array;
  f: Uint8Array;
  key: Int32Array;
  a: Int32Array;
  b: Int32Array;
  known: Uint8Array;
  keys: readonly string[];
  values: readonly Scalar[];
}

/** Scalars to indices, equal values to the same index. */
export class ValueTable {
  readonly values: Scalar[] = [];
  private readonly index = new Map<Scalar, number>();

  /** The index of `v`; -1 for what a compact history does not hold (arrays, objects, -0). */
  of(v: Value): number {
    if (typeof v === "object" && v !== null) return -1;
    // A Map takes -0 for 0; valueEqual does too, but a report would then print the other one.
    if (v === 0 && 1 / v < 0) return -1;
    let i = this.index.get(v);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(v);
      this.index.set(v, i);
    }
    return i;
  }
}
