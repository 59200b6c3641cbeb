// The operations of our built-in models, as every history format parses them.
//
// One input type serves the register, kv and set models so that a parsed file can be checked
// against any of them; a model given an `f` it does not know rejects the history up front.

import type { ModelName, Value } from "../contracts/value.js";
import type { CompactHistory } from "./compact.js";
import type { Operation } from "./model.js";

export type { ModelName, Value } from "../contracts/value.js";

export type OpInput =
  | { f: "read"; key: string }
  | { f: "write"; key: string; value: Value }
  | { f: "cas"; key: string; from: Value; to: Value }
  // Porcupine's kv test: strings, initially "".
  | { f: "get"; key: string }
  | { f: "put"; key: string; value: string }
  | { f: "append"; key: string; value: string }
  // The set workload: unique elements added, then read all at once.
  | { f: "add"; key: string; value: Value }
  | { f: "read-all"; key: string };

/**
 * What an operation returned. `read`/`get`: `value` (null = absent). `cas`: `ok` (false = the
 * current value was not `from`). `read-all`: `values`. Writes return nothing.
 */
export interface OpOutput {
  value?: Value;
  ok?: boolean;
  values?: Value[];
}

export type HistoryOp = Operation<OpInput, OpOutput>;

export type FormatName = "jsonl" | "porcupine-etcd" | "porcupine-kv" | "jepsen-edn";

export interface ParsedHistory {
  format: FormatName;
  /** The model this history is naturally checked against, from its content. */
  model: ModelName;
  /** The operations; for a `compact` history, made (once) when first read. */
  readonly ops: HistoryOp[];
  /** The same operations in typed arrays, when the parser could keep them so (jsonl). */
  compact?: CompactHistory;
}

/** Bad input: names the file and, where there is one, the line. The CLI exits 3 with it. */
export class HistoryError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(line === undefined ? `${file}: ${reason}` : `${file}:${line}: ${reason}`);
    this.name = "HistoryError";
  }
}

/** Throws the HistoryError of `file` at `line`; as a call, TypeScript knows it ends the path. */
export function badHistory(file: string, line: number | undefined, reason: string): never {
  throw new HistoryError(file, line, reason);
}

/** Structural equality of recorded values (objects by key, arrays in order). */
export function valueEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valueEqual(a[i] as Value, b[i] as Value)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!(k in b) || !valueEqual(a[k] as Value, b[k] as Value)) return false;
  }
  return true;
}

/** A 32-bit hash consistent with valueEqual. */
export function valueHash(v: Value): number {
  if (v === null) return 0x9e3779b9 | 0;
  switch (typeof v) {
    case "number":
      return Number.isInteger(v) && Math.abs(v) < 2 ** 31
        ? Math.imul(v | 0, 0x85ebca6b)
        : stringHash(String(v));
    case "boolean":
      return v ? 0x27d4eb2f : 0x165667b1;
    case "string":
      return stringHash(v) ^ 0x5bd1e995;
    default:
      return stringHash(canonicalJson(v));
  }
}

/**
 * FNV-1a over a string. Long strings (the states of append-heavy histories) are hashed on their
 * length and ends only: still consistent with equality, and states that differ usually differ
 * at the end, while hashing them whole on every search step would dominate the search.
 */
export function stringHash(s: string): number {
  let h = 0x811c9dc5;
  const n = s.length;
  if (n <= 64) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return h | 0;
  }
  h = Math.imul(h ^ n, 0x01000193);
  for (let i = 0; i < 16; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  for (let i = n - 48; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** JSON with object keys sorted, so equal values print the same. */
export function canonicalJson(v: Value): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k] as Value)}`).join(",")}}`;
}
