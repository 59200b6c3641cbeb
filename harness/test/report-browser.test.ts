// report.html in a real browser (playwright-core with Debian's chromium): the report of a valid
// run with a fault and of an invalid run of the broken backend, both made by the CLI. No
// console errors, no request but the file itself, the plots drawn (pixels of the outcomes'
// colours on every canvas), the fault periods shaded (the bands each plot's hook says it drew,
// tinted in its pixels), and for the invalid run the violation: the reason in words, the
// witness drawn and listed, the checker's visualization of the failing key in its frame.
// Screenshots go to $PAXOS_SCREENSHOTS (default /tmp/paxos-report-shots/).
//
// Without chromium the browser part is skipped, except under CI=true or PAXOS_REQUIRE_BROWSER=1
// (CI), where that is a failure saying what to install.

import { mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BROWSER_REQUIRED,
  CHROMIUM,
  HAVE_BROWSER,
  launchBrowser,
  SHOTS,
  watchedPage,
} from "./browser-helpers.js";
import { spawnCli } from "./docker-helpers.js";

/** Partitions need root (network namespaces); without it a kill is the fault. */
const FAULT = process.getuid?.() === 0 ? "partition" : "kill";

/** The page's ok colour (page/common.js): points, lines and bars of ok operations. */
const OK_RGB = [0x2f, 0x7f, 0xd0];

