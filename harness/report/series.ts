// What the report's plots and tables draw, computed from the run's operations (run-files.ts):
// latency points per operation type and outcome (decimated for big runs), throughput per time
// bucket by outcome, operations per node, and the operations as compact columns for the
// timeline. Pure: the page only draws what it gets.

import { type ClientOps, OUTCOMES } from "./run-files.js";

/** Outcomes plotted (an operation with no completion has no latency and no completion time). */
const PLOTTED = ["ok", "fail", "info"] as const;

/** At most this many points per latency series (one operation type, one outcome). */
export const MAX_POINTS_PER_SERIES = 20_000;

export interface LatencySeries {
  outcome: (typeof PLOTTED)[number];
  /** Operations in the series, before decimation. */
  total: number;
  /** Invoke time, s; latency, ms; in time order. */
  x: number[];
  y: number[];
}

export interface LatencyPlot {
  f: string;
  series: LatencySeries[];
}

/** Latency (completion - invoke) per operation type, one series per outcome. */
export function latencyPlots(ops: ClientOps, maxPoints = MAX_POINTS_PER_SERIES): LatencyPlot[] {
  const byF = new Map<number, number[][]>();
  for (let i = 0; i < ops.count; i++) {
    const outcome = OUTCOMES[ops.outcome[i] as number];
    const s = PLOTTED.indexOf(outcome as (typeof PLOTTED)[number]);
    if (s < 0) continue;
    const f = ops.f[i] as number;
    let lists = byF.get(f);
    if (!lists) {
      lists = PLOTTED.map(() => []);
      byF.set(f, lists);
    }
    (lists[s] as number[]).push(i);
  }
  const plots: LatencyPlot[] = [];
  for (const [f, lists] of byF) {
    plots.push({
      f: ops.fs[f] as string,
      series: lists.flatMap((indices, s) => {
        if (indices.length === 0) return [];
        const x = indices.map((i) => (ops.call[i] as number) / 1e9);
        const y = indices.map((i) => latencyMs(ops, i));
        const kept = decimate(x, y, maxPoints);
        return [
          {
            outcome: PLOTTED[s] as LatencySeries["outcome"],
            total: indices.length,
            x: kept.map((k) => round(x[k] as number, 4)),
            y: kept.map((k) => significant(y[k] as number)),
          },
        ];
      }),
    });
  }
  return plots.sort((a, b) => rank(a.f) - rank(b.f) || a.f.localeCompare(b.f));
}

const F_ORDER = ["read", "write", "cas", "add", "read-all"];
const rank = (f: string) => (F_ORDER.includes(f) ? F_ORDER.indexOf(f) : F_ORDER.length);

/** Latency in ms, at least 1 µs (the y axis is logarithmic). */
function latencyMs(ops: ClientOps, i: number): number {
  return Math.max(0.001, ((ops.ret[i] as number) - (ops.call[i] as number)) / 1e6);
}

/**
 * The indices of the points to keep so that a scatter plot looks the same: one point per
 * occupied cell of a grid over the plot (time in columns, log latency in rows), the grid as fine
 * as `max` points allow. Every column's fastest and slowest operation is in a cell of its own,
 * so the envelope and the outliers stay; what goes is only points drawn over each other.
 * All points when there are at most `max`.
 */
export function decimate(x: readonly number[], y: readonly number[], max: number): number[] {
  const n = x.length;
  if (n <= max) return x.map((_, i) => i);
  let x0 = Number.POSITIVE_INFINITY;
  let x1 = Number.NEGATIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let y1 = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const ly = Math.log10(y[i] as number);
    x0 = Math.min(x0, x[i] as number);
    x1 = Math.max(x1, x[i] as number);
    y0 = Math.min(y0, ly);
    y1 = Math.max(y1, ly);
  }
  // A plot is about 1200 x 200 pixels: start there, coarser until the cells fit in `max`.
  for (
    let columns = 1200, rows = 200;
    ;
    columns = Math.floor(columns * 0.8), rows = Math.floor(rows * 0.8)
  ) {
    const kept = gridPick(x, y, { x0, x1, y0, y1, columns, rows }, max);
    if (kept) return kept;
  }
}

function gridPick(
  x: readonly number[],
  y: readonly number[],
  g: { x0: number; x1: number; y0: number; y1: number; columns: number; rows: number },
  max: number,
): number[] | undefined {
  const cx = g.x1 > g.x0 ? (g.columns - 1) / (g.x1 - g.x0) : 0;
  const cy = g.y1 > g.y0 ? (g.rows - 1) / (g.y1 - g.y0) : 0;
  const taken = new Uint8Array(g.columns * g.rows);
  // Each column's extremes first, so that they survive whatever else is dropped.
  const low = new Int32Array(g.columns).fill(-1);
  const high = new Int32Array(g.columns).fill(-1);
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(((x[i] as number) - g.x0) * cx);
    if (low[c] === -1 || (y[i] as number) < (y[low[c] as number] as number)) low[c] = i;
    if (high[c] === -1 || (y[i] as number) > (y[high[c] as number] as number)) high[c] = i;
  }
  const kept: number[] = [];
  const take = (i: number) => {
    const c = Math.floor(((x[i] as number) - g.x0) * cx);
    const r = Math.floor((Math.log10(y[i] as number) - g.y0) * cy);
    const cell = c * g.rows + r;
    if (taken[cell] === 1) return;
    taken[cell] = 1;
    kept.push(i);
  };
  for (let c = 0; c < g.columns; c++) {
    if (low[c] !== -1) take(low[c] as number);
    if (high[c] !== -1) take(high[c] as number);
  }
  for (let i = 0; i < x.length; i++) {
    take(i);
    if (kept.length > max) return undefined;
  }
  return kept.sort((a, b) => a - b);
}

