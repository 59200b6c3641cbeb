import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import type {
  CheckOutcome,
  Model,
  Operation,
  PartitionInfo,
  StepResult,
  Unknown,
} from "../model.js";
import { UNKNOWN } from "../model.js";
import type { PageMeta, PartitionData } from "../visualize.js";
import { renderVisualization } from "../visualize.js";
import { PAGE_CSS, PAGE_JS } from "../visualize-page.js";

// A tiny register: state number | null, ops read/write.
type RegInput = { f: "read" } | { f: "write"; value: number } | { f: "note"; text: string };
type RegOutput = { value: number | null } | null;
type RegState = number | null;

const register: Model<RegState, RegInput, RegOutput> = {
  name: "test-register",
  init: () => null,
  step(state, input, output): StepResult<RegState> {
    if (input.f === "write") return { ok: true, state: input.value };
    if (input.f === "note" || output === UNKNOWN) return { ok: true, state };
    return { ok: output !== null && output.value === state, state };
  },
  equal: (a, b) => a === b,
  hash: (s) => (s === null ? -1 : s | 0),
  describeOperation(input, output) {
    const out = output === UNKNOWN ? "?" : output === null ? "ok" : String(output.value);
    if (input.f === "write") return `write(${input.value}) → ${out}`;
    if (input.f === "note") return input.text;
    return `read() → ${out}`;
  },
  describeState: (s) => (s === null ? "empty" : `value=${s}`),
};

function op(
  clientId: number,
  input: RegInput,
  call: number,
  output: RegOutput | Unknown,
  ret: number,
): Operation<RegInput, RegOutput> {
  return { clientId, input, call, output, return: ret };
}

const w = (value: number): RegInput => ({ f: "write", value });
const r: RegInput = { f: "read" };
const v = (value: number | null): RegOutput => ({ value });

function partition(
  label: string,
  result: PartitionInfo<RegInput, RegOutput>["result"],
  ops: Operation<RegInput, RegOutput>[],
  linearizations: number[][],
  stuck: number[] = [],
): PartitionInfo<RegInput, RegOutput> {
  return { label, result, ops, origin: ops.map((_, i) => i), linearizations, stuck };
}

// Legal: w1 then a read of 1 by another client, then a read of 1 that never returned.
const okPart = partition(
  "k-ok",
  "ok",
  [op(0, w(1), 0, null, 10), op(1, r, 5, v(1), 20), op(2, r, 30, UNKNOWN, Infinity)],
  [[0, 1, 2]],
);
// Illegal: after w1 and w2 (sequential), a read of 1.
const illegalPart = partition(
  "k-bad",
  "illegal",
  [op(0, w(1), 0, null, 10), op(1, w(2), 20, null, 30), op(2, r, 40, v(1), 50)],
  [[0, 1], [0]],
  [2],
);
const unknownPart = partition(
  "k-timeout",
  "unknown",
  [op(3, w(7), 0, null, 5), op(4, r, 1, v(7), 9)],
  [],
);

function outcomeOf(
  partitions: PartitionInfo<RegInput, RegOutput>[],
): CheckOutcome<RegInput, RegOutput> {
  const result = partitions.some((p) => p.result === "illegal")
    ? "illegal"
    : partitions.some((p) => p.result === "unknown")
      ? "unknown"
      : "ok";
  return {
    result,
    partitions,
    partitionCount: partitions.length,
    ops: partitions.reduce((n, p) => n + p.ops.length, 0),
    durationMs: 3,
  };
}

/** The JSON blocks of a page, by id. */
function blocks(html: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const re = /<script type="application\/json" id="([^"]+)">([\s\S]*?)<\/script>/g;
  for (const m of html.matchAll(re)) out.set(m[1]!, JSON.parse(m[2]!));
  return out;
}

function pageData(html: string): { meta: PageMeta; parts: PartitionData[] } {
  const b = blocks(html);
  const meta = b.get("viz-meta") as PageMeta;
  const parts = meta.parts.map((_, i) => b.get(`viz-p${i}`) as PartitionData);
  return { meta, parts };
}

const sample = renderVisualization(register, outcomeOf([okPart, illegalPart, unknownPart]), {
  title: "sample",
});