describe("report.html in headless Chromium", () => {
  it("a browser is at hand where one is required", () => {
    if (BROWSER_REQUIRED) {
      expect(
        HAVE_BROWSER,
        `${CHROMIUM} is missing: the report's browser test is mandatory here (apt-get install chromium, or npm test's set-up)`,
      ).toBe(true);
    }
  });

  const store = mkdtempSync(path.join(tmpdir(), "report-browser-"));
  const runs: { valid?: string; invalid?: string } = {};
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!HAVE_BROWSER) return;
    const common = ["--runtime", "local", "--nodes", "3", "--store", store];
    const valid = spawnCli([
      "test",
      ...["--backend", "memory", "--nemesis", FAULT, "--time-limit", "4"],
      ...["--nemesis-interval", "2", "--recovery", "0.5", "--name", "valid", ...common],
    ]);
    const invalid = spawnCli([
      "test",
      ...["--backend", "broken", "--nemesis", FAULT, "--time-limit", "4", "--seed", "5"],
      ...["--nemesis-interval", "2", "--recovery", "0.5", "--name", "invalid", ...common],
    ]);
    const [v, i] = await Promise.all([valid.exit, invalid.exit]);
    expect(v, valid.stderr()).toBe(0);
    expect(i, invalid.stderr()).toBe(1);
    for (const name of ["valid", "invalid"] as const) {
      const run = path.join(store, name, readdirSync(path.join(store, name))[0] as string);
      expect(valid.stdout() + invalid.stdout()).toContain(path.join(run, "report.html"));
      runs[name] = path.join(run, "report.html");
    }
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens a report, recording console errors and every request. */
  async function open(file: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
    const { page, errors, requests } = await watchedPage(browser as Browser, {
      width: 1300,
      height: 900,
    });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
    return { page, errors, requests };
  }

  /** Per uPlot plot: pixels of the ok colour, and per band it drew, the share of tinted pixels. */
  async function plotPixels(page: Page) {
    return (await page.evaluate(`(() => {
      const ok = ${JSON.stringify(OK_RGB)};
      const near = (d, i, rgb) => Math.abs(d[i] - rgb[0]) < 40 && Math.abs(d[i + 1] - rgb[1]) < 40 &&
        Math.abs(d[i + 2] - rgb[2]) < 40 && d[i + 3] > 150;
      return [...document.querySelectorAll(".plot")].map((holder) => {
        const canvas = holder.querySelector("canvas");
        const ctx = canvas.getContext("2d");
        const all = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        let okPixels = 0;
        for (let i = 0; i < all.length; i += 4) if (near(all, i, ok)) okPixels++;
        const tintedShare = (x, y, w, h) => {
          if (w <= 0 || h <= 0) return 0;
          const d = ctx.getImageData(x, y, w, h).data;
          let tinted = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i + 3] >= 20 && d[i + 3] <= 80) tinted++;
          return tinted / (d.length / 4);
        };
        const bands = JSON.parse(holder.dataset.bands || "[]");
        return {
          plot: holder.dataset.f || "throughput",
          okPixels,
          faultBands: Number(holder.dataset.faultBands),
          bands: bands.map((b) => ({
            name: b.name,
            inside: tintedShare(b.x + 2, b.y + 2, b.w - 4, b.h - 4),
            before: b.x > 40 ? tintedShare(b.x - 30, b.y + 2, 20, b.h - 4) : 0,
          })),
        };
      });
    })()`)) as {
      plot: string;
      okPixels: number;
      faultBands: number;
      bands: { name: string; inside: number; before: number }[];
    }[];
  }

  /** The timeline over the whole run: bands it shaded and ok-coloured pixels. */
  async function timelinePixels(page: Page) {
    return (await page.evaluate(`(() => {
      const run = JSON.parse(document.getElementById("report-run").textContent);
      paxosReport.showWindow(0, run.end);
      const canvas = document.querySelector(".timeline-canvas");
      const d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      const ok = ${JSON.stringify(OK_RGB)};
      let okPixels = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (Math.abs(d[i] - ok[0]) < 45 && Math.abs(d[i + 1] - ok[1]) < 45 && Math.abs(d[i + 2] - ok[2]) < 45) okPixels++;
      }
      return { bands: Number(canvas.dataset.faultBands), drawn: Number(canvas.dataset.drawn), okPixels };
    })()`)) as { bands: number; drawn: number; okPixels: number };
  }

  function expectDrawnAndShaded(
    plots: Awaited<ReturnType<typeof plotPixels>>,
    timeline: Awaited<ReturnType<typeof timelinePixels>>,
  ) {
    expect(plots.map((p) => p.plot)).toContain("throughput");
    expect(plots.length).toBeGreaterThanOrEqual(3);
    for (const p of plots) {
      expect(p.okPixels, `${p.plot}: no ok-coloured pixel drawn`).toBeGreaterThan(20);
      expect(p.faultBands, `${p.plot}: no fault period shaded`).toBeGreaterThanOrEqual(1);
      for (const b of p.bands) {
        expect(b.name).toMatch(new RegExp(`^${FAULT}`));
        expect(b.inside, `${p.plot}: ${b.name} is not tinted`).toBeGreaterThan(0.5);
        expect(b.before, `${p.plot}: the left of ${b.name} is tinted too`).toBeLessThan(0.2);
      }
    }
    expect(timeline.bands).toBeGreaterThanOrEqual(1);
    expect(timeline.drawn).toBeGreaterThan(50);
    expect(timeline.okPixels).toBeGreaterThan(100);
  }

  it.skipIf(!HAVE_BROWSER)(
    "the valid run: summary, plots drawn, faults shaded, nothing fetched",
    async () => {
      const file = runs.valid as string;
      const { page, errors, requests } = await open(file);
      expect(await page.textContent("#verdict")).toBe("VALID");
      expect(await page.textContent("#summary")).toContain("memory");
      expect(await page.locator("#violation").count()).toBe(0);
      expect(await page.locator(".faults tbody tr").count()).toBeGreaterThanOrEqual(1);
      expect(await page.locator(".per-node tbody tr").count()).toBe(3);
      expectDrawnAndShaded(await plotPixels(page), await timelinePixels(page));
      // A drag across the throughput plot shows that span in the timeline.
      const over = page.locator(".throughput-plot .u-over");
      await over.scrollIntoViewIfNeeded();
      const box = await over.boundingBox();
      if (!box) throw new Error("the throughput plot has no overlay");
      const before = await page.inputValue('input[aria-label="window from (s)"]');
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
      const after = await page.inputValue('input[aria-label="window from (s)"]');
      expect(after).not.toBe(before);
      await page.screenshot({ path: path.join(SHOTS, "valid.png"), fullPage: true });
      console.log(`screenshot: ${path.join(SHOTS, "valid.png")} (${file})`);
      expect(errors).toEqual([]);
      expect(requests).toEqual([pathToFileURL(file).href]);
      await page.close();
    },
  );

  it.skipIf(!HAVE_BROWSER)(
    "the invalid run: the violation in words, the witness drawn, the failing key's visualization",
    async () => {
      const file = runs.invalid as string;
      const { page, errors, requests } = await open(file);
      expect(await page.textContent("#verdict")).toBe("INVALID");
      expectDrawnAndShaded(await plotPixels(page), await timelinePixels(page));
      // The reason, at the top and with its key.
      const top = (await page.textContent("header.top .reason")) ?? "";
      expect(top.length).toBeGreaterThan(30);
      const key = page.locator("#violation .key-violation").first();
      expect(await key.locator(".reason").textContent()).toBe(
        top.replace(/ the violation, drawn$/, ""),
      );
      const ops = Number(await key.locator(".witness").getAttribute("data-ops"));
      expect(ops).toBeGreaterThanOrEqual(1);
      expect(await key.locator(".witness .w-op").count()).toBe(ops);
      expect(await key.locator(".words li").count()).toBe(ops);
      // The checker's page of the failing keys, in its frame: the stuck operation outlined.
      const frame = page.frameLocator("iframe.visualization");
      await frame.locator(".tl .op").first().waitFor();
      expect(await frame.locator(".verdict").first().textContent()).toBe("not linearizable");
      expect(await frame.locator(".tl .op.stuck").count()).toBeGreaterThanOrEqual(1);
      await page.screenshot({ path: path.join(SHOTS, "invalid.png"), fullPage: true });
      console.log(
        `screenshot: ${path.join(SHOTS, "invalid.png")} (${file}); witness of ${ops} operations`,
      );
      expect(errors).toEqual([]);
      expect(requests).toEqual([pathToFileURL(file).href]);
      await page.close();
    },
  );
});
