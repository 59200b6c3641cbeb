// The store: one folder per run, store/<test-name>/<YYYYMMDDTHHMMSS>/, holding config.yaml,
// history.jsonl, results.json, harness.log and nodes/<id>.log; store/latest points at the
// newest run (a relative symlink, replaced atomically).

import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { UsageError } from "./exit.js";

export interface RunFolder {
  dir: string;
  /** config.yaml, history.jsonl, results.json, harness.log, nemesis-ops.jsonl */
  file(
    name: "config.yaml" | "history.jsonl" | "results.json" | "harness.log" | "nemesis-ops.jsonl",
  ): string;
}

/** YYYYMMDDTHHMMSS in local time. */
export function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}T${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Creates the run's folder (a -2, -3... suffix if one of the same second exists). */
export function createRunFolder(store: string, name: string, now = new Date()): RunFolder {
  const base = path.join(store, name, timestamp(now));
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  try {
    mkdirSync(path.join(dir, "nodes"), { recursive: true });
  } catch (err) {
    // A read-only store, a file in the way: bad input, named as the flag the user gave.
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(
      `--store ${store}: cannot create the run's folder ${dir} (${e.code ?? e.message})`,
    );
  }
  return { dir, file: (f) => path.join(dir, f) };
}

/** Points store/latest at the run (relative, so the store can be moved). */
export function pointLatest(store: string, runDir: string): void {
  const latest = path.join(store, "latest");
  const tmp = path.join(store, `.latest-${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(path.relative(store, runDir), tmp);
  renameSync(tmp, latest);
}

/** harness.log: one line per event, appended synchronously (it must survive a crash too). */
export function runLog(file: string): (message: string, fields?: Record<string, unknown>) => void {
  return (message, fields) => {
    const extra = fields && Object.keys(fields).length > 0 ? ` ${safeJson(fields)}` : "";
    appendFileSync(file, `${new Date().toISOString()} ${message}${extra}\n`);
  };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
