// What a suite writes, from a summary made here (no run): junit.xml well-formed, with the
// right counts, a failure for the invalid run and errors for error and unknown runs, every
// value escaped; index.html with the failures first, relative links, nothing from the network,
// every value escaped; the exit code's order; the floor from a written history.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT } from "../exit.js";
import type { Results } from "../results.js";
import { floorCheck, floorMessage, readWarmup } from "../suite/floor.js";
import { indexHtml } from "../suite/index-page.js";
import { junitXml } from "../suite/junit.js";
import {
  countVerdicts,
  failuresFirst,
  type RunEntry,
  type SuiteSummary,
  suiteCode,
} from "../suite/summary.js";
import { findAll, parseXml } from "./xml-tree.js";

function entry(
  index: number,
  verdict: RunEntry["verdict"],
  extra: Partial<RunEntry> = {},
): RunEntry {
  const code = { valid: 0, invalid: 1, unknown: 2, error: 3, "not run": null }[
    verdict
  ] as RunEntry["code"];
  return {
    index,
    name: `memory-kv [run=${index}]`,
    test: "memory-kv",
    item: 1,
    matrix: {},
    repetition: null,
    backend: "memory",
    runtime: "local",
    workload: "kv",
    nemesis: ["kill"],
    faults: verdict === "not run" ? {} : { kill: { started: 2, verified: 2 } },
    ops: verdict === "not run" ? null : { invoke: 500, ok: 300, fail: 190, info: 10 },
    ok_per_s: verdict === "not run" ? null : 60.5,
    floor: null,
    verdict,
    code,
    illegal_keys: [],
    why: null,
    seconds: verdict === "not run" ? null : 7.2,
    seed: 1,
    dir: verdict === "not run" ? null : `store/memory-kv/2026010${index}T000000`,
    report: verdict === "not run" ? null : `../../memory-kv/2026010${index}T000000/report.html`,
    ...extra,
  };
}

function summaryOf(runs: RunEntry[], name = "night"): SuiteSummary {
  return {
    suite: "suites/night.yaml",
    name,
    folder: "store/suites/20260101T000000",
    started: "2026-01-01T00:00:00.000Z",
    duration_s: 123.4,
    floor: 0.1,
    code: suiteCode(runs, false),
    interrupted: false,
    counts: countVerdicts(runs),
    runs,
  };
}

const NIGHT = [
  entry(1, "valid"),
  entry(2, "invalid", {
    name: "broken-kv [backend=broken]",
    backend: "broken",
    illegal_keys: ["k1", "k7"],
    why: "illegal keys: k1, k7 (of 10)",
  }),
  entry(3, "unknown", { why: "timeout" }),
  entry(4, "error", { why: "too little load to mean anything: 3.1 ok/s before the first fault" }),
  entry(5, "not run", { why: "interrupted before its turn" }),
  entry(6, "valid"),
];

describe("junit.xml", () => {
  it("one testcase per run; a failure for the invalid one, errors for error and unknown, skipped for not run", () => {
    const xml = junitXml(summaryOf(NIGHT));
    const root = parseXml(xml);
    expect(root.name).toBe("testsuites");
    const [suite] = findAll(root, "testsuite");
    for (const e of [root, suite!]) {
      expect(e.attrs).toMatchObject({
        name: "night",
        tests: "6",
        failures: "1",
        errors: "2",
        skipped: "1",
        time: "123.400",
      });
    }
    const cases = findAll(root, "testcase");
    expect(cases.map((c) => [c.attrs.classname, c.attrs.name])).toEqual(
      NIGHT.map((r) => ["night", r.name]),
    );
    const failures = findAll(root, "failure");
    expect(failures).toHaveLength(1);
    expect(cases[1]?.children.map((c) => c.name)).toContain("failure");
    expect(failures[0]?.attrs.message).toBe(
      "INVALID: illegal keys: k1, k7; report: ../../memory-kv/20260102T000000/report.html",
    );
    expect(findAll(root, "error").map((e) => [e.attrs.type, e.attrs.message])).toEqual([
      ["unknown", "UNKNOWN: timeout"],
      ["error", "ERROR: too little load to mean anything: 3.1 ok/s before the first fault"],
    ]);
    expect(findAll(cases[4]!, "skipped")).toHaveLength(1);
    expect(cases[0]?.attrs.time).toBe("7.200");
  });

  it("escapes what it writes: markup, quotes, newlines in attributes; drops what XML cannot hold", () => {
    const nasty = `a<b>&"c'\n\u0001d </testcase>]]>`;
    const xml = junitXml(
      summaryOf([entry(1, "invalid", { name: nasty, why: nasty, illegal_keys: [] })], `s&<"`),
    );
    const root = parseXml(xml);
    const [testcase] = findAll(root, "testcase");
    expect(testcase?.attrs.name).toBe(nasty.replace("\u0001", ""));
    expect(testcase?.attrs.classname).toBe(`s&<"`);
    expect(findAll(root, "failure")[0]?.text).toBe(nasty.replace("\u0001", ""));
    expect(xml).not.toContain("\u0001");
  });

  it("the tokenizer itself refuses what is not well-formed", () => {
    expect(() => parseXml("<a><b></a></b>")).toThrow(/closing tag/);
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow(/twice/);
    expect(() => parseXml("<a>1 & 2</a>")).toThrow(/stray &/);
    expect(() => parseXml("<a>")).toThrow(/left open/);
    expect(() => parseXml("<a x=1/>")).toThrow(/bad tag/);
    expect(() => parseXml("<a/><b/>")).toThrow(/second root/);
  });
});

