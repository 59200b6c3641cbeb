// The set model: adds of elements and reads of the whole set.
//
// As Jepsen's set-full checker does, it is checked per element: each element's adds and its
// presence or absence in every read must be linearizable on their own. That finds lost
// elements (an acknowledged add missing from a later read), phantoms (an element read but
// never added) and elements that come and go. A read-all is not checked as one atomic
// snapshot of all elements at once: that check is exponential on real histories, and the
// per-element one is what users of set workloads expect.

import {
  canonicalJson,
  type HistoryOp,
  type OpInput,
  type OpOutput,
  stringHash,
  type Value,
} from "../history.js";
import type { Model, Partition, StepResult, Unknown } from "../model.js";
import { UNKNOWN } from "../model.js";

/** The elements present, as sorted canonical JSON. */
type State = readonly string[];

export function setModel(): Model<State, OpInput, OpOutput> {
  return {
    name: "set",
    init: () => [],
    step,
    equal: sameElements,
    hash: (s) => s.reduce((h, x) => Math.imul(h ^ stringHash(x), 0x01000193), 0x811c9dc5) | 0,
    partition: partitionByElement,
    readOnly: (input) => input.f === "read-all",
    describeOperation: describe,
    describeState: (s) => `{${s.join(", ")}}`,
  };
}

export function setRejects(ops: readonly HistoryOp[]): HistoryOp | undefined {
  return ops.find((op) => op.input.f !== "add" && op.input.f !== "read-all");
}

function step(state: State, input: OpInput, output: OpOutput | Unknown): StepResult<State> {
  if (input.f === "add") {
    const element = canonicalJson(input.value);
    if (state.includes(element)) return { ok: true, state };
    return { ok: true, state: [...state, element].sort() };
  }
  if (input.f !== "read-all") return { ok: false, state };
  if (output === UNKNOWN) return { ok: true, state };
  const read = [...new Set((output.values ?? []).map(canonicalJson))].sort();
  return { ok: sameElements(read, state), state };
}

function sameElements(a: State, b: State): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** One partition per element: its adds, and every read projected onto "contains it or not". */
function partitionByElement(ops: readonly HistoryOp[]): Partition<OpInput, OpOutput>[] {
  const elements = new Map<string, { element: Value; adds: number[] }>();
  const note = (v: Value) => {
    const k = canonicalJson(v);
    let e = elements.get(k);
    if (!e) {
      e = { element: v, adds: [] };
      elements.set(k, e);
    }
    return e;
  };
  const reads: { index: number; present: Set<string> }[] = [];
  ops.forEach((op, index) => {
    if (op.input.f === "add") note(op.input.value).adds.push(index);
    else if (op.output !== UNKNOWN) {
      const values = op.output.values ?? [];
      values.forEach(note);
      reads.push({ index, present: new Set(values.map(canonicalJson)) });
    }
  });
  const partitions: Partition<OpInput, OpOutput>[] = [];
  for (const [k, { element, adds }] of elements) {
    const p: Partition<OpInput, OpOutput> = { label: k, ops: [], origin: [] };
    for (const index of adds) {
      p.ops.push(ops[index] as HistoryOp);
      p.origin.push(index);
    }
    for (const r of reads) {
      const op = ops[r.index] as HistoryOp;
      p.ops.push({ ...op, output: { values: r.present.has(k) ? [element] : [] } });
      p.origin.push(r.index);
    }
    partitions.push(p);
  }
  return partitions;
}

function describe(input: OpInput, output: OpOutput | Unknown): string {
  if (input.f === "add") return `add ${canonicalJson(input.value)}`;
  if (output === UNKNOWN) return "read-all -> ?";
  return `read-all -> {${(output.values ?? []).map(canonicalJson).join(", ")}}`;
}
