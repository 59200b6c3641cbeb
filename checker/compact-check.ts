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
  const { order, starts, labels } = byKey(h);
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
      start: (options) => new PartitionSearch(model, columns(h, indices), options),
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
 * The operations' indices grouped by key (a counting sort: each key's in call order), the
 * keys in the order of their first operation.
 */
function byKey(h: CompactHistory): { order: Int32Array; starts: Int32Array; labels: string[] } {
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
  const at = starts.slice(0, labels.length);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = part[i] as number;
    order[at[p] as number] = i;
    at[p] = (at[p] as number) + 1;
  }
  return { order, starts, labels };
}

/** A partition's columns for the search, an unknown read left out (as columnsOf does). */
function columns(h: CompactHistory, indices: Int32Array): SearchColumns<number, number> {
  const m = indices.length;
  const included = new Int32Array(m);
  const calls = new Float64Array(m);
  const returns = new Float64Array(m);
  const inputs: number[] = [];
  const outputs: (number | typeof UNKNOWN)[] = [];
  let n = 0;
  for (let j = 0; j < m; j++) {
    const i = indices[j] as number;
    const known = h.known[i] === 1;
    if (!known && h.f[i] === READ) continue;
    included[n] = j;
    calls[n] = h.call[i] as number;
    returns[n] = h.ret[i] as number;
    inputs.push(i);
    outputs.push(known ? KNOWN : UNKNOWN);
    n++;
  }
  return n === m
    ? { included, calls, returns, inputs, outputs }
    : {
        included: included.slice(0, n),
        calls: calls.slice(0, n),
        returns: returns.slice(0, n),
        inputs,
        outputs,
      };
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
