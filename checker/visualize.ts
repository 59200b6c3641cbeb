// One self-contained HTML page of a checked history, after Porcupine's visualization.
//
// The page needs no network: CSS and JS are inline (real files, visualize/page.css and page.js,
// read by visualize-page.ts), and the data of each partition is embedded as its own JSON block,
// parsed and drawn only when the partition is selected, so that a history of thousands of
// partitions opens at once. Everything that needs
// the model (descriptions, the states along each linearization, which operations could not come
// next) is computed here; the page only lays out and draws.

import { escapeHtml, htmlHead, jsonBlock } from "../contracts/html.js";
import type { CheckOutcome, CheckResult, Model, Operation, PartitionInfo } from "./model.js";
import { UNKNOWN } from "./model.js";
import { StringTable } from "./string-table.js";
import { PAGE_CSS, PAGE_JS } from "./visualize-page.js";

export interface VisualizeOptions {
  /** The page's title; default `Linearizability check: <model name>`. */
  title?: string;
}

/** Beyond the first (longest) linearization of a partition, show at most this many more... */
const MAX_EXTRA_LINEARIZATIONS = 49;
/** ...and replay at most this many steps for them, so that the page stays linear in size. */
const EXTRA_STEP_BUDGET = 50_000;

const RESULT_ORDER: Record<CheckResult, number> = { illegal: 0, unknown: 1, ok: 2 };

/**
 * One operation as the page gets it: client, call slot, return slot (-1: never returned),
 * description (string table index), index in the whole history, 1 if its output is unknown.
 * Slots index the partition's sorted distinct finite times (`PartitionData.t`).
 */
export type OpRow = [number, number, number, number, number, 0 | 1];

/** One linearization as the page gets it. */
export interface LinearizationData {
  /** Operation indices, in linearization order. */
  o: number[];
  /** For each of `o`, the model state after it (string table index). */
  s: number[];
  /** Operations that could not be linearized next after all of `o`. */
  x: number[];
  /** Set when the model rejected step `b` when replaying: `o` was cut there. */
  b?: number;
}

/** The embedded JSON of one partition. */
export interface PartitionData {
  /** The partition's label. */
  label: string;
  result: CheckResult;
  /** String table: descriptions of operations and states. */
  s: string[];
  /** Sorted distinct finite call/return times. */
  t: number[];
  o: OpRow[];
  /** Linearizations shown (longest first). */
  l: LinearizationData[];
  /** How many linearizations the checker found (more than `l.length` when capped). */
  lt: number;
  /** The initial state's description (string table index). */
  init: number;
}

/** The embedded JSON of the whole page: the partition list, in display order. */
export interface PageMeta {
  title: string;
  model: string;
  result: CheckResult;
  ops: number;
  /** Per partition, in display order: label, result, ops, clients, linearized, stuck. */
  parts: [string, CheckResult, number, number, number, number][];
}

