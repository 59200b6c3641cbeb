// A compact history (compact.ts) made ready for the check against a register model
// (`cas-register`, `kv`), without an object per operation.
//
// Partitions are by key, as partitionByKey makes them (in the order of each key's first
// operation, each in call order), as index arrays. The search (search.ts, the same as for any
// model) gets a model of its own over the typed arrays: a state is the index of a value in the
// history's table, an input the index of an operation. Values are interned, so two states are
// equal exactly when their indices are, as valueEqual has it for scalars; what this model
// accepts is what the register model accepts (models/register.ts). A partition's operations are
// made as objects only when asked for (a report, a witness, a worker thread).

import { CAS, type CompactHistory, READ, type Scalar, WRITE } from "./compact.js";
import type { OpInput, OpOutput, Value } from "./history.js";
import type { Model, Partition, StepResult } from "./model.js";
import { UNKNOWN } from "./model.js";
import type { PreparedHistory, SearchSource } from "./scheduler.js";
import { validate } from "./scheduler.js";
import { PartitionSearch, type SearchColumns } from "./search.js";

/** The output the search is given for an operation whose output is known (which one is in `a`). */
const KNOWN = 0;

/**
 * The history ready for the register model with this initial value; undefined when the initial
 * value is not a scalar the table can hold (the caller checks the operation objects instead).
 */
export function prepareCompact(
  h: CompactHistory,
  initial: Value | undefined,
): PreparedHistory<OpInput, OpOutput> | undefined {
  const init = initialIndex(h.values, initial ?? null);
  if (init < 0) return undefined;
  const { call, ret } = h;
  for (let i = 0; i < h.length; i++) validate(call[i] as number, ret[i] as number, i);
  const model = intModel(h, init);
  const { part, starts, labels } = byKey(h);
  const { order, cols } = layOut(h, part, starts);
  const partitions: Partition<OpInput, OpOutput>[] = [];
  const sources: SearchSource[] = [];
  for (let p = 0; p < labels.length; p++) {
    const indices = order.subarray(starts[p] as number, starts[p + 1] as number);
    let ops: ReturnType<CompactHistory["opsOf"]> | undefined;
    let origin: number[] | undefined;
    partitions.push({
      label: labels[p] as string,
      get ops() {
        ops ??= h.opsOf(indices);
        return ops;
      },
      get origin() {
        origin ??= Array.from(indices);
        return origin;
      },
    });
    sources.push({
      size: indices.length,
      start: (options) => new PartitionSearch(model, cols.of(p), options),
      portable: () => h.subset(indices),
    });
  }
  return { ops: h.length, partitions, sources };
}

/** The index of the initial value, or a new one past the table when no operation has it. */
function initialIndex(values: readonly Scalar[], initial: Value): number {
  if (typeof initial === "object" && initial !== null) return -1;
  if (initial === 0 && 1 / initial < 0) return -1;
  const i = values.indexOf(initial);
  return i >= 0 ? i : values.length;
}

/**
 * Each operation's partition (its key's, the keys numbered in the order of their first
 * operation), and where each partition starts once they are laid out one after the other.
 */
function byKey(h: CompactHistory): { part: Int32Array; starts: Int32Array; labels: string[] } {
  const n = h.length;
  const key = h.key;
  // Key index -> partition number, in order of first operation (a failed call left out may
  // have been a key's first event, so the keys' table order is not always this one).
  const partOf = new Int32Array(h.keys.length).fill(-1);
  const labels: string[] = [];
  const counts: number[] = [];
  const part = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = key[i] as number;
    let p = partOf[k] as number;
    if (p < 0) {
      p = labels.length;
      partOf[k] = p;
      labels.push(h.keys[k] as string);
      counts.push(0);
    }
    part[i] = p;
    counts[p] = (counts[p] as number) + 1;
  }
  const starts = new Int32Array(labels.length + 1);
  for (let p = 0; p < labels.length; p++)
    starts[p + 1] = (starts[p] as number) + (counts[p] as number);
  return { part, starts, labels };
}

/**
 * The operations' indices partition after partition (each in call order), and every
 * partition's columns for the search, an unknown read left out (as columnsOf does), in one pass
 * over the history in its order: gathering each partition's from the history's arrays was a
 * cache miss per operation and array (a key's operations are spread over the whole history).
 */
function layOut(h: CompactHistory, part: Int32Array, starts: Int32Array) {
  const n = h.length;
  const parts = starts.length - 1;
  const { call, ret, known, f } = h;
  const order = new Int32Array(n);
  const included = new Int32Array(n);
  const calls = new Float64Array(n);
  const returns = new Float64Array(n);
  const op = new Int32Array(n);
  /** Per partition: the next place in `order`, and in the search's columns. */
  const next = starts.slice(0, parts);
  const nextTaken = starts.slice(0, parts);
  for (let i = 0; i < n; i++) {
    const p = part[i] as number;
    const at = next[p] as number;
    next[p] = at + 1;
    order[at] = i;
    if (known[i] === 0 && f[i] === READ) continue;
    const k = nextTaken[p] as number;
    nextTaken[p] = k + 1;
    included[k] = at - (starts[p] as number);
    calls[k] = call[i] as number;
    returns[k] = ret[i] as number;
    op[k] = i;
  }
  const cols = {
    of(p: number): SearchColumns<number, number> {
      const s = starts[p] as number;
      const e = nextTaken[p] as number;
      const outputs: (number | typeof UNKNOWN)[] = new Array(e - s);
      for (let k = s; k < e; k++) outputs[k - s] = known[op[k] as number] === 1 ? KNOWN : UNKNOWN;
      return {
        included: included.subarray(s, e),
        calls: calls.subarray(s, e),
        returns: returns.subarray(s, e),
        inputs: op.subarray(s, e),
        outputs,
      };
    },
  };
  return { order, cols };
}

/**
 * The register model over the typed arrays: a state is a value's index, an input an
 * operation's. Only the search uses it; reports describe the operation objects with the real
 * model, so the descriptions here are for debugging only.
 */
function intModel(h: CompactHistory, init: number): Model<number, number, number> {
  const { f, a, b } = h;
  // One result object, filled at each step: the search reads it at once and keeps only the
  // state (a number), and a step is the search's hottest call.
  const result: StepResult<number> = { ok: true, state: 0 };
  return {
    name: "register (compact)",
    init: () => init,
    step(state, i, output) {
      const known = output !== UNKNOWN;
      switch (f[i]) {
        case READ:
          result.ok = !known || state === a[i];
          result.state = state;
          break;
        case WRITE:
          result.ok = true;
          result.state = a[i] as number;
          break;
        case CAS: {
          // A cas that returned ok (a failed one is not in the history): it matched.
          const matches = state === a[i];
          result.ok = !known || matches;
          result.state = matches ? (b[i] as number) : state;
          break;
        }
        default:
          result.ok = false;
          result.state = state;
      }
      return result;
    },
    equal: (x, y) => x === y,
    hash: (s) => Math.imul(s + 1, 0x85ebca6b),
    readOnly: (i) => f[i] === READ,
    describeOperation: (i, output) => `op ${i}${output === UNKNOWN ? " ?" : ""}`,
    describeState: (s) => (s < h.values.length ? JSON.stringify(h.values[s]) : "initial"),
  };
}