describe("index.html", () => {
  const html = indexHtml(summaryOf(NIGHT));
  const rows = [...html.matchAll(/<tr data-verdict="([^"]+)"[^>]*>(.*?)<\/tr>/g)];

  it("a row per run, failures first: invalid, error, unknown, not run, then valid", () => {
    expect(rows.map((r) => r[1])).toEqual([
      "invalid",
      "error",
      "unknown",
      "not run",
      "valid",
      "valid",
    ]);
    expect(rows[0]?.[2]).toContain("broken-kv [backend=broken]");
    expect(rows[0]?.[2]).toContain("illegal keys: k1, k7 (of 10)");
    expect(rows[0]?.[2]).toContain("kill 2/2");
    expect(rows[0]?.[2]).toContain('href="../../memory-kv/20260102T000000/report.html"');
    expect(failuresFirst(NIGHT).map((r) => r.index)).toEqual([2, 4, 3, 5, 1, 6]);
  });

  it("is self-contained: styles and script inlined, no URL to fetch", () => {
    expect(html).toMatch(/<style>[^<]*\.badge/);
    expect(html).toMatch(/<script>[\s\S]*aria-pressed[\s\S]*<\/script>/);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<link\b/);
  });

  it("escapes every value of the summary", () => {
    const page = indexHtml(
      summaryOf([entry(1, "invalid", { name: "<img src=x onerror=alert(1)>", why: "<b>" })]),
    );
    expect(page).not.toContain("<img src=x");
    expect(page).toContain("&#60;img src=x onerror=alert(1)&#62;");
    expect(page).not.toContain("<b>");
  });
});

describe("the suite's exit code", () => {
  it("is the most serious run's: error 3, invalid 1, unknown 2, valid 0; cut short at least 2", () => {
    expect(suiteCode([entry(1, "valid"), entry(2, "unknown")], false)).toBe(EXIT.unknown);
    expect(suiteCode([entry(1, "unknown"), entry(2, "invalid")], false)).toBe(EXIT.invalid);
    expect(suiteCode([entry(1, "invalid"), entry(2, "error")], false)).toBe(EXIT.error);
    expect(suiteCode([entry(1, "valid"), entry(2, "valid")], false)).toBe(EXIT.ok);
    expect(suiteCode([entry(1, "valid"), entry(2, "not run")], true)).toBe(EXIT.unknown);
    expect(suiteCode([entry(1, "invalid"), entry(2, "not run")], true)).toBe(EXIT.invalid);
  });
});

describe("the floor", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "suite-floor-"));
  const ms = 1e6;
  const line = (time: number, process: number | string, type: string, f = "read") =>
    JSON.stringify({ time, process, type, f });

  it("counts ok completions from the first client invoke to the first nemesis event", async () => {
    const file = path.join(dir, "history.jsonl");
    const lines = [line(1000 * ms, 0, "invoke")];
    // 30 ok in the 2 s before the fault (3 of them slightly out of order), 100 after.
    for (let i = 0; i < 30; i++) lines.push(line((1010 + i * 60) * ms, 0, "ok"));
    lines.push(line(3000 * ms, "nemesis", "info", "start-kill"));
    for (let i = 0; i < 100; i++) lines.push(line((3001 + i) * ms, 1, "ok"));
    lines.push("{not json", "");
    writeFileSync(file, lines.join("\n"));
    const warmup = await readWarmup(file);
    expect(warmup).toEqual({ ok: 30, seconds: 2 });
    const results = { throughput: { ok_per_s: 42 }, duration_s: 10 } as Pick<
      Results,
      "throughput" | "duration_s"
    >;
    const check = floorCheck(warmup, results, 200, 0.1);
    expect(check).toMatchObject({ ok_per_s: 15, seconds: 2, needed: 20, ok: false });
    expect(floorMessage(check)).toBe(
      "too little load to mean anything: 15 ok/s before the first fault, under 10% of the asked 200/s",
    );
    expect(floorCheck(warmup, results, 100, 0.1).ok).toBe(true);
  });

  it("without a fault, the whole run's throughput stands in", async () => {
    const file = path.join(dir, "quiet.jsonl");
    writeFileSync(file, [line(1, 0, "invoke"), line(2, 0, "ok")].join("\n"));
    expect(await readWarmup(file)).toBeUndefined();
    const check = floorCheck(undefined, { throughput: { ok_per_s: 3 }, duration_s: 10 }, 200, 0.1);
    expect(check).toMatchObject({ ok_per_s: 3, over: "the whole run", ok: false });
    expect(floorMessage(check)).toContain("3 ok/s over the whole run, under 10%");
  });
});
