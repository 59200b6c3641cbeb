// The suite's index.html and the store browser's listing in a real browser (playwright-core
// with Debian's chromium, as report-browser.test.ts): no console errors, nothing fetched but
// the page (and, served, its stylesheet from 127.0.0.1), the failures first, the verdict
// buttons hiding and showing their rows, each report link opening its report.
//
// Without chromium the test is skipped, except under CI=true or PAXOS_REQUIRE_BROWSER=1, where
// that is a failure saying what to install.

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenLocal } from "../serve/command.js";
import { createStoreServer } from "../serve/server.js";
import { writeSuiteFiles } from "../suite/suite-files.js";
import { countVerdicts, type RunEntry, suiteCode } from "../suite/summary.js";
import {
  BROWSER_REQUIRED,
  CHROMIUM,
  HAVE_BROWSER,
  launchBrowser,
  SHOTS,
  watchedPage,
} from "./browser-helpers.js";

/** A store with three runs (their report.html a stub) and a suite over them. */
function makeStore(): { store: string; suiteDir: string } {
  const store = mkdtempSync(path.join(tmpdir(), "suite-browser-"));
  const runs: [string, RunEntry["verdict"], Partial<RunEntry>][] = [
    ["memory-kv", "valid", {}],
    ["broken-kv", "invalid", { illegal_keys: ["k3"], why: "illegal keys: k3 (of 10)" }],
    ["memory-register", "unknown", { why: "asked for kill, but no fault was injected" }],
  ];
  const entries = runs.map(([test, verdict, extra], i): RunEntry => {
    const dir = path.join(store, test, `2026010${i + 1}T000000`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, "report.html"),
      `<!DOCTYPE html><title>${test}</title><h1 id="which">${test}</h1>`,
    );
    const valid = { valid: true, invalid: false, unknown: "unknown" }[verdict as "valid"];
    const backend = test.split("-")[0];
    writeFileSync(path.join(dir, "results.json"), JSON.stringify({ valid, backend }));
    return {
      index: i + 1,
      name: `${test} [run=${i + 1}]`,
      test,
      item: 1,
      matrix: {},
      repetition: null,
      backend: backend as string,
      runtime: "local",
      workload: "kv",
      nemesis: ["kill"],
      faults: { kill: { started: 2, verified: 2 } },
      ops: { invoke: 900, ok: 700, fail: 190, info: 10 },
      ok_per_s: 70.1,
      floor: null,
      verdict,
      code: ({ valid: 0, invalid: 1, unknown: 2 } as const)[verdict as "valid"],
      illegal_keys: [],
      why: null,
      seconds: 9.5,
      seed: 1,
      dir,
      report: `../../${test}/2026010${i + 1}T000000/report.html`,
      ...extra,
    };
  });
  const suiteDir = path.join(store, "suites", "20260109T000000");
  mkdirSync(suiteDir, { recursive: true });
  writeFileSync(path.join(suiteDir, "suite.yaml"), "tests: [{}]\n");
  writeSuiteFiles(suiteDir, {
    suite: "suites/night.yaml",
    name: "night",
    folder: suiteDir,
    started: "2026-01-09T00:00:00.000Z",
    duration_s: 31.2,
    floor: 0.1,
    code: suiteCode(entries, false),
    interrupted: false,
    counts: countVerdicts(entries),
    runs: entries,
  });
  return { store, suiteDir };
}

describe("index.html and the store browser in headless Chromium", () => {
  it("a browser is at hand where one is required", () => {
    if (BROWSER_REQUIRED) {
      expect(
        HAVE_BROWSER,
        `${CHROMIUM} is missing: the suite's browser test is mandatory here (apt-get install chromium, or npm test's set-up)`,
      ).toBe(true);
    }
  });

  const { store, suiteDir } = makeStore();
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!HAVE_BROWSER) return;
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it.skipIf(!HAVE_BROWSER)(
    "index.html: failures first, the verdict buttons filter, each link opens its report, nothing fetched",
    async () => {
      const { page, errors, requests } = await watchedPage(browser as Browser, {
        width: 1300,
        height: 700,
      });
      const file = path.join(suiteDir, "index.html");
      await page.goto(pathToFileURL(file).href);
      const verdicts = () =>
        page.$$eval("#runs tbody tr:not([hidden])", (rows) =>
          rows.map((r) => r.getAttribute("data-verdict")),
        );
      expect(await verdicts()).toEqual(["invalid", "unknown", "valid"]);
      expect(await page.textContent("#runs tbody tr:first-child")).toContain("broken-kv");
      expect(await page.textContent("h1")).toContain("INVALID");
      // The styles took: the invalid badge is red.
      const colour = await page.evaluate(
        'getComputedStyle(document.querySelector("#runs tbody tr:first-child .badge")).backgroundColor',
      );
      expect(colour).toBe("rgb(207, 34, 46)");
      await page.screenshot({ path: path.join(SHOTS, "suite-index.png"), fullPage: true });
      console.log(`screenshot: ${path.join(SHOTS, "suite-index.png")}`);
      expect(requests).toEqual([pathToFileURL(file).href]);
      await page.click('button[data-verdict="valid"]');
      expect(await verdicts()).toEqual(["invalid", "unknown"]);
      await page.click('button[data-verdict="valid"]');
      expect(await verdicts()).toEqual(["invalid", "unknown", "valid"]);
      await page.click("#runs tbody tr:first-child a");
      await page.waitForURL(/broken-kv/);
      expect(await page.textContent("#which")).toBe("broken-kv");
      expect(errors).toEqual([]);
      await page.close();
    },
  );

  it.skipIf(!HAVE_BROWSER)(
    "serve: the listing styled from 127.0.0.1 only, the form filters, a report opens",
    async () => {
      const server = createStoreServer(store);
      const { port } = await listenLocal(server, 0);
      try {
        const { page, errors, requests } = await watchedPage(browser as Browser, {
          width: 1300,
          height: 700,
        });
        await page.goto(`http://127.0.0.1:${port}/`);
        expect(await page.$$eval("#runs tbody tr", (rows) => rows.length)).toBe(3);
        const colour = await page.evaluate(
          'getComputedStyle(document.querySelector("#runs .v-invalid")).backgroundColor',
        );
        expect(colour).toBe("rgb(207, 34, 46)");
        await page.screenshot({ path: path.join(SHOTS, "serve-listing.png"), fullPage: true });
        await page.selectOption('select[name="backend"]', "broken");
        await page.click('form button[type="submit"]');
        await page.waitForURL(/backend=broken/);
        expect(await page.$$eval("#runs tbody tr", (rows) => rows.length)).toBe(1);
        await page.click('#runs a:text("report")');
        await page.waitForURL(/report\.html$/);
        expect(await page.textContent("#which")).toBe("broken-kv");
        expect([...new Set(requests.map((r) => new URL(r).host))]).toEqual([`127.0.0.1:${port}`]);
        expect(errors).toEqual([]);
        await page.close();
      } finally {
        server.closeAllConnections();
        server.close();
      }
    },
  );
});
