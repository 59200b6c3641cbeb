// The report's data and page, without a browser: what the plots and tables get, the escaping of
// everything that comes from the run, and that a report that fails changes nothing.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { jsonBlock } from "../../contracts/html.js";
import { reportAfterRun } from "../report/after-run.js";
import { faultName, faultPeriods } from "../report/faults.js";
import { writeReport } from "../report/report.js";
import { type NemesisEvent, readRun } from "../report/run-files.js";
import { decimate, latencyPlots, perNode, throughput, timelineData } from "../report/series.js";

const S = 1e9;

/** A run folder with the given history lines and results. */
function runFolder(lines: object[], results: object = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), "report-"));
  writeFileSync(
    path.join(dir, "history.jsonl"),
    `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`,
  );
  writeFileSync(
    path.join(dir, "results.json"),
    JSON.stringify({
      valid: true,
      backend: "memory",
      runtime: "local",
      nodes: 2,
      workload: "kv",
      nemesis: ["partition"],
      ops: { invoke: 0, ok: 0, fail: 0, info: 0, protocol_errors: 0 },
      throughput: { ok_per_s: 1 },
      latency_ms: { p50: 1, p95: 2, p99: 3, max: 4 },
      checker: { result: "ok", model: "kv", partitions: 1, duration_ms: 1 },
      name: "t",
      seed: 1,
      interrupted: false,
      duration_s: 3,
      nemesis_events: 0,
      faults: {},
      ...results,
    }),
  );
  writeFileSync(path.join(dir, "config.yaml"), "name: t\nkeys: 2\n");
  writeFileSync(path.join(dir, "nemesis-ops.jsonl"), '{"at_ms":10,"f":"start-partition"}\n');
  return dir;
}

let index = 0;
const ev = (time: number, process: number | "nemesis", type: string, f: string, more = {}) => ({
  index: index++,
  time,
  process,
  type,
  f,
  ...more,
});

/** Two clients on two nodes, a partition from 1 s to 2 s, a kill that never stops. */
const sample = [
  ev(0.1 * S, 0, "invoke", "write", { key: "k1", value: 1, node: "n1" }),
  ev(0.2 * S, 1, "invoke", "read", { key: "k1", node: "n2" }),
  ev(0.3 * S, 0, "ok", "write", { key: "k1", value: 1 }),
  ev(0.4 * S, 1, "ok", "read", { key: "k1", value: 1 }),
  ev(1 * S, "nemesis", "info", "start-partition", {
    value: { shape: "majority-minority", groups: [["n1"], ["n2"]], verified: true },
  }),
  ev(1.1 * S, 0, "invoke", "cas", { key: "k1", value: [1, 2], node: "n1" }),
  ev(1.2 * S, 0, "fail", "cas", { key: "k1", value: [1, 2] }),
  ev(1.3 * S, 1, "invoke", "write", { key: "k1", value: 3, node: "n2" }),
  ev(1.5 * S, "nemesis", "info", "start-kill", { value: { killed: ["n2"], verified: true } }),
  ev(2 * S, "nemesis", "info", "stop-partition", { value: { healed: true } }),
  ev(2.5 * S, 1, "info", "write", { key: "k1", value: 3, error: "timeout" }),
  ev(2.6 * S, 3, "invoke", "read", { key: "k1", node: "n1" }),
  ev(3 * S, 0, "invoke", "write", { key: "k1", value: 4, node: "n1" }),
];

