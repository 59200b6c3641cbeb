// The suite's folder, store/suites/<YYYYMMDDTHHMMSS>/: suite.yaml (a copy of the file run),
// then summary.json, junit.xml and index.html, written again after every run so that a suite
// killed half-way leaves what it did.

import { copyFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../exit.js";
import { timestamp } from "../store.js";
import { indexHtml } from "./index-page.js";
import { junitXml } from "./junit.js";
import type { SuiteSummary } from "./summary.js";

export const SUITES_FOLDER = "suites";

/** Creates store/suites/<timestamp>/ (a -2, -3... suffix if taken) with suite.yaml in it. */
export function createSuiteFolder(store: string, suiteFile: string, now = new Date()): string {
  const base = path.join(store, SUITES_FOLDER, timestamp(now));
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  try {
    mkdirSync(dir, { recursive: true });
    copyFileSync(suiteFile, path.join(dir, "suite.yaml"));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`--store ${store}: cannot create ${dir} (${e.code ?? e.message})`);
  }
  return dir;
}

/** The files a suite's folder holds, by what they are. */
export function suiteFiles(dir: string): { summary: string; junit: string; index: string } {
  return {
    summary: path.join(dir, "summary.json"),
    junit: path.join(dir, "junit.xml"),
    index: path.join(dir, "index.html"),
  };
}

/** summary.json, junit.xml and index.html, each replaced whole (write, then rename). */
export function writeSuiteFiles(dir: string, summary: SuiteSummary): void {
  const files = suiteFiles(dir);
  replace(files.summary, `${JSON.stringify(summary, null, 2)}\n`);
  replace(files.junit, junitXml(summary));
  replace(files.index, indexHtml(summary));
}

function replace(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
