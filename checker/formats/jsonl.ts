// Our own history format (history.jsonl): one Jepsen-style operation per line.
//
// Files are nearly always in time order, so events are paired as they are read, keeping nothing
// but the operations (retaining a million parsed lines costs more in GC than parsing them).
// If time goes backwards, or pairing fails (which may only be the disorder showing), the file is
// read again, its events sorted by time, and paired from scratch: that pass has the last word
// on errors, so both ways report the same one.

import {
  badHistory,
  HistoryError,
  type ModelName,
  type OpInput,
  type OpOutput,
  type ParsedHistory,
  type Value,
} from "../history.js";
import { type CompactBuilder, readCompact } from "./jsonl-compact.js";
import { LineReader } from "./jsonl-line.js";
import {
  type ByteSource,
  fileSource,
  forEachLine,
  type LineEvent,
  readSlowly,
} from "./jsonl-scan.js";
import { readCompactSplit } from "./jsonl-split.js";
import { CAS_OK, NOTHING, OP_FUNCTIONS, type OpFunction, opInput, Pairing } from "./pairing.js";

const INVOKE = 0;
const OK = 1;
const FAIL = 2;
const FS = OP_FUNCTIONS;
type F = OpFunction;

export { type ByteSource, fileSource };

/** Gets each valid event of the file; false stops the scan. */
type Visit = (
  line: number,
  time: number,
  type: number,
  proc: number,
  f: number,
  key: string,
  value: Value | undefined,
) => boolean;

export function parseJsonl(text: string, file: string): ParsedHistory {
  const bytes = Buffer.from(text, "utf8");
  return parseJsonlBytes(() => [bytes], file);
}

/** A file's bytes [from, size), for a first try that reads them with two threads. */
export interface SplitFile {
  fd: number;
  from: number;
  size: number;
}

/**
 * A jsonl history from its bytes (a file's, through `fileSource`, or a text's). `compact`
 * false: operation objects only, never a compact history (the tests compare the two). `split`:
 * the same bytes as a file, which a big one's first try reads with two threads (jsonl-split.ts).
 */
export function parseJsonlBytes(
  source: ByteSource,
  file: string,
  compact = true,
  split?: SplitFile,
): ParsedHistory {
  if (compact) {
    const history = compactOrNot(source, file, split);
    if (history) return history;
  }
  let builder = new Builder(file);
  let last = Number.NEGATIVE_INFINITY;
  const streamed = scan(source, file, (line, time, type, proc, f, key, value) => {
    if (time < last) return false;
    last = time;
    try {
      builder.event(line, time, type, proc, f, key, value);
      return true;
    } catch (e) {
      if (e instanceof HistoryError) return false;
      throw e;
    }
  });
  if (!streamed) {
    builder = new Builder(file);
    replaySorted(source, file, builder);
  }
  return builder.finish();
}

/**
 * The history as a compact one, if it can be (compact.ts): else undefined, and the object
 * parser reads the file from the start (with its messages, for a file in error).
 */
function compactOrNot(
  source: ByteSource,
  file: string,
  split: SplitFile | undefined,
): ParsedHistory | undefined {
  let built: CompactBuilder | undefined;
  try {
    built = split
      ? readCompactSplit(split.fd, split.from, split.size, file)
      : readCompact(source, file);
  } catch (e) {
    if (e instanceof HistoryError) return undefined;
    throw e;
  }
  if (!built) return undefined;
  const compact = built.finish();
  const model: ModelName = built.manyKeys ? "kv" : "cas-register";
  return {
    format: "jsonl",
    model,
    compact,
    get ops() {
      return compact.ops();
    },
  };
}

function replaySorted(source: ByteSource, file: string, builder: Builder): void {
  const lines: number[] = [];
  const times: number[] = [];
  const types: number[] = [];
  const procs: number[] = [];
  const fs: number[] = [];
  const keys: string[] = [];
  const values: (Value | undefined)[] = [];
  scan(source, file, (line, time, type, proc, f, key, value) => {
    lines.push(line);
    times.push(time);
    types.push(type);
    procs.push(proc);
    fs.push(f);
    keys.push(key);
    values.push(value);
    return true;
  });
  const order = lines.map((_, i) => i);
  // Array.prototype.sort is stable: equal times keep file order.
  order.sort((a, b) => (times[a] as number) - (times[b] as number));
  for (const i of order) {
    builder.event(
      lines[i] as number,
      times[i] as number,
      types[i] as number,
      procs[i] as number,
      fs[i] as number,
      keys[i] as string,
      values[i],
    );
  }
}

class Builder {
  private readonly pairing: Pairing;
  private set = false;
  private firstKey: string | undefined;
  private manyKeys = false;

  constructor(file: string) {
    this.pairing = new Pairing(file);
  }

  event(
    line: number,
    time: number,
    type: number,
    proc: number,
    code: number,
    key: string,
    value: Value | undefined,
  ): void {
    const f = FS[code] as F;
    if (type === INVOKE) {
      if (f === "add" || f === "read-all") this.set = true;
      if (this.firstKey === undefined) this.firstKey = key;
      else if (key !== this.firstKey) this.manyKeys = true;
      // scan checked the shape of every cas invoke.
      this.pairing.invoke(proc, opInput(f, key, value) as OpInput, time, line);
      return;
    }
    const call = this.pairing.complete(proc, f, line);
    if (type === OK) this.pairing.returned(call, output(f, value), time);
    else if (type === FAIL) this.pairing.drop(call);
    // info: the output stays UNKNOWN and the return Infinity; the op may yet take effect.
  }

  finish(): ParsedHistory {
    const model: ModelName = this.set ? "set" : this.manyKeys ? "kv" : "cas-register";
    return { format: "jsonl", model, ops: this.pairing.finish(Infinity) };
  }
}

function output(f: F, value: Value | undefined): OpOutput {
  switch (f) {
    case "read":
      return { value: value ?? null };
    case "read-all":
      return { values: value as Value[] };
    case "cas":
      return CAS_OK;
    default:
      return NOTHING;
  }
}

/** Validates every line and hands its event to `visit`; false if `visit` stopped the scan. */
function scan(source: ByteSource, file: string, visit: Visit): boolean {
  const reader = new LineReader();
  const slow: LineEvent = { time: undefined, type: 0, proc: 0, f: 0, key: "", value: undefined };
  let timed = 0;
  let untimedLine = 0;
  let lineNo = 0;
  /** Reads the line buf[s, e); false if `visit` stopped the scan. */
  const line = (buf: Buffer, s: number, e: number): boolean => {
    lineNo++;
    let ev: LineEvent;
    if (reader.read(buf, s, e)) ev = reader;
    else if (readSlowly(buf.toString("utf8", s, e), file, lineNo, slow)) ev = slow;
    else return true;
    const time = ev.time;
    if (time === undefined) {
      if (untimedLine === 0) untimedLine = lineNo;
    } else timed++;
    return visit(lineNo, time ?? lineNo, ev.type, ev.proc, ev.f, ev.key, ev.value);
  };
  if (!forEachLine(source, line)) return false;
  if (timed > 0 && untimedLine !== 0)
    badHistory(file, untimedLine, "no time, while other lines have one");
  return true;
}