describe("the run's files, read back", () => {
  const run = readRun(runFolder(sample));

  it("pairs each invoke with its process's next completion, and keeps the nodes", () => {
    const { ops } = run;
    expect(ops.count).toBe(6);
    expect(ops.outcome.map((o) => ["ok", "fail", "info", "none"][o])).toEqual([
      "ok",
      "ok",
      "fail",
      "info",
      "none",
      "none",
    ]);
    expect(ops.ret[3]).toBe(2.5 * S);
    expect(Number.isNaN(ops.ret[4] as number)).toBe(true);
    // A read shows what it read.
    expect(ops.values[ops.value[1] as number]).toBe("1");
    expect(ops.node.map((n) => ops.nodes[n])).toEqual(["n1", "n2", "n1", "n2", "n1", "n1"]);
    expect(run.nemesis).toHaveLength(3);
    expect(run.end).toBe(3 * S);
    expect(run.config.keys).toBe(2);
    expect(run.schedule).toEqual([{ at_ms: 10, f: "start-partition" }]);
  });

  it("fault periods: each start to its stop, named; one still in force lasts to the end", () => {
    expect(faultPeriods(run.nemesis, run.end)).toEqual([
      {
        kind: "partition",
        name: "partition majority-minority n1 | n2",
        from: 1,
        to: 2,
        verified: true,
      },
      { kind: "kill", name: "kill n2", from: 1.5, to: 3, verified: true },
    ]);
  });

  it("a start that failed is no period; overlapping faults of one kind pair first in, first out", () => {
    const events: NemesisEvent[] = [
      { time: 1 * S, f: "start-pause", value: { paused: ["n1"], verified: true } },
      { time: 2 * S, f: "start-pause", value: { paused: ["n2"] } },
      { time: 3 * S, f: "stop-pause", value: {} },
      { time: 4 * S, f: "start-loss", value: { error: "no" } },
      { time: 5 * S, f: "stop-pause", value: {} },
    ];
    expect(faultPeriods(events, 9 * S)).toEqual([
      { kind: "pause", name: "pause n1", from: 1, to: 3, verified: true },
      { kind: "pause", name: "pause n2", from: 2, to: 5, verified: false },
    ]);
    expect(faultName("clock", { skew_ms: { n1: 7200000, n2: -30000 } })).toBe(
      "clock n1 +7200 s, n2 -30 s",
    );
    expect(faultName("loss", { loss: 0.3, nodes: ["n1", "n2"] })).toBe("loss 30% n1 n2");
  });

  it("latency: a series per operation type and outcome, in the workload's order", () => {
    const plots = latencyPlots(run.ops);
    expect(plots.map((p) => p.f)).toEqual(["read", "write", "cas"]);
    const write = plots[1]!;
    expect(write.series.map((s) => [s.outcome, s.total])).toEqual([
      ["ok", 1],
      ["info", 1],
    ]);
    expect(write.series[0]).toMatchObject({ x: [0.1], y: [200] });
    expect(write.series[1]).toMatchObject({ x: [1.3], y: [1200] });
  });

  it("throughput: completions per second by outcome, every completion in one bucket", () => {
    const t = throughput(run.ops);
    expect(t.bucket).toBe(0.1);
    expect(t.from).toBe(0.1);
    const total = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) * t.bucket);
    expect([total(t.ok), total(t.fail), total(t.info)]).toEqual([2, 1, 1]);
    // The write's ok at 0.3 s falls in the third bucket (0.3 to 0.4 s from 0.1 s).
    expect(t.ok[2]).toBe(10);
  });

  it("per node, and the timeline's columns decode to the operations", () => {
    expect(perNode(run.ops)).toEqual([
      { node: "n1", invoke: 4, ok: 1, fail: 1, info: 0 },
      { node: "n2", invoke: 2, ok: 1, fail: 0, info: 1 },
    ]);
    const t = timelineData(run.ops);
    let at = 0;
    const calls = t.dt.map((d) => {
      at += d;
      return at;
    });
    expect(calls).toEqual([100_000, 200_000, 1_100_000, 1_300_000, 2_600_000, 3_000_000]);
    expect(t.dur).toEqual([200_000, 200_000, 100_000, 1_200_000, -1, -1]);
    expect(t.code.map((c) => `${t.fs[c >> 2]}:${t.outcomes[c & 3]}`)).toEqual([
      "write:ok",
      "read:ok",
      "cas:fail",
      "write:info",
      "read:none",
      "write:none",
    ]);
  });
});

describe("decimation of a latency series", () => {
  it("keeps every point up to the limit", () => {
    expect(decimate([1, 2, 3], [5, 6, 7], 3)).toEqual([0, 1, 2]);
  });

  it("past it: at most the limit, each time column's fastest and slowest kept", () => {
    const n = 200_000;
    const x: number[] = [];
    const y: number[] = [];
    let seed = 7;
    const rand = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = 0; i < n; i++) {
      x.push((i / n) * 100);
      y.push(1 + rand() * 10);
    }
    y[123_456] = 5000; // an outlier
    y[77] = 0.01;
    const kept = decimate(x, y, 20_000);
    expect(kept.length).toBeLessThanOrEqual(20_000);
    expect(kept.length).toBeGreaterThan(1000);
    expect(kept).toContain(123_456);
    expect(kept).toContain(77);
    expect([...kept].sort((a, b) => a - b)).toEqual(kept);
    // Every tenth of the time range still has its slowest point.
    for (let c = 0; c < 10; c++) {
      const from = (c * n) / 10;
      let slowest = from;
      for (let i = from; i < from + n / 10; i++)
        if ((y[i] as number) > (y[slowest] as number)) slowest = i;
      expect(kept).toContain(slowest);
    }
  });
});

