#!/usr/bin/env node
// The executable. The CLI itself is ESM, compiled to dist/ by `npm run build` (which `npm ci`
// runs through `prepare`). This entry is CommonJS for one reason: `check --help` must start about
// as fast as a bare `node`, and here loading even one ES module costs ~12 ms more than a CommonJS
// file. So the help that the build wrote to dist/check-help.txt is printed from here; every other
// command goes to the ESM entry.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const argv = process.argv.slice(2);
const checkHelp =
  argv.length === 2 &&
  ((argv[0] === "check" && (argv[1] === "--help" || argv[1] === "-h")) ||
    (argv[0] === "help" && argv[1] === "check"));

let printed = false;
if (checkHelp) {
  try {
    process.stdout.write(fs.readFileSync(path.join(__dirname, "../dist/check-help.txt"), "utf8"));
    printed = true;
  } catch {
    // No built help (an older dist/): the ESM entry writes the same text.
  }
}
if (!printed) import("../dist/harness/main.js");
