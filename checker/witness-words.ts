// A witness (witness.ts) in words: a sentence per operation in time order, then why no order
// fits. The reason is given only when a rule below proves it (each is a necessary condition of
// linearizability that the witness breaks); otherwise the last sentence says no more than is
// known: these operations admit no linearizable order.

import { canonicalJson, type HistoryOp, type Value, valueEqual } from "./history.js";
import type { Model } from "./model.js";
import { UNKNOWN } from "./model.js";

export interface WordsOptions {
  /** How a time reads ("12.10 s", "line 17"); default: nanoseconds as seconds (timeInSeconds). */
  time?: (t: number) => string;
}

/** The witness in sentences: one per operation (in call order), then the reason. */
export function describeWitness(
  ops: readonly HistoryOp[],
  model: Model<unknown, HistoryOp["input"], HistoryOp["output"]>,
  options: WordsOptions = {},
): string[] {
  const time = options.time ?? timeInSeconds(ops);
  const sorted = [...ops].sort((a, b) => a.call - b.call || a.return - b.return);
  const w: Words = { time, initial: model.init() as Value };
  const lines = sorted.map((op) => `${operationSentence(op, w)}.`);
  const reason =
    setReason(sorted, w) ?? appendReason(sorted, w) ?? registerReason(sorted, w) ?? undefined;
  lines.push(
    reason !== undefined
      ? `${reason}.`
      : `No order of these ${sorted.length} operations is linearizable: every order breaks at least one of them (${sorted.map((op) => who(op)).join(", ")}).`,
  );
  return lines;
}

/** Nanoseconds as seconds, with as many decimals as tell these operations' times apart. */
export function timeInSeconds(ops: readonly HistoryOp[]): (t: number) => string {
  const times = [...new Set(ops.flatMap((op) => [op.call, op.return]))]
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < times.length; i++)
    gap = Math.min(gap, (times[i] as number) - (times[i - 1] as number));
  const digits = Number.isFinite(gap)
    ? Math.min(9, Math.max(2, Math.ceil(-Math.log10(gap / 1e9))))
    : 2;
  return (t) => `${(t / 1e9).toFixed(digits)} s`;
}

/** For formats whose time is the line of the event (Porcupine's logs). */
export const timeAsLine = (t: number): string => `line ${t}`;

interface Words {
  time: (t: number) => string;
  initial: Value;
}

function operationSentence(op: HistoryOp, w: Words): string {
  const { input, output } = op;
  const unknown = output === UNKNOWN;
  const k = keyName(input.key);
  let what: string;
  switch (input.f) {
    case "read":
    case "get":
      what = unknown
        ? `p${op.clientId} read ${k} (no answer)`
        : `p${op.clientId} read ${k} = ${show(output.value ?? (input.f === "get" ? "" : null))}`;
      break;
    case "write":
    case "put":
      what = `p${op.clientId} ${unknown ? "tried to write" : "wrote"} ${show(input.value)} to ${k}`;
      break;
    case "append":
      what = `p${op.clientId} ${unknown ? "tried to append" : "appended"} ${show(input.value)} to ${k}`;
      break;
    case "cas":
      what = unknown
        ? `p${op.clientId} tried to change ${k} from ${show(input.from)} to ${show(input.to)} (cas)`
        : output.ok === true
          ? `p${op.clientId} changed ${k} from ${show(input.from)} to ${show(input.to)} (cas)`
          : `p${op.clientId} found ${k} was not ${show(input.from)} (a cas to ${show(input.to)} that failed)`;
      break;
    case "add":
      what = `p${op.clientId} ${unknown ? "tried to add" : "added"} ${show(input.value)} to the set`;
      break;
    case "read-all":
      what = unknown
        ? `p${op.clientId} read the set (no answer)`
        : (output.values ?? []).length > 0
          ? `p${op.clientId} read the set, and it held ${show((output.values ?? [])[0] as Value)}`
          : `p${op.clientId} read the set, and it did not hold the element`;
      break;
  }
  const when =
    op.return === Number.POSITIVE_INFINITY
      ? `from ${w.time(op.call)} on, with no answer (it may or may not have happened)`
      : `between ${w.time(op.call)} and ${w.time(op.return)}${unknown && input.f !== "read" && input.f !== "get" ? ", with no answer (it may or may not have happened)" : ""}`;
  return `${what} ${when}`;
}

