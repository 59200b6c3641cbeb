// A brute-force linearizability checker for tiny histories, with its own semantics of the
// operations (not the models'), to cross-check the search, the cache and the models at once.

import type { HistoryOp, Value } from "../history.js";
import { canonicalJson, valueEqual } from "../history.js";
import { UNKNOWN } from "../model.js";

type Semantics<S> = { init: S; apply(state: S, op: HistoryOp): S | undefined };

/** Tries every order that respects real time (touching intervals are concurrent). */
export function bruteForce<S>(ops: readonly HistoryOp[], sem: Semantics<S>): boolean {
  const done = new Array<boolean>(ops.length).fill(false);
  const search = (state: S, left: number): boolean => {
    if (left === 0) return true;
    let firstReturn = Number.POSITIVE_INFINITY;
    ops.forEach((op, i) => {
      if (!done[i]) firstReturn = Math.min(firstReturn, op.return);
    });
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as HistoryOp;
      if (done[i] || op.call > firstReturn) continue;
      const after = sem.apply(state, op);
      if (after === undefined) continue;
      done[i] = true;
      const ok = search(after, left - 1);
      done[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return search(sem.init, ops.length);
}

/** read/write/cas per key; keys start absent (null) unless `initial`. */
export function registerSemantics(initial: Value = null): Semantics<ReadonlyMap<string, Value>> {
  return {
    init: new Map(),
    apply(state, op) {
      const cur = state.has(op.input.key) ? (state.get(op.input.key) as Value) : initial;
      const set = (v: Value) => new Map(state).set(op.input.key, v);
      const out = op.output;
      switch (op.input.f) {
        case "read":
          return out === UNKNOWN || valueEqual(cur, out.value ?? null) ? state : undefined;
        case "write":
          return set(op.input.value);
        case "cas": {
          const hit = valueEqual(cur, op.input.from);
          if (out !== UNKNOWN && hit !== (out.ok === true)) return undefined;
          return hit ? set(op.input.to) : state;
        }
        default:
          return undefined;
      }
    },
  };
}

/** The set checked per element: each element's adds and presence in reads, on its own. */
export function bruteForceSet(ops: readonly HistoryOp[]): boolean {
  const elements = new Set<string>();
  for (const op of ops) {
    if (op.input.f === "add") elements.add(canonicalJson(op.input.value));
    else if (op.output !== UNKNOWN)
      for (const v of op.output.values ?? []) elements.add(canonicalJson(v));
  }
  for (const e of elements) {
    const sem: Semantics<boolean> = {
      init: false,
      apply(present, op) {
        if (op.input.f === "add") return canonicalJson(op.input.value) === e ? true : present;
        if (op.output === UNKNOWN) return present;
        const seen = (op.output.values ?? []).some((v) => canonicalJson(v) === e);
        return seen === present ? present : undefined;
      },
    };
    if (!bruteForce(ops, sem)) return false;
  }
  return true;
}