export interface Throughput {
  /** Bucket width, s; the first bucket starts at `from`. */
  bucket: number;
  from: number;
  /** Completions per second in each bucket, by outcome. */
  ok: number[];
  fail: number[];
  info: number[];
}

/**
 * Completions per second by outcome, in buckets of a second or finer (a tenth for a short run:
 * at least ~100 buckets up to 100 s), starting at the first operation.
 */
export function throughput(ops: ClientOps): Throughput {
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < ops.count; i++) {
    from = Math.min(from, ops.call[i] as number);
    const r = ops.ret[i] as number;
    if (!Number.isNaN(r)) to = Math.max(to, r);
  }
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    return { bucket: 1, from: 0, ok: [], fail: [], info: [] };
  }
  const seconds = (to - from) / 1e9;
  const bucket = [0.1, 0.2, 0.5, 1].find((b) => seconds / b <= 200) ?? 1;
  // In whole nanoseconds: 0.3 / 0.1 is 2.9999999999999996 in floating point.
  const bucketNs = Math.round(bucket * 1e9);
  const n = Math.floor((to - from) / bucketNs) + 1;
  const counts = PLOTTED.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < ops.count; i++) {
    const s = PLOTTED.indexOf(OUTCOMES[ops.outcome[i] as number] as (typeof PLOTTED)[number]);
    if (s < 0) continue;
    const b = Math.floor(((ops.ret[i] as number) - from) / bucketNs);
    (counts[s] as number[])[b] = ((counts[s] as number[])[b] as number) + 1;
  }
  const rate = (c: number[]) => c.map((k) => round(k / bucket, 1));
  return {
    bucket,
    from: round(from / 1e9, 4),
    ok: rate(counts[0] as number[]),
    fail: rate(counts[1] as number[]),
    info: rate(counts[2] as number[]),
  };
}

export interface NodeCounts {
  node: string;
  invoke: number;
  ok: number;
  fail: number;
  info: number;
}

/** Operations per node by outcome; empty when the history does not name nodes. */
export function perNode(ops: ClientOps): NodeCounts[] {
  const rows = ops.nodes.map((node) => ({ node, invoke: 0, ok: 0, fail: 0, info: 0 }));
  for (let i = 0; i < ops.count; i++) {
    const row = rows[ops.node[i] as number];
    if (!row) continue;
    row.invoke++;
    const outcome = OUTCOMES[ops.outcome[i] as number];
    if (outcome === "ok" || outcome === "fail" || outcome === "info") row[outcome]++;
  }
  return rows.sort((a, b) => a.node.localeCompare(b.node, "en", { numeric: true }));
}

/**
 * Every operation for the timeline, in call order, as columns of integers (a million operations
 * must stay a few bytes each): call times in µs as differences from the previous one, durations
 * in µs (-1: never completed), process, code (f * 4 + outcome: OUTCOMES' order), and the
 * indices of key, value and node (-1: none) into the tables.
 */
export interface TimelineData {
  dt: number[];
  dur: number[];
  process: number[];
  code: number[];
  key: number[];
  value: number[];
  node: number[];
  fs: string[];
  outcomes: readonly string[];
  keys: string[];
  values: string[];
  nodes: string[];
}

export function timelineData(ops: ClientOps): TimelineData {
  const order = Array.from({ length: ops.count }, (_, i) => i).sort(
    (a, b) => (ops.call[a] as number) - (ops.call[b] as number) || a - b,
  );
  const out: TimelineData = {
    dt: [],
    dur: [],
    process: [],
    code: [],
    key: [],
    value: [],
    node: [],
    fs: ops.fs,
    outcomes: OUTCOMES,
    keys: ops.keys,
    values: ops.values,
    nodes: ops.nodes,
  };
  let last = 0;
  for (const i of order) {
    const call = Math.round((ops.call[i] as number) / 1e3);
    const ret = ops.ret[i] as number;
    out.dt.push(call - last);
    last = call;
    out.dur.push(Number.isNaN(ret) ? -1 : Math.max(0, Math.round(ret / 1e3) - call));
    out.process.push(ops.process[i] as number);
    out.code.push((ops.f[i] as number) * 4 + (ops.outcome[i] as number));
    out.key.push(ops.key[i] as number);
    out.value.push(ops.value[i] as number);
    out.node.push(ops.node[i] as number);
  }
  return out;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Three significant digits: a latency plot needs no more. */
function significant(x: number): number {
  return Number(x.toPrecision(3));
}