/** "p3's write of 4 to k3": an operation named in a reason. */
function who(op: HistoryOp): string {
  const { input } = op;
  const k = keyName(input.key);
  const p = `p${op.clientId}'s`;
  switch (input.f) {
    case "read":
    case "get":
      return `${p} read of ${k}`;
    case "write":
    case "put":
      return `${p} write of ${show(input.value)}`;
    case "append":
      return `${p} append of ${show(input.value)}`;
    case "cas":
      return `${p} cas from ${show(input.from)} to ${show(input.to)}`;
    case "add":
      return `${p} add of ${show(input.value)}`;
    case "read-all":
      return `${p} read of the set`;
  }
}

/** The value an operation leaves, when it definitely leaves one (else undefined). */
function definiteWrite(op: HistoryOp): Value | undefined {
  const { input, output } = op;
  if (input.f === "write" || input.f === "put") return input.value;
  if (input.f === "cas" && output !== UNKNOWN && output.ok === true) return input.to;
  return undefined;
}

/** The value an operation may leave (writes, and cas that did not fail). */
function mayWrite(op: HistoryOp): Value | undefined {
  const { input, output } = op;
  if (input.f === "write" || input.f === "put") return input.value;
  if (input.f === "cas" && !(output !== UNKNOWN && output.ok === false)) return input.to;
  return undefined;
}

/**
 * Registers: an operation that saw v (a read, a successful cas) needs a write of v that can come
 * before it with no other write forced in between. It has none when every write of v began after
 * it returned, or was followed by a write of another value wholly between that write's end and
 * its own start (the initial value counts as a write before everything).
 */
