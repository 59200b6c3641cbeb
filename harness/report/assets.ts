// The report page's static parts, read from disk at run time and inlined: its own scripts and
// styles (page/*.js, page/report.css: real files, linted as browser code) and uPlot's
// (node_modules/uplot/dist). Found from the package's root, so the same code works from source
// (harness/report/) and compiled (dist/harness/report/): the root is the first folder up from
// here that holds package.json; uPlot is resolved as a dependency of the package.

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface PageAssets {
  /** base.css (what our pages share), then report.css. */
  css: string;
  /** The page's scripts, in the order they run (common.js first, report.js last). */
  scripts: string[];
  uplotCss: string;
  uplotJs: string;
}

/** page/*.js in order: what the others use first, the page's main script last. */
const SCRIPTS = ["common.js", "plots.js", "timeline.js", "violation.js", "report.js"];

let cached: PageAssets | undefined;

export function pageAssets(): PageAssets {
  if (cached) return cached;
  const here = fileURLToPath(import.meta.url);
  const page = path.join(packageRoot(here), "harness", "report", "page");
  const require = createRequire(here);
  cached = {
    css: styleText(
      readFileSync(path.join(page, "base.css"), "utf8") +
        readFileSync(path.join(page, "report.css"), "utf8"),
    ),
    scripts: SCRIPTS.map((f) => scriptText(readFileSync(path.join(page, f), "utf8"))),
    uplotCss: styleText(readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8")),
    uplotJs: scriptText(readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8")),
  };
  return cached;
}

/**
 * A page file of another page of ours (the suite's index.html), read from `<package root>/<file>`
 * and made fit to inline: a script with `</script` made safe, a stylesheet checked.
 */
export function inlineAsset(file: string, as: "script" | "style"): string {
  const text = readFileSync(path.join(packageRoot(fileURLToPath(import.meta.url)), file), "utf8");
  return as === "script" ? scriptText(text) : styleText(text);
}

/** The package's root folder: the first one up from `from` holding package.json. */
export function packageRoot(from: string): string {
  let dir = path.dirname(from);
  while (!existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

/**
 * A script's text as it may stand inside <script>: `</script` would end the element early and
 * `<!--` changes how the parser reads on, so they are written `<\/script` and `<\!--` (the
 * same strings, regular expressions or comments to JavaScript).
 */
function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/** Styles cannot be escaped that way: a `</style` in them is refused. */
function styleText(css: string): string {
  if (/<\/style/i.test(css)) throw new Error("a stylesheet of the report holds </style");
  return css;
}
