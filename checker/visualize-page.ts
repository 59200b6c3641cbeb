// The static part of the visualization page (see visualize.ts): its CSS and its script, real
// files of the project (visualize/page.css, visualize/page.js: plain ES2020, linted like any
// other code), read from disk when this module loads and inlined into every page.
//
// They are found from the package's root, so the same code works from source (checker/) and
// compiled (dist/checker/): the root is the first folder up from here that holds package.json.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PAGE_FOLDER = path.join(packageRoot(), "checker", "visualize");

export const PAGE_CSS = readFileSync(path.join(PAGE_FOLDER, "page.css"), "utf8");
export const PAGE_JS = readFileSync(path.join(PAGE_FOLDER, "page.js"), "utf8");

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}
