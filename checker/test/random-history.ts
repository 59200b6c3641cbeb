// Small random histories for property tests: a few clients running operations one after the
// other, some indeterminate. Outputs come from a random legal execution and are then sometimes
// corrupted, so that both legal and illegal histories are common.

import fc from "fast-check";
import type { HistoryOp, OpInput, OpOutput, Value } from "../history.js";
import { UNKNOWN } from "../model.js";

export type Kind = "register" | "kv" | "set";

interface Draft {
  client: number;
  input: OpInput;
  start: number;
  length: number;
  info: boolean;
  corrupt: boolean;
  jitter: number;
}

const value = fc.constantFrom<Value>(0, 1, 2);

function inputFor(kind: Kind, keys: string[]): fc.Arbitrary<OpInput> {
  if (kind === "set") {
    return fc.oneof(
      fc.integer({ min: 0, max: 4 }).map((v): OpInput => ({ f: "add", key: "", value: v })),
      fc.constant<OpInput>({ f: "read-all", key: "" }),
    );
  }
  const key = fc.constantFrom(...keys);
  return fc.oneof(
    key.map((k): OpInput => ({ f: "read", key: k })),
    fc.tuple(key, value).map(([k, v]): OpInput => ({ f: "write", key: k, value: v })),
    fc.tuple(key, value, value).map(([k, a, b]): OpInput => ({ f: "cas", key: k, from: a, to: b })),
  );
}

export function historyArbitrary(kind: Kind): fc.Arbitrary<HistoryOp[]> {
  const keys = kind === "kv" ? ["a", "b"] : [""];
  const draft = fc.record({
    client: fc.integer({ min: 0, max: 2 }),
    input: inputFor(kind, keys),
    start: fc.integer({ min: 0, max: 6 }),
    length: fc.integer({ min: 0, max: 6 }),
    info: fc.integer({ min: 0, max: 99 }).map((x) => x < 15),
    corrupt: fc.integer({ min: 0, max: 99 }).map((x) => x < 30),
    jitter: fc.integer({ min: 0, max: 9 }),
  });
  // No bias: fast-check's leaning to small numbers would make most ops indeterminate.
  return fc
    .array(fc.noBias(draft), { minLength: 0, maxLength: 8, size: "max" })
    .map((drafts) => build(drafts, kind));
}

/** Lays each client's ops end to end, then computes outputs from a random legal order. */
function build(drafts: Draft[], kind: Kind): HistoryOp[] {
  const clock = new Map<number, number>();
  const clientId = new Map<number, number>();
  const laid = drafts.map((d) => {
    const call = (clock.get(d.client) ?? 0) + d.start;
    const ret = call + d.length;
    clock.set(d.client, ret);
    const id = clientId.get(d.client) ?? d.client;
    // Jepsen's rule: after an indeterminate op the client continues as a new process.
    if (d.info) clientId.set(d.client, id + 3);
    return { d, id, call, ret };
  });
  // A legal execution: operations take effect in order of a point inside their interval.
  const order = [...laid].sort((a, b) => a.call + a.d.jitter / 10 - (b.call + b.d.jitter / 10));
  const state = new Map<string, Value>();
  const present = new Set<Value>();
  const outputs = new Map<(typeof laid)[number], OpOutput>();
  for (const op of order) {
    const i = op.d.input;
    const cur = state.get(i.key) ?? null;
    let out: OpOutput = {};
    if (i.f === "read") out = { value: cur };
    else if (i.f === "write") state.set(i.key, i.value);
    else if (i.f === "cas") {
      out = { ok: cur === i.from };
      if (cur === i.from) state.set(i.key, i.to);
    } else if (i.f === "add") present.add(i.value);
    else if (i.f === "read-all") out = { values: [...present] };
    if (op.d.corrupt) out = corrupt(out, kind);
    outputs.set(op, out);
  }
  return laid.map(
    (op): HistoryOp => ({
      clientId: op.id,
      input: op.d.input,
      call: op.call,
      output: op.d.info ? UNKNOWN : (outputs.get(op) as OpOutput),
      return: op.d.info ? Number.POSITIVE_INFINITY : op.ret,
    }),
  );
}

function corrupt(out: OpOutput, kind: Kind): OpOutput {
  if (out.ok !== undefined) return { ok: !out.ok };
  if (kind === "set" && out.values) {
    return out.values.length > 0 ? { values: out.values.slice(1) } : { values: [9] };
  }
  if ("value" in out) return { value: out.value === 1 ? 2 : 1 };
  return out;
}
