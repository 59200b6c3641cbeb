// The register models: `cas-register` (read/write/cas, our workloads and Porcupine's etcd
// test) and `kv` (the same per key, plus Porcupine's get/put/append on strings). Both are
// partitioned by key, so a state is the value of one key: null while the key is absent.

import {
  canonicalJson,
  type HistoryOp,
  type OpInput,
  type OpOutput,
  type Value,
  valueEqual,
  valueHash,
} from "../history.js";
import type { Model, Partition, StepResult, Unknown } from "../model.js";
import { UNKNOWN } from "../model.js";

export interface RegisterOptions {
  /** The value of every key before the first write; absent (null) when not given. */
  initial?: Value;
}

type State = Value;

const KNOWN = new Set(["read", "write", "cas", "get", "put", "append"]);

export function casRegisterModel(options: RegisterOptions = {}): Model<State, OpInput, OpOutput> {
  return registerModel("cas-register", options);
}

export function kvModel(options: RegisterOptions = {}): Model<State, OpInput, OpOutput> {
  return registerModel("kv", options);
}

function registerModel(
  name: string,
  { initial = null }: RegisterOptions,
): Model<State, OpInput, OpOutput> {
  return {
    name,
    init: () => initial,
    step,
    equal: valueEqual,
    hash: valueHash,
    partition: partitionByKey,
    readOnly: (input) => input.f === "read" || input.f === "get",
    describeOperation: describe,
    describeState: (s) => (s === null ? "absent" : show(s)),
  };
}

/** Whether the model knows every operation of a history; the first one it does not, if any. */
export function registerRejects(ops: readonly HistoryOp[]): HistoryOp | undefined {
  return ops.find((op) => !KNOWN.has(op.input.f));
}

function step(state: State, input: OpInput, output: OpOutput | Unknown): StepResult<State> {
  const known = output !== UNKNOWN;
  switch (input.f) {
    case "read":
      return { ok: !known || valueEqual(state, output.value ?? null), state };
    case "get":
      // Porcupine's kv: keys start as "", and a get of a never-written key reads "".
      return { ok: !known || valueEqual(state ?? "", output.value ?? ""), state };
    case "write":
    case "put":
      return { ok: true, state: input.value };
    case "append":
      return { ok: true, state: `${typeof state === "string" ? state : ""}${input.value}` };
    case "cas": {
      const matches = valueEqual(state, input.from);
      if (!known) return { ok: true, state: matches ? input.to : state };
      return { ok: matches === (output.ok === true), state: matches ? input.to : state };
    }
    default:
      return { ok: false, state };
  }
}

function partitionByKey(ops: readonly HistoryOp[]): Partition<OpInput, OpOutput>[] {
  const byKey = new Map<string, Partition<OpInput, OpOutput>>();
  ops.forEach((op, i) => {
    let p = byKey.get(op.input.key);
    if (!p) {
      p = { label: op.input.key, ops: [], origin: [] };
      byKey.set(op.input.key, p);
    }
    p.ops.push(op);
    p.origin.push(i);
  });
  return [...byKey.values()];
}

function describe(input: OpInput, output: OpOutput | Unknown): string {
  const key = input.key === "" ? "" : `${input.key} `;
  const out = (v: () => string) => (output === UNKNOWN ? "?" : v());
  switch (input.f) {
    case "read":
    case "get":
      return `${input.f} ${key}-> ${out(() => (output !== UNKNOWN && output.value != null ? show(output.value) : input.f === "get" ? '""' : "absent"))}`;
    case "write":
    case "put":
    case "append":
      return `${input.f} ${key}${show(input.value)}`;
    case "cas":
      return `cas ${key}${show(input.from)}->${show(input.to)} ${out(() => (output !== UNKNOWN && output.ok ? "ok" : "failed"))}`;
    default:
      return `${input.f} ${key}`.trim();
  }
}

function show(v: Value): string {
  return typeof v === "string" ? JSON.stringify(v) : canonicalJson(v);
}
