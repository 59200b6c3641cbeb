// Porcupine's kv logs (test_data/kv/*.txt): one EDN map per line,
//
//   {:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
//
// get/put/append on strings that start as "". The time of an event is its line number, and a call
// that never returns gets an unknown return at the end of the history, as in Porcupine's parser.
// Porcupine's logs have only invoke and ok; `:fail` drops the call, `:info` leaves it open.

import { badHistory, type OpInput, type ParsedHistory } from "../history.js";
import { type Edn, EdnReader, lineCursor } from "./edn.js";
import { ednKey, ednToValue, keywordName, mapGet, nextForm, showEdn } from "./edn-value.js";
import { NOTHING, Pairing } from "./pairing.js";

export function parsePorcupineKv(text: string, file: string): ParsedHistory {
  const pairing = new Pairing(file);
  // One reader for the whole file, so that its keywords are shared by every line.
  const reader = new EdnReader(text);
  const lineOf = lineCursor(text);
  for (let op = nextForm(reader, file); op !== undefined; op = nextForm(reader, file)) {
    const at = lineOf(reader.start);
    if (op.kind !== "map") badHistory(file, at, `expected an operation map, not ${showEdn(op)}`);
    const proc = mapGet(op, "process");
    if (keywordName(proc) === "nemesis") continue;
    if (proc?.kind !== "integer")
      badHistory(file, at, `:process must be an integer, not ${showEdn(proc)}`);
    const type = keywordName(mapGet(op, "type"));
    const f = keywordName(mapGet(op, "f"));
    if (f !== "get" && f !== "put" && f !== "append") {
      badHistory(file, at, `:f must be :get, :put or :append, not ${showEdn(mapGet(op, "f"))}`);
    }
    const value = mapGet(op, "value");
    switch (type) {
      case "invoke":
        pairing.invoke(proc.value, input(f, op, value, file, at), at, at);
        break;
      case "ok":
        pairing.returned(pairing.complete(proc.value, f, at), output(f, value, file, at), at);
        break;
      case "fail":
        pairing.drop(pairing.complete(proc.value, f, at));
        break;
      case "info":
        break;
      default:
        badHistory(
          file,
          at,
          `:type must be :invoke, :ok, :fail or :info, not ${showEdn(mapGet(op, "type"))}`,
        );
    }
  }
  const end = lineOf(text.trimEnd().length) + 1;
  return { format: "porcupine-kv", model: "kv", ops: pairing.finish(end) };
}

function input(
  f: "get" | "put" | "append",
  op: Edn,
  value: Edn | undefined,
  file: string,
  at: number,
): OpInput {
  const k = mapGet(op, "key");
  const key = k === undefined || k.kind === "nil" ? "" : ednKey(k);
  if (f === "get") return { f, key };
  return { f, key, value: text(value, file, at) };
}

function output(f: "get" | "put" | "append", value: Edn | undefined, file: string, at: number) {
  return f === "get" ? { value: text(value, file, at) } : NOTHING;
}

/** A string value; nil reads as "" (the initial value), as in Porcupine. */
function text(v: Edn | undefined, file: string, at: number): string {
  if (v === undefined || v.kind === "nil") return "";
  if (v.kind === "string") return v.value;
  const value = ednToValue(v);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return badHistory(file, at, `:value must be a string, not ${showEdn(v)}`);
}
