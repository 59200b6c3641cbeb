// What the browser tests share: Debian's chromium through playwright-core, whether it is required
// here (CI, or PAXOS_REQUIRE_BROWSER=1: the tests must not skip), and a page that records its
// console errors and every request it makes.

import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.PAXOS_CHROMIUM ?? "/usr/bin/chromium";
export const BROWSER_REQUIRED =
  process.env.CI === "true" || process.env.PAXOS_REQUIRE_BROWSER === "1";
export const HAVE_BROWSER = existsSync(CHROMIUM);
/** Where the tests leave their screenshots. */
export const SHOTS = process.env.PAXOS_SCREENSHOTS ?? "/tmp/paxos-report-shots";

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/** A new page that records console errors, page errors and the URL of every request. */
export async function watchedPage(
  browser: Browser,
  viewport: { width: number; height: number },
): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => requests.push(r.url()));
  return { page, errors, requests };
}
