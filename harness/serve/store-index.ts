// What a store holds, for the browser: every run (store/<test>/<timestamp>/, from its
// results.json; a folder without one is a run in progress or one that died) and every suite
// (store/suites/<timestamp>/summary.json), newest first. Read on each request: a store is a
// few thousand small JSON files at most, and a listing must show the run that just ended.
// Symbolic links (store/latest) are not followed: each run is listed once, where it lives.

import { lstatSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Results } from "../results.js";
import { SUITES_FOLDER } from "../suite/suite-files.js";
import type { SuiteSummary } from "../suite/summary.js";
import { type Verdict, verdictOfCode, verdictOfResults } from "../suite/verdict.js";

/** A run's verdict, or `none`: it has no results.json (still running, or it died). */
export type ListedVerdict = Verdict | "none";

export interface RunRow {
  test: string;
  /** Its folder's name: YYYYMMDDTHHMMSS (-N). */
  folder: string;
  /** Its folder relative to the store, with forward slashes. */
  rel: string;
  verdict: ListedVerdict;
  backend: string;
  runtime: string;
  workload: string;
  nemesis: string[];
  /** Per kind: verified of started. */
  faults: { kind: string; started: number; verified: number }[];
  ops: number | null;
  okPerS: number | null;
  /** Seconds of workload. */
  seconds: number | null;
  /** Its files, by name, that a reader opens: report.html, results.json, history.jsonl... */
  files: string[];
}

export interface SuiteRow {
  name: string;
  folder: string;
  rel: string;
  verdict: Verdict;
  counts: Partial<Record<string, number>>;
  runs: number;
  seconds: number;
  backends: string[];
  hasIndex: boolean;
}

export interface StoreIndex {
  runs: RunRow[];
  suites: SuiteRow[];
}

/** The files of a run folder a reader may want, in the order the listing links them. */
const RUN_FILES = [
  "report.html",
  "results.json",
  "history.jsonl",
  "config.yaml",
  "harness.log",
  "visualization.html",
];

export function readStoreIndex(root: string): StoreIndex {
  const runs: RunRow[] = [];
  const suites: SuiteRow[] = [];
  for (const top of folders(root)) {
    for (const folder of folders(path.join(root, top))) {
      const dir = path.join(root, top, folder);
      const rel = `${top}/${folder}`;
      if (top === SUITES_FOLDER && isFile(path.join(dir, "summary.json"))) {
        const suite = suiteRow(dir, rel, folder);
        if (suite) suites.push(suite);
      } else if (isFile(path.join(dir, "config.yaml")) || isFile(path.join(dir, "results.json"))) {
        runs.push(runRow(dir, rel, top, folder));
      }
    }
  }
  const newestFirst = (a: { folder: string; rel: string }, b: { folder: string; rel: string }) =>
    compareFolders(b.folder, a.folder) || a.rel.localeCompare(b.rel);
  return { runs: runs.sort(newestFirst), suites: suites.sort(newestFirst) };
}

/** YYYYMMDDTHHMMSS then its -N suffix, as numbers: `...T120000-10` after `...T120000-9`. */
export function compareFolders(a: string, b: string): number {
  const [ta = "", na = "1"] = a.split("-");
  const [tb = "", nb = "1"] = b.split("-");
  return ta.localeCompare(tb) || Number(na) - Number(nb);
}

/** `2026-12-01 11:20:50` from a folder's name, or the name as is. */
export function folderTime(folder: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(-\d+)?$/.exec(folder);
  if (!m) return folder;
  return `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}${m[7] ?? ""}`;
}

function runRow(dir: string, rel: string, test: string, folder: string): RunRow {
  const files = RUN_FILES.filter((f) => isFile(path.join(dir, f)));
  if (isDir(path.join(dir, "nodes"))) files.push("nodes/");
  const r = readJson<Results>(path.join(dir, "results.json"));
  if (r === undefined) {
    const none = { verdict: "none" as const, backend: "", runtime: "", workload: "" };
    return {
      test,
      folder,
      rel,
      ...none,
      nemesis: [],
      faults: [],
      ops: null,
      okPerS: null,
      seconds: null,
      files,
    };
  }
  return {
    test,
    folder,
    rel,
    verdict: verdictOfResults(r),
    backend: String(r.backend ?? ""),
    runtime: String(r.runtime ?? ""),
    workload: String(r.workload ?? ""),
    nemesis: Array.isArray(r.nemesis) ? r.nemesis.map(String) : [],
    faults: Object.entries(r.faults ?? {}).map(([kind, c]) => ({
      kind,
      started: Number(c?.started ?? 0),
      verified: Number(c?.verified ?? 0),
    })),
    ops: typeof r.ops?.invoke === "number" ? r.ops.invoke : null,
    okPerS: typeof r.throughput?.ok_per_s === "number" ? r.throughput.ok_per_s : null,
    seconds: typeof r.duration_s === "number" ? r.duration_s : null,
    files,
  };
}

function suiteRow(dir: string, rel: string, folder: string): SuiteRow | undefined {
  const s = readJson<SuiteSummary>(path.join(dir, "summary.json"));
  if (s === undefined || !Array.isArray(s.runs)) return undefined;
  return {
    name: String(s.name ?? folder),
    folder,
    rel,
    verdict: verdictOfCode(s.code),
    counts: s.counts ?? {},
    runs: s.runs.length,
    seconds: Number(s.duration_s ?? 0),
    backends: [...new Set(s.runs.map((r) => String(r.backend)))],
    hasIndex: isFile(path.join(dir, "index.html")),
  };
}

/** The real folders in a folder (no symbolic links, nothing hidden), or none if unreadable. */
function folders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith("."))
      .map((e) => e.name);
  } catch {
    return [];
  }
}

function isFile(p: string): boolean {
  try {
    return lstatSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A JSON file's value, or undefined when it is missing, half-written or not JSON. */
function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}