export function renderVisualization<S, I, O>(
  model: Model<S, I, O>,
  outcome: CheckOutcome<I, O>,
  options: VisualizeOptions = {},
): string {
  const title = options.title ?? `Linearizability check: ${model.name}`;
  // Illegal partitions first, then unknown, then ok; the checker's order within each.
  const order = outcome.partitions
    .map((_, i) => i)
    .sort(
      (a, b) =>
        RESULT_ORDER[outcome.partitions[a]!.result] - RESULT_ORDER[outcome.partitions[b]!.result] ||
        a - b,
    );
  const blocks: string[] = [];
  const meta: PageMeta = {
    title,
    model: model.name,
    result: outcome.result,
    ops: outcome.ops,
    parts: [],
  };
  for (const [shown, index] of order.entries()) {
    const data = preparePartition(model, outcome.partitions[index]!);
    const first = data.l[0];
    meta.parts.push([
      data.label,
      data.result,
      data.o.length,
      new Set(data.o.map((op) => op[0])).size,
      first ? first.o.length : 0,
      first ? first.x.length : 0,
    ]);
    blocks.push(jsonBlock(`viz-p${shown}`, data));
  }

  const counts = { illegal: 0, unknown: 0, ok: 0 };
  for (const p of outcome.partitions) counts[p.result]++;
  const n = outcome.partitionCount;
  const breakdown = (["illegal", "unknown", "ok"] as const)
    .filter((r) => counts[r] > 0)
    .map((r) => `${counts[r]} ${r}`)
    .join(", ");
  const duration = Number.isFinite(outcome.durationMs)
    ? ` in ${formatDuration(outcome.durationMs)}`
    : "";
  const summary =
    `${count(outcome.ops)} operation${outcome.ops === 1 ? "" : "s"} · ` +
    `${count(n)} partition${n === 1 ? "" : "s"}${n > 0 ? ` (${breakdown})` : ""} · ` +
    `model ${model.name}, checked${duration}`;

  return [
    ...htmlHead(title, [`<style>${PAGE_CSS}</style>`]),
    "<body>",
    "<header>",
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="summary"><span class="verdict r-${outcome.result}">${verdictText(outcome.result)}</span> `,
    `<span id="summary-text">${escapeHtml(summary)}</span></p>`,
    "</header>",
    '<div id="app">',
    '<nav id="side" hidden><input id="filter" type="search" placeholder="Filter partitions" ' +
      'aria-label="Filter partitions"><div id="plist-info"></div><ol id="plist"></ol></nav>',
    '<main id="view"><noscript>This page draws the history with JavaScript.</noscript></main>',
    "</div>",
    '<div id="tip" role="tooltip" hidden></div>',
    jsonBlock("viz-meta", meta),
    ...blocks,
    `<script>${PAGE_JS}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

/** The page data of one partition: descriptions, time slots, linearizations replayed. */
function preparePartition<S, I, O>(
  model: Model<S, I, O>,
  part: PartitionInfo<I, O>,
): PartitionData {
  const strings = new StringTable();
  const ops = part.ops;

  // Compressed time: the sorted distinct finite call/return times become evenly spaced slots.
  const all: number[] = [];
  for (const op of ops) {
    if (Number.isFinite(op.call)) all.push(op.call);
    if (Number.isFinite(op.return)) all.push(op.return);
  }
  const sorted = Float64Array.from(all).sort();
  const times: number[] = [];
  const slotOf = new Map<number, number>();
  for (const t of sorted) {
    if (times.length === 0 || times[times.length - 1] !== t) {
      slotOf.set(t, times.length);
      times.push(t);
    }
  }

  const rows: OpRow[] = ops.map((op, i) => {
    const call = slotOf.get(op.call) ?? 0;
    const ret = Number.isFinite(op.return) ? Math.max(call, slotOf.get(op.return) ?? call) : -1;
    return [
      op.clientId,
      call,
      ret,
      strings.add(describe(() => model.describeOperation(op.input, op.output))),
      part.origin[i] ?? i,
      op.output === UNKNOWN ? 1 : 0,
    ];
  });

  const lins: LinearizationData[] = [];
  const found = part.linearizations;
  let budget = EXTRA_STEP_BUDGET;
  for (let k = 0; k < found.length && k <= MAX_EXTRA_LINEARIZATIONS; k++) {
    const seq = found[k]!;
    if (k > 0) {
      if (seq.length > budget) break;
      budget -= seq.length;
    }
    lins.push(replay(model, ops, seq, strings, k === 0 ? part.stuck : undefined));
  }
  if (lins.length === 0 && part.stuck.length > 0) {
    // Nothing could be linearized first: show the stuck operations against the initial state.
    lins.push(replay(model, ops, [], strings, part.stuck));
  }

  return {
    label: part.label,
    result: part.result,
    s: strings.list,
    t: times,
    o: rows,
    l: lins,
    lt: Math.max(found.length, lins.length),
    init: strings.add(describe(() => model.describeState(model.init()))),
  };
}

/**
 * Replays a linearization from the initial state, recording the state after each step, and
 * finds the operations that could not come next: those the real-time order allows next whose
 * output the model rejects in the final state. `stuck`, when given and not empty, is the
 * checker's own answer and is used instead.
 */
function replay<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  seq: readonly number[],
  strings: StringTable,
  stuck: readonly number[] | undefined,
): LinearizationData {
  const lin: LinearizationData = { o: [], s: [], x: [] };
  const done = new Uint8Array(ops.length);
  let state = model.init();
  for (const [k, index] of seq.entries()) {
    const op = ops[index];
    if (op === undefined || done[index] === 1) {
      lin.b = k;
      break;
    }
    const step = model.step(state, op.input, op.output);
    if (!step.ok) {
      lin.b = k;
      break;
    }
    state = step.state;
    done[index] = 1;
    lin.o.push(index);
    lin.s.push(strings.add(describe(() => model.describeState(state))));
  }
  if (stuck !== undefined && stuck.length > 0 && lin.b === undefined) {
    lin.x = stuck.filter((i) => i >= 0 && i < ops.length && done[i] === 0);
    return lin;
  }
  if (lin.o.length === ops.length) return lin;
  // An operation can come next iff no other pending operation returned before it was called.
  let first = Number.POSITIVE_INFINITY;
  let second = Number.POSITIVE_INFINITY;
  for (const [i, op] of ops.entries()) {
    if (done[i] === 1) continue;
    if (op.return < first) {
      second = first;
      first = op.return;
    } else if (op.return < second) {
      second = op.return;
    }
  }
  for (const [i, op] of ops.entries()) {
    if (done[i] === 1) continue;
    const bound = op.return === first ? second : first;
    if (op.call > bound) continue;
    if (!model.step(state, op.input, op.output).ok) lin.x.push(i);
  }
  return lin;
}

/** A description, or the error a model's describe function threw (the page must still render). */
function describe(f: () => string): string {
  try {
    return String(f());
  } catch (e) {
    return `(description failed: ${e instanceof Error ? e.message : String(e)})`;
  }
}

/** A `<script type="application/json">` block; `<` is escaped so nothing can close it early. */
function verdictText(r: CheckResult): string {
  return r === "ok" ? "linearizable" : r === "illegal" ? "not linearizable" : "unknown";
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