describe("renderVisualization", () => {
  it("is one self-contained document", () => {
    expect(sample.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(sample.trimEnd().endsWith("</html>")).toBe(true);
    expect(sample.match(/<html/g)).toHaveLength(1);
    expect(sample).not.toMatch(/https?:\/\//);
    expect(sample).not.toMatch(/<link\b/i);
    expect(sample).not.toMatch(/<script[^>]*\bsrc=/i);
    expect(sample).not.toMatch(/\b(src|href)\s*=/i);
    expect(sample).not.toMatch(/@import|url\(/i);
    expect(sample).toContain("<style>");
    // Every script element is closed exactly where it should be.
    expect(sample.match(/<script\b/g)?.length).toBe(sample.match(/<\/script>/g)?.length);
  });

  it("has a header with the title, verdict and counts", () => {
    expect(sample).toContain("<title>sample</title>");
    expect(sample).toContain("not linearizable");
    expect(sample).toContain("8 operations");
    expect(sample).toContain("3 partitions (1 illegal, 1 unknown, 1 ok)");
  });

  it("embeds every client and every operation's description", () => {
    const { parts } = pageData(sample);
    const ok = parts.find((p) => p.label === "k-ok")!;
    expect(ok.o.map((row) => row[0])).toEqual([0, 1, 2]);
    expect(ok.o.map((row) => ok.s[row[3]])).toEqual(["write(1) → ok", "read() → 1", "read() → ?"]);
    // The origin of each op, and the unknown flag for the one without an output.
    expect(ok.o.map((row) => row[4])).toEqual([0, 1, 2]);
    expect(ok.o.map((row) => row[5])).toEqual([0, 0, 1]);
    const all = parts.flatMap((p) => p.o.map((row) => row[0]));
    expect(new Set(all)).toEqual(new Set([0, 1, 2, 3, 4]));
    for (const p of [okPart, illegalPart, unknownPart]) {
      for (const o of p.ops) {
        expect(sample).toContain(register.describeOperation(o.input, o.output));
      }
    }
  });

  it("compresses time to evenly spaced slots", () => {
    const { parts } = pageData(sample);
    const ok = parts.find((p) => p.label === "k-ok")!;
    expect(ok.t).toEqual([0, 5, 10, 20, 30]);
    expect(ok.o.map((row) => [row[1], row[2]])).toEqual([
      [0, 2],
      [1, 3],
      [4, -1],
    ]);
  });

  it("puts illegal partitions first, then unknown, then ok", () => {
    const { meta, parts } = pageData(sample);
    expect(meta.parts.map((p) => p[0])).toEqual(["k-bad", "k-timeout", "k-ok"]);
    expect(meta.parts.map((p) => p[1])).toEqual(["illegal", "unknown", "ok"]);
    expect(parts.map((p) => p.label)).toEqual(["k-bad", "k-timeout", "k-ok"]);
    expect(sample.indexOf('id="viz-p0"')).toBeLessThan(sample.indexOf('id="viz-p1"'));
  });

  it("marks the stuck operations of an illegal partition", () => {
    const { meta, parts } = pageData(sample);
    const bad = parts[0]!;
    expect(bad.l[0]!.o).toEqual([0, 1]);
    expect(bad.l[0]!.x).toEqual([2]);
    expect(meta.parts[0]).toEqual(["k-bad", "illegal", 3, 3, 2, 1]);
    // For a further partial linearization the page computes them: after w1 alone, w2 can
    // come next (a write is always legal) and the read cannot (w2 returned before it began).
    expect(bad.l[1]!.o).toEqual([0]);
    expect(bad.l[1]!.x).toEqual([]);
    // The page's script draws them outlined with the note.
    expect(PAGE_JS).toContain("stuck");
    expect(PAGE_JS).toContain("could not be linearized next");
    expect(PAGE_CSS).toContain(".op.stuck");
  });

  it("finds stuck operations itself when the checker gave none", () => {
    const part = partition(
      "k",
      "illegal",
      [op(0, w(1), 0, null, 10), op(1, r, 20, v(2), 30), op(2, r, 25, v(1), 40)],
      [[0]],
    );
    const { parts } = pageData(renderVisualization(register, outcomeOf([part])));
    // After w1: the read of 2 is illegal, the read of 1 would be legal.
    expect(parts[0]!.l[0]!.x).toEqual([1]);
  });

  it("shows stuck operations even when nothing could be linearized", () => {
    const part = partition("k", "illegal", [op(0, r, 0, v(5), 10)], [], [0]);
    const { parts } = pageData(renderVisualization(register, outcomeOf([part])));
    expect(parts[0]!.l).toEqual([{ o: [], s: [], x: [0] }]);
  });

  it("embeds the states from replaying each linearization", () => {
    const { parts } = pageData(sample);
    const bad = parts[0]!;
    expect(bad.l[0]!.s.map((i) => bad.s[i])).toEqual(["value=1", "value=2"]);
    expect(bad.s[bad.init]).toBe("empty");
    const ok = parts[2]!;
    expect(ok.l[0]!.s.map((i) => ok.s[i])).toEqual(["value=1", "value=1", "value=1"]);
    expect(ok.l[0]!.b).toBeUndefined();
  });

  it("cuts a linearization the model rejects, and notes it", () => {
    const part = partition(
      "k",
      "illegal",
      [op(0, w(1), 0, null, 1), op(1, r, 2, v(9), 3)],
      [[0, 1]],
    );
    const { parts } = pageData(renderVisualization(register, outcomeOf([part])));
    expect(parts[0]!.l[0]).toMatchObject({ o: [0], b: 1 });
  });

  it("escapes everything that comes from the history", () => {
    const evil = "</script><b>x</b> & \"q\" 'a' <!--";
    const part = partition(
      `k</script><b>&"`,
      "illegal",
      [op(0, { f: "note", text: evil }, 0, null, 1), op(1, r, 2, v(3), 3)],
      [[0]],
      [1],
    );
    const html = renderVisualization(register, outcomeOf([part]), { title: `<script>"&'` });
    expect(html).not.toContain("<b>");
    expect(html).not.toContain("<!--");
    expect(html).not.toContain("<script>\"&'");
    expect(html).toContain("<title>&#60;script&#62;&#34;&#38;&#39;</title>");
    expect(html.match(/<script\b/g)?.length).toBe(html.match(/<\/script>/g)?.length);
    const { meta, parts } = pageData(html);
    expect(meta.title).toBe(`<script>"&'`);
    expect(meta.parts[0]![0]).toBe(`k</script><b>&"`);
    expect(parts[0]!.s[parts[0]!.o[0]![3]]).toBe(evil);
  });

  it("keeps Infinity and NaN out of the page", () => {
    const part = partition(
      "k",
      "ok",
      [op(0, w(1), 0, UNKNOWN, Infinity), op(1, r, 5, v(1), 6), op(2, r, 7, UNKNOWN, Infinity)],
      [[0, 1, 2]],
    );
    const html = renderVisualization(register, outcomeOf([part]));
    expect(html).not.toMatch(/Infinity|NaN/);
    const { parts } = pageData(html);
    expect(parts[0]!.t).toEqual([0, 5, 6, 7]);
    expect(parts[0]!.o.map((row) => row[2])).toEqual([-1, 2, -1]);
    expect(sample).not.toMatch(/Infinity|NaN/);
  });

  it("passes UNKNOWN to describeOperation and survives a describe that throws", () => {
    const seen: unknown[] = [];
    const model: Model<RegState, RegInput, RegOutput> = {
      ...register,
      describeOperation(input, output) {
        seen.push(output);
        if (input.f === "read") throw new Error("boom");
        return "w";
      },
    };
    const part = partition(
      "k",
      "ok",
      [op(0, w(1), 0, UNKNOWN, Infinity), op(1, r, 1, v(1), 2)],
      [[0, 1]],
    );
    const { parts } = pageData(renderVisualization(model, outcomeOf([part])));
    expect(seen).toContain(UNKNOWN);
    expect(parts[0]!.s[parts[0]!.o[1]![3]]).toBe("(description failed: boom)");
  });

  it("renders an empty outcome", () => {
    const html = renderVisualization(register, outcomeOf([]));
    expect(pageData(html).meta.parts).toEqual([]);
    expect(html).toContain("0 partitions");
  });

  it("has an inline script that parses and cannot end its element early", () => {
    expect(() => new Function(PAGE_JS)).not.toThrow();
    expect(PAGE_JS).not.toMatch(/<\/script|<!--/i);
    expect(PAGE_CSS).not.toMatch(/<\/style/i);
  });

  it("renders 1,000 partitions of 1,000 operations quickly", () => {
    const parts: PartitionInfo<RegInput, RegOutput>[] = [];
    for (let p = 0; p < 1000; p++) {
      const ops: Operation<RegInput, RegOutput>[] = [];
      let last = 0;
      for (let i = 0; i < 1000; i++) {
        const isWrite = i % 3 === 0;
        if (isWrite) last = i;
        const call = i * 10;
        ops.push(op(i % 5, isWrite ? w(i) : r, call, isWrite ? null : v(last), call + 25));
      }
      const lin = ops.map((_, i) => i);
      parts.push(partition(`key-${p}`, p % 10 === 0 ? "illegal" : "ok", ops, [lin]));
    }
    const start = performance.now();
    const html = renderVisualization(register, outcomeOf(parts));
    const ms = performance.now() - start;
    expect(html.length).toBeGreaterThan(1_000_000);
    expect(ms).toBeLessThan(5000);
  });
});

// ---- in a real browser, when one is at hand -------------------------------------------------

const CHROMIUM = process.env.PAXOS_CHROMIUM ?? "/usr/bin/chromium";
// CI installs Debian's chromium and sets this, so that the browser test cannot quietly skip.
const REQUIRE_BROWSER = process.env.PAXOS_REQUIRE_BROWSER === "1";

describe("the page in headless Chromium", () => {
  it("a browser is at hand where one is required", () => {
    if (REQUIRE_BROWSER) expect(existsSync(CHROMIUM), `${CHROMIUM} is missing`).toBe(true);
  });

  it.skipIf(!existsSync(CHROMIUM))("draws partitions without console errors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "viz-"));
    const file = join(dir, "page.html");
    writeFileSync(file, sample);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox"],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector(".tl .op");
      // The illegal partition is shown first, with its stuck operation outlined.
      expect(await page.locator(".tl .op").count()).toBe(3);
      expect(await page.locator(".tl .op.stuck").count()).toBe(1);
      await page.locator(".tl .op.lin").first().hover();
      expect(await page.textContent("#tip")).toContain("value=1");
      await page.locator('#plist li[data-i="2"]').first().click();
      await page.waitForSelector(".tl .op.inf");
      expect(await page.locator(".tl .op.lin").count()).toBe(3);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