describe("report.html", () => {
  const evil = "</script><script>alert(1)</script><!--";

  it("is one self-contained page: nothing fetched, every script closed where it should be", async () => {
    const lines = [
      ev(0.1 * S, 0, "invoke", "write", { key: evil, value: evil, node: "n1" }),
      ev(0.2 * S, 0, "ok", "write", { key: evil, value: evil }),
    ];
    const dir = runFolder(lines, { name: evil, backend: evil });
    const file = await writeReport(dir);
    expect(file).toBe(path.join(dir, "report.html"));
    const html = readFileSync(file, "utf8");
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).not.toMatch(/<script[^>]*\bsrc=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/https?:\/\/(?!github\.com\/leeoniya)/);
    expect(html).not.toContain("alert(1)</script>");
    expect(html).not.toContain("<!--");
    const opened = html.match(/<script\b/g)?.length;
    expect(opened).toBe(html.match(/<\/script>/g)?.length);
    // uPlot, the page's five scripts, and the JSON blocks.
    expect(opened).toBe(1 + 5 + 5);
    const blocks = new Map<string, unknown>();
    for (const m of html.matchAll(
      /<script type="application\/json" id="([^"]+)">([\s\S]*?)<\/script>/g,
    )) {
      blocks.set(m[1] as string, JSON.parse(m[2] as string));
    }
    const run = blocks.get("report-run") as { results: { name: string } };
    expect(run.results.name).toBe(evil);
    const timeline = blocks.get("report-timeline") as { keys: string[] };
    expect(timeline.keys).toEqual([evil]);
    expect(html).toContain("<title>&#60;/script&#62;");
  });

  it("jsonBlock: a < anywhere is \\u003c, and the block parses back to the value", () => {
    const value = { [evil]: [evil, "\u2028"] };
    const block = jsonBlock("x", value);
    const inner = block.slice(block.indexOf(">") + 1, block.lastIndexOf("</script>"));
    expect(inner).not.toContain("<");
    expect(JSON.parse(inner)).toEqual(value);
  });

  it("an invalid run gets the violation, its witness in words and the checker's page", async () => {
    // k1: written 1 (done at 0.2 s), then a read from 0.3 s returns 2, which nobody wrote...
    // and a write of 2 that began after the read returned.
    const lines = [
      ev(0.1 * S, 0, "invoke", "write", { key: "k1", value: 1, node: "n1" }),
      ev(0.2 * S, 0, "ok", "write", { key: "k1", value: 1 }),
      ev(0.3 * S, 1, "invoke", "read", { key: "k1", node: "n2" }),
      ev(0.4 * S, 1, "ok", "read", { key: "k1", value: 2 }),
      ev(0.5 * S, 0, "invoke", "write", { key: "k1", value: 2, node: "n1" }),
      ev(0.6 * S, 0, "ok", "write", { key: "k1", value: 2 }),
      ev(0.7 * S, 0, "invoke", "read", { key: "k2", node: "n1" }),
      ev(0.8 * S, 0, "ok", "read", { key: "k2", value: null }),
    ];
    const dir = runFolder(lines, {
      valid: false,
      violating_keys: ["k1"],
      checker: { result: "illegal", model: "kv", partitions: 2, duration_ms: 1 },
    });
    const html = readFileSync(await writeReport(dir), "utf8");
    const violation = JSON.parse(
      /<script type="application\/json" id="report-violation">([\s\S]*?)<\/script>/.exec(
        html,
      )?.[1] ?? "null",
    ) as {
      keys: string[];
      shown: { key: string; words: string[]; witness: { ops: { node: string }[] } }[];
      visualizationFile: string;
    };
    expect(violation.keys).toEqual(["k1"]);
    const k1 = violation.shown[0]!;
    expect(k1.key).toBe("k1");
    expect(k1.witness.ops.length).toBeGreaterThanOrEqual(2);
    expect(k1.witness.ops.length).toBeLessThanOrEqual(3);
    expect(k1.witness.ops.map((o) => o.node).sort()).toContain("n2");
    expect(k1.words.at(-1)).toMatch(/k1/);
    expect(violation.visualizationFile).toBe("visualization.html");
    expect(html).toContain('id="report-visualization"');
    const page = readFileSync(path.join(dir, "visualization.html"), "utf8");
    expect(page).toContain("not linearizable");
  });

  it("a report that cannot be written is a line in harness.log and on stderr, nothing more", async () => {
    const logged: string[] = [];
    const printed: string[] = [];
    const err = process.stderr.write;
    const stderr: string[] = [];
    process.stderr.write = ((chunk: string) => {
      stderr.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      const dir = mkdtempSync(path.join(tmpdir(), "report-none-"));
      const file = await reportAfterRun(
        dir,
        (m) => logged.push(m),
        (t) => printed.push(t),
      );
      expect(file).toBeUndefined();
    } finally {
      process.stderr.write = err;
    }
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^report: not written: .*results\.json/);
    expect(stderr.join("")).toMatch(/^paxos-harness: report\.html not written: .*results\.json/);
    expect(printed).toEqual([]);
  });
});
