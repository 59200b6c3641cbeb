// What an operation of the built-in models cannot be kept without in a witness (witness.ts).
//
// A sub-history is only a witness of its history if its violation is one the history had: if
// the sub-history is not linearizable, neither is the history. Leaving out a read never breaks
// that (a read changes no state), but leaving out a write can: without it a read may return a
// value that nothing wrote. So a kept operation that observes the state keeps every operation
// that could have left what it saw. Then any linearization of the history, restricted to the
// sub-history, is one of the sub-history: each kept observer sees what it saw there, since the
// last write before it (the one that left its value) is kept. In detail:
//
// - A read of v, a successful cas from v: every write, put and cas that can leave v.
// - A get of s among appends: every append and put whose value occurs in s (the state is the
//   last put's value and the appends after it; each of those occurs in s).
// - A cas that failed or whose outcome is unknown depends on the state not being `from`:
//   any write may matter, so it keeps them all.
// - The set model's partition of one element: a read that contains it keeps every add of it;
//   a read without it needs none (before every add, the element is absent).

import { canonicalJson, type HistoryOp, type Value } from "./history.js";
import { UNKNOWN } from "./model.js";

/** `needs` for findWitness, over the operations of one partition of a built-in model. */
export function operationNeeds(ops: readonly HistoryOp[]): (i: number) => readonly number[] {
  const writers: number[] = [];
  let appends = false;
  ops.forEach((op, i) => {
    const f = op.input.f;
    if (f === "write" || f === "put" || f === "append" || f === "add") writers.push(i);
    else if (f === "cas" && !(op.output !== UNKNOWN && op.output.ok === false)) writers.push(i);
    if (f === "append") appends = true;
  });
  const byValue = new Map<string, number[]>();
  for (const i of writers) {
    const v = written(ops[i] as HistoryOp);
    const k = canonicalJson(v);
    byValue.set(k, [...(byValue.get(k) ?? []), i]);
  }
  const leaving = (v: Value): number[] => byValue.get(canonicalJson(v)) ?? [];
  const occurringIn = (s: string): number[] =>
    writers.filter((i) => s.includes(textOf(written(ops[i] as HistoryOp))));

  return (i) => {
    const op = ops[i] as HistoryOp;
    const { input, output } = op;
    if (input.f === "cas") {
      if (output === UNKNOWN || output.ok !== true) return writers.filter((w) => w !== i);
      return appends ? occurringIn(textOf(input.from)) : leaving(input.from);
    }
    if (output === UNKNOWN) return [];
    if (input.f === "read" || input.f === "get") {
      const seen = output.value ?? (input.f === "get" ? "" : null);
      return appends ? occurringIn(textOf(seen)) : leaving(seen);
    }
    if (input.f === "read-all") {
      // One element's partition: its reads hold that element or nothing.
      return (output.values ?? []).length > 0 ? writers : [];
    }
    return [];
  };
}

/** The value an operation leaves (a set's add leaves "present": one element per partition). */
function written(op: HistoryOp): Value {
  const input = op.input;
  switch (input.f) {
    case "write":
    case "put":
    case "append":
      return input.value;
    case "cas":
      return input.to;
    default:
      return true;
  }
}

function textOf(v: Value): string {
  return typeof v === "string" ? v : v === null ? "" : canonicalJson(v);
}
