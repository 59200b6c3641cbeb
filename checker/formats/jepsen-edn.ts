// Jepsen and Knossos histories in EDN: one op map per line, or one vector (or list) of op maps.
//
//   {:process 3, :type :ok, :f :cas, :value [1 4], :time 3100022}
//
// Knossos' semantics: `:fail` ops never happened (the invoke goes too); `:info` ops stay pending
// forever; a read that returned nil constrains nothing. Histories of jepsen.independent, whose
// values are `[key value]` tuples, are split into keys.

import {
  badHistory,
  type ModelName,
  type OpInput,
  type OpOutput,
  type ParsedHistory,
} from "../history.js";
import { UNKNOWN } from "../model.js";
import { type Edn, EdnReader, lineCursor } from "./edn.js";
import { ednKey, ednToValue, keywordName, mapGet, nextForm, showEdn } from "./edn-value.js";
import { CAS_OK, NOTHING, OP_FUNCTIONS, type OpFunction, opInput, Pairing } from "./pairing.js";

type F = OpFunction;
const FS: ReadonlySet<string> = new Set<F>(OP_FUNCTIONS);
const isF = (f: string | undefined): f is F => f !== undefined && FS.has(f);

interface Event {
  line: number;
  /** 1-based position among the file's op maps, nemesis ops included: the time if none given. */
  ordinal: number;
  time: number | undefined;
  process: number;
  type: "invoke" | "ok" | "fail" | "info";
  f: F;
  value: Edn | undefined;
}

export function parseJepsenEdn(text: string, file: string): ParsedHistory {
  const events = readEvents(text, file);
  const timed = events.filter((e) => e.time !== undefined).length;
  if (timed > 0 && timed < events.length) {
    const e = events.find((x) => x.time === undefined);
    badHistory(file, e?.line, "no :time, while other ops have one");
  }
  // Array.prototype.sort is stable: equal times keep file order.
  if (timed > 0) events.sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
  // Decided on invokes alone: completions of unknown outcome may carry a bare nil.
  const registerInvokes = events.filter((e) => e.type === "invoke" && isRegisterOp(e));
  const independent = registerInvokes.length > 0 && registerInvokes.every(isTuple);
  const pairing = new Pairing(file);
  let set = false;
  const keys = new Set<string>();
  for (const e of events) {
    const time = e.time ?? e.ordinal;
    let key = "";
    let value = e.value;
    if (independent && isRegisterOp(e) && value?.kind === "vector" && value.items.length === 2) {
      const [k, v] = value.items;
      if (k !== undefined) key = ednKey(k);
      value = v;
    }
    if (e.type === "invoke") {
      if (e.f === "add" || e.f === "read-all") set = true;
      keys.add(key);
      pairing.invoke(e.process, input(e.f, key, value, file, e.line), time, e.line);
      continue;
    }
    const call = pairing.complete(e.process, e.f, e.line);
    if (e.type === "ok") pairing.returned(call, output(e.f, value, file, e.line), time);
    else if (e.type === "fail") pairing.drop(call);
  }
  const model: ModelName = set ? "set" : keys.size > 1 ? "kv" : "cas-register";
  return { format: "jepsen-edn", model, ops: pairing.finish(Infinity) };
}

function isRegisterOp(e: Event): boolean {
  return e.f === "read" || e.f === "write" || e.f === "cas";
}

/** Whether a register op looks like jepsen.independent's: `[k v]`, and `[k [from to]]` for a cas. */
function isTuple(e: Event): boolean {
  const v = e.value;
  if (v?.kind !== "vector" || v.items.length !== 2) return false;
  const inner = v.items[1];
  return e.f !== "cas" || (inner?.kind === "vector" && inner.items.length === 2);
}

function input(f: F, key: string, v: Edn | undefined, file: string, line: number): OpInput {
  const made = opInput(f, key, v === undefined ? undefined : ednToValue(v));
  if (made === undefined)
    badHistory(file, line, `a cas value must be [from to], not ${showEdn(v)}`);
  return made;
}

function output(f: F, v: Edn | undefined, file: string, line: number): OpOutput | typeof UNKNOWN {
  switch (f) {
    case "read":
      // Knossos records nil for a read whose result is unknown.
      return v === undefined || v.kind === "nil" ? UNKNOWN : { value: ednToValue(v) };
    case "read-all": {
      const values = v === undefined ? undefined : ednToValue(v);
      if (!Array.isArray(values))
        badHistory(file, line, `:read-all must return a collection, not ${showEdn(v)}`);
      return { values };
    }
    case "cas":
      return CAS_OK;
    default:
      return NOTHING;
  }
}

function readEvents(text: string, file: string): Event[] {
  const reader = new EdnReader(text);
  const forms: Edn[] = [];
  for (let v = nextForm(reader, file); v !== undefined; v = nextForm(reader, file)) forms.push(v);
  const only = forms[0];
  const ops =
    forms.length === 1 && (only?.kind === "vector" || only?.kind === "list") ? only.items : forms;
  const events: Event[] = [];
  const lineOf = lineCursor(text);
  let at = 0;
  for (const [i, op] of ops.entries()) {
    // A scalar has no offset; toEvent rejects it, at about the line of the op before it.
    if (op.kind === "map") at = op.at;
    const event = toEvent(op, file, lineOf(at), i + 1);
    if (event !== undefined) events.push(event);
  }
  return events;
}

/** The event of one op map; undefined for a nemesis op. */
function toEvent(op: Edn, file: string, line: number, ordinal: number): Event | undefined {
  if (op.kind !== "map") badHistory(file, line, `expected an operation map, not ${showEdn(op)}`);
  const process = mapGet(op, "process");
  if (keywordName(process) === "nemesis") return undefined;
  if (process?.kind !== "integer") {
    badHistory(file, line, `:process must be an integer or :nemesis, not ${showEdn(process)}`);
  }
  const type = keywordName(mapGet(op, "type"));
  if (type !== "invoke" && type !== "ok" && type !== "fail" && type !== "info") {
    badHistory(
      file,
      line,
      `:type must be :invoke, :ok, :fail or :info, not ${showEdn(mapGet(op, "type"))}`,
    );
  }
  const fEdn = mapGet(op, "f");
  const f = keywordName(fEdn);
  if (!isF(f)) {
    badHistory(file, line, `unknown :f ${showEdn(fEdn)} (:read, :write, :cas, :add, :read-all)`);
  }
  const t = mapGet(op, "time");
  if (t !== undefined && t.kind !== "integer" && t.kind !== "float") {
    badHistory(file, line, `:time must be a number of nanoseconds, not ${showEdn(t)}`);
  }
  return {
    line,
    ordinal,
    time: t?.value,
    process: process.value,
    type,
    f,
    value: mapGet(op, "value"),
  };
}