function registerReason(ops: readonly HistoryOp[], w: Words): string | undefined {
  const kinds = new Set(ops.map((op) => op.input.f));
  if (kinds.has("append") || kinds.has("add") || kinds.has("read-all")) return undefined;
  for (const o of ops) {
    const reason = unexplained(o, ops, w);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** Why `o` could not have seen what it saw, if the interval rule proves it. */
function unexplained(o: HistoryOp, ops: readonly HistoryOp[], w: Words): string | undefined {
  const seen = observed(o);
  if (seen === undefined) return undefined;
  const saw =
    o.input.f === "cas"
      ? `${who(o)} succeeded, so it found ${show(seen)}`
      : `${who(o)} returned ${show(seen)}`;
  const writers = ops.filter((x) => x !== o && valueEqual(mayWrite(x) ?? UNSET, seen));
  const startsAs = valueEqual(w.initial, seen);
  const k = keyName(o.input.key);
  if (writers.length === 0 && !startsAs)
    return `${saw} at ${w.time(o.return)}, but no operation here writes ${show(seen)} and ${k} starts ${showState(w.initial)}`;
  const overwrittenBy = (after: number) =>
    ops.find((x) => {
      const v = definiteWrite(x);
      return (
        x !== o && v !== undefined && !valueEqual(v, seen) && x.call > after && x.return < o.call
      );
    });
  const why: string[] = [];
  for (const x of writers) {
    if (x.call > o.return) {
      why.push(`${who(x)} began at ${w.time(x.call)}, after it returned`);
      continue;
    }
    const over = overwrittenBy(x.return);
    if (!over) return undefined;
    why.push(
      `${who(x)} ended at ${w.time(x.return)}, and ${who(over)} came wholly after it (${w.time(over.call)} to ${w.time(over.return)}) and before ${who(o)} began (${w.time(o.call)})`,
    );
  }
  if (startsAs) {
    const over = overwrittenBy(Number.NEGATIVE_INFINITY);
    if (!over) return undefined;
    why.push(
      `${k} starts ${showState(w.initial)}, but ${who(over)} ended at ${w.time(over.return)}, before it began`,
    );
  }
  return `${saw} at ${w.time(o.return)}, but ${why.join("; ")}: no order lets it see ${show(seen)}`;
}

const UNSET: Value = { "\u0000unset": true };

function observed(op: HistoryOp): Value | undefined {
  const { input, output } = op;
  if (output === UNKNOWN) return undefined;
  if (input.f === "read") return output.value ?? null;
  if (input.f === "cas" && output.ok === true) return input.from;
  return undefined;
}

/**
 * Appends (Porcupine's kv): with no put, the value only grows, so a get holds every append that
 * ended before it began, and extends every value a get that ended before it began returned. A
 * get must be built from the appends (and a put, first) that began before it returned.
 */
function appendReason(ops: readonly HistoryOp[], w: Words): string | undefined {
  if (!ops.some((op) => op.input.f === "append" || op.input.f === "get")) return undefined;
  const gets = ops.filter(
    (op): op is HistoryOp & { output: { value?: Value } } =>
      op.input.f === "get" && op.output !== UNKNOWN,
  );
  const text = (op: HistoryOp & { output: { value?: Value } }) => String(op.output.value ?? "");
  const noPut = !ops.some((op) => op.input.f === "put" || op.input.f === "write");
  for (const g of gets) {
    const s = text(g);
    if (!buildable(s, ops, g.return))
      return `${who(g)} returned ${show(s)} at ${w.time(g.return)}, but no order of the appends${noPut ? "" : " and puts"} begun before it returned builds that value`;
  }
  if (!noPut) return undefined;
  for (const g of gets) {
    const s = text(g);
    const missing = ops.find(
      (a) => a.input.f === "append" && a.return < g.call && !s.includes(a.input.value),
    );
    if (missing && missing.input.f === "append")
      return `${who(g)} began at ${w.time(g.call)}, after ${who(missing)} had ended (${w.time(missing.return)}), yet its value ${show(s)} does not hold ${show(missing.input.value)}: appends are never lost`;
    const earlier = gets.find((e) => e.return < g.call && !s.startsWith(text(e)));
    if (earlier)
      return `${who(earlier)} returned ${show(text(earlier))} at ${w.time(earlier.return)}, and ${who(g)}, which began later (${w.time(g.call)}), returned ${show(s)}, which does not extend it: with appends alone a value only grows`;
  }
  return undefined;
}

/** Whether `s` is a put's value (or "") followed by distinct appends begun by `before`. */
function buildable(s: string, ops: readonly HistoryOp[], before: number): boolean {
  if (ops.length > 24) return true; // too many to try: claim nothing
  const appends = ops
    .filter((op) => op.input.f === "append" && op.call <= before)
    .map((op) => String((op.input as { value: string }).value));
  const starts = [
    "",
    ...ops
      .filter((op) => (op.input.f === "put" || op.input.f === "write") && op.call <= before)
      .map((op) => String((op.input as { value: Value }).value)),
  ];
  const used = new Array<boolean>(appends.length).fill(false);
  const from = (pos: number): boolean => {
    if (pos === s.length) return true;
    for (let i = 0; i < appends.length; i++) {
      const a = appends[i] as string;
      if (used[i] || a === "" || !s.startsWith(a, pos)) continue;
      used[i] = true;
      if (from(pos + a.length)) return true;
      used[i] = false;
    }
    return false;
  };
  return starts.some((p) => s.startsWith(p) && from(p.length));
}

/**
 * One element of the set: a read without it after an add of it ended (lost), a read with it
 * before any add of it began (phantom), or a read with it and a later one without (nothing
 * removes elements).
 */
function setReason(ops: readonly HistoryOp[], w: Words): string | undefined {
  if (!ops.some((op) => op.input.f === "add" || op.input.f === "read-all")) return undefined;
  const reads = ops.filter((op) => op.input.f === "read-all" && op.output !== UNKNOWN);
  const holds = (op: HistoryOp) => op.output !== UNKNOWN && (op.output.values ?? []).length > 0;
  const adds = ops.filter((op) => op.input.f === "add");
  const element = adds[0]?.input.f === "add" ? show(adds[0].input.value) : "the element";
  for (const r of reads) {
    const added = adds.find((a) => a.return < r.call);
    if (!holds(r) && added)
      return `${who(r)} began at ${w.time(r.call)}, after ${who(added)} had ended (${w.time(added.return)}), yet it did not hold ${element}: the element was lost`;
    if (holds(r) && !adds.some((a) => a.call <= r.return))
      return `${who(r)} held the element at ${w.time(r.return)}, but no add of it had begun by then`;
  }
  for (const r of reads) {
    const later = reads.find((x) => holds(r) && !holds(x) && r.return < x.call);
    if (later)
      return `${who(r)} held ${element} (ended ${w.time(r.return)}), and ${who(later)}, begun later (${w.time(later.call)}), did not: nothing removes elements`;
  }
  return undefined;
}

function keyName(key: string): string {
  return key === "" ? "the register" : /^\d+$/.test(key) ? `key ${key}` : key;
}

function show(v: Value): string {
  return typeof v === "string"
    ? JSON.stringify(v)
    : v === null
      ? "nothing (absent)"
      : canonicalJson(v);
}

function showState(v: Value): string {
  return v === null ? "absent" : `as ${show(v)}`;
}
