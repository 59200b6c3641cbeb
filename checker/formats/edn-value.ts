// Using EDN values: fields of op maps, conversion to the JSON-like values our models compare.

import { badHistory, canonicalJson, type Value } from "../history.js";
import { type Edn, EdnError, type EdnReader } from "./edn.js";

/** The next top-level form of a history file; a syntax error becomes the file's HistoryError. */
export function nextForm(reader: EdnReader, file: string): Edn | undefined {
  try {
    return reader.next();
  } catch (e) {
    if (e instanceof EdnError) badHistory(file, e.line, `${e.reason} at column ${e.column}`);
    throw e;
  }
}

/**
 * Keywords keep their colon (`":ok"`) so they stay distinct from strings; sets and lists become
 * arrays; map keys become strings (keyword keys without the colon, as Jepsen's JSON does).
 */
export function ednToValue(v: Edn): Value {
  switch (v.kind) {
    case "nil":
      return null;
    case "boolean":
    case "integer":
    case "float":
    case "ratio":
    case "string":
    case "char":
      return v.value;
    case "keyword":
      return `:${v.name}`;
    case "symbol":
      return v.name;
    case "vector":
    case "list":
    case "set":
      return v.items.map(ednToValue);
    case "map": {
      const out: { [key: string]: Value } = {};
      for (const [k, x] of v.entries) {
        const key =
          k.kind === "keyword"
            ? k.name
            : k.kind === "string"
              ? k.value
              : canonicalJson(ednToValue(k));
        out[key] = ednToValue(x);
      }
      return out;
    }
    case "tagged":
      return ednToValue(v.value);
  }
}

/** A key of a keyed history as the string our models partition by. */
export function ednKey(v: Edn): string {
  if (v.kind === "string") return v.value;
  if (v.kind === "keyword") return v.name;
  const value = ednToValue(v);
  return typeof value === "string" ? value : canonicalJson(value);
}

/** The value under keyword `:name` in a map; undefined if absent or `map` is no map. */
export function mapGet(map: Edn, name: string): Edn | undefined {
  if (map.kind !== "map") return undefined;
  for (const [k, v] of map.entries) {
    if (k.kind === "keyword" && k.name === name) return v;
  }
  return undefined;
}

/** The name of a keyword value, or undefined for anything else. */
export function keywordName(v: Edn | undefined): string | undefined {
  return v?.kind === "keyword" ? v.name : undefined;
}

/** Short EDN-like text of a value, for error messages ("nothing" for a missing field). */
export function showEdn(v: Edn | undefined): string {
  if (v === undefined) return "nothing";
  switch (v.kind) {
    case "nil":
      return "nil";
    case "keyword":
      return `:${v.name}`;
    case "symbol":
      return v.name;
    case "string":
    case "char":
      return JSON.stringify(v.value);
    case "boolean":
    case "integer":
    case "float":
      return String(v.value);
    case "ratio":
      return `${v.numerator}/${v.denominator}`;
    case "vector":
      return `[${v.items.map(showEdn).join(" ")}]`;
    case "list":
      return `(${v.items.map(showEdn).join(" ")})`;
    case "set":
      return `#{${v.items.map(showEdn).join(" ")}}`;
    case "map":
      return `{${v.entries.map(([k, x]) => `${showEdn(k)} ${showEdn(x)}`).join(", ")}}`;
    case "tagged":
      return `#${v.tag} ${showEdn(v.value)}`;
  }
}
