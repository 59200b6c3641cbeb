// Porcupine's Jepsen etcd logs (test_data/jepsen/etcd_*.log), read as Porcupine's own test reads
// them so that our verdicts match its verdicts:
//
//   INFO  jepsen.util - 4	:invoke	:cas	[1 2]
//
// - `:fail :cas` is a CAS that ran and found another value (ok: false), not a dropped op.
// - `:fail :read :timed-out` returns at that line with an unknown result.
// - `:info` lines (timed-out writes and CASes) are ignored: the call stays open and, like every
//   call that never returns, gets an unknown return at the end of the history.
// - The time of an event is its line number.

import { badHistory, type OpInput, type OpOutput, type ParsedHistory } from "../history.js";
import { UNKNOWN } from "../model.js";
import { type Edn, EdnError, readEdn } from "./edn.js";
import { ednToValue, showEdn } from "./edn-value.js";
import { CAS_OK, NOTHING, Pairing } from "./pairing.js";

const MARK = "jepsen.util - ";
const CAS_FAILED: OpOutput = Object.freeze({ ok: false });
const READ_ABSENT: OpOutput = Object.freeze({ value: null });

export function parsePorcupineEtcd(text: string, file: string): ParsedHistory {
  const pairing = new Pairing(file);
  const lines = text.split("\n");
  // A trailing newline ends the last line; it does not start one.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const at = i + 1;
    const event = parseLine(lines[i] ?? "");
    if (event === undefined) continue;
    const { proc, type, f, rest } = event;
    if (type === "info") continue;
    if (f !== "read" && f !== "write" && f !== "cas") {
      badHistory(file, at, f === "" ? "no operation after the type" : `unknown operation :${f}`);
    }
    const value = readValue(rest, file, at);
    if (type === "invoke") {
      pairing.invoke(proc, invokeInput(f, value, file, at), at, at);
    } else if (type === "ok") {
      pairing.returned(pairing.complete(proc, f, at), okOutput(f, value), at);
    } else if (type === "fail") {
      if (f === "read") pairing.returned(pairing.complete(proc, f, at), UNKNOWN, at);
      else if (f === "cas") pairing.returned(pairing.complete(proc, f, at), CAS_FAILED, at);
      // A failed write: Porcupine's parser ignores it, leaving the call open; so do we.
    } else badHistory(file, at, `unknown type :${type}`);
  }
  return { format: "porcupine-etcd", model: "cas-register", ops: pairing.finish(lines.length + 1) };
}

interface LineEvent {
  proc: number;
  type: string;
  /** Empty if the line has none. */
  f: string;
  /** The value, as EDN text. */
  rest: string;
}

/** The event of a `jepsen.util - <proc> :<type> :<f> <value>` line; undefined for other lines. */
function parseLine(raw: string): LineEvent | undefined {
  const mark = raw.indexOf(MARK);
  if (mark === -1) return undefined;
  const m = /^(\d+)\s+:(\S+)\s*(?::(\S+))?\s*(.*?)\s*$/.exec(raw.slice(mark + MARK.length));
  if (m === null) return undefined;
  const [, proc = "", type = "", f = "", rest = ""] = m;
  return { proc: Number(proc), type, f, rest: rest === "" ? "nil" : rest };
}

function readValue(rest: string, file: string, at: number): Edn {
  try {
    return readEdn(rest);
  } catch (e) {
    if (e instanceof EdnError)
      badHistory(file, at, `bad value ${JSON.stringify(rest)}: ${e.reason}`);
    throw e;
  }
}

function invokeInput(f: "read" | "write" | "cas", v: Edn, file: string, at: number): OpInput {
  if (f === "read") return { f, key: "" };
  if (f === "write") return { f, key: "", value: ednToValue(v) };
  const from = v.kind === "vector" && v.items.length === 2 ? v.items[0] : undefined;
  const to = v.kind === "vector" ? v.items[1] : undefined;
  if (from === undefined || to === undefined) {
    badHistory(file, at, `a cas value must be [from to], not ${showEdn(v)}`);
  }
  return { f, key: "", from: ednToValue(from), to: ednToValue(to) };
}

function okOutput(f: "read" | "write" | "cas", v: Edn): OpOutput {
  if (f === "cas") return CAS_OK;
  if (f === "write") return NOTHING;
  return v.kind === "nil" ? READ_ABSENT : { value: ednToValue(v) };
}
