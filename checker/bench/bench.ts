// npm run bench:checker: the Porcupine corpus file by file; hard histories with and without
// worker threads; then one generated history of 1,000,000 operations (1,000 keys, 20 clients,
// 1% info), checked in a child process so that its peak memory is its own, with and without
// workers. Prints figures; asserts nothing (targets are in the README).

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkOperations } from "../check.js";
import { parseHistory } from "../formats/index.js";
import { modelFor } from "../models/index.js";
import { checkInParallel } from "../parallel.js";
import { VECTORS, vectors } from "../test/vectors.js";
import { hardHistory, writeHistory } from "./generate.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const bigOps = Number(args[args.indexOf("--ops") + 1] || 1_000_000);

function corpus(): void {
  const rows = vectors();
  let etcd = 0;
  let all = 0;
  let wrong = 0;
  const lines: string[] = [];
  for (const { file, path: filePath, format, model, expected } of rows) {
    const text = readFileSync(filePath, "utf8");
    const t0 = performance.now();
    const parsed = parseHistory(text, file, format);
    const outcome = checkOperations(modelFor(model), parsed.ops);
    const ms = performance.now() - t0;
    all += ms;
    if (format === "porcupine-etcd") etcd += ms;
    if (outcome.result !== expected) wrong++;
    lines.push(
      `${file.padEnd(22)} ${String(parsed.ops.length).padStart(6)} ops  ${outcome.result.padEnd(7)} ${ms.toFixed(1).padStart(8)} ms`,
    );
  }
  console.log(lines.join("\n"));
  console.log(
    `porcupine corpus: ${rows.length} files, ${all.toFixed(0)} ms in all (etcd logs ${etcd.toFixed(0)} ms; Go Porcupine v1.3.0 here: ~420 ms), ${wrong} wrong verdicts`,
  );
}

/** Histories with several hard partitions: one thread, then one worker thread besides. */
async function hard(): Promise<void> {
  const c50 = "kv/c50-bad.txt";
  const histories = [
    {
      name: `${c50} (full report)`,
      parsed: parseHistory(readFileSync(path.join(VECTORS, c50), "utf8"), c50, "porcupine-kv"),
      verbose: true,
    },
    {
      name: "4 hard keys x 18 writes",
      parsed: parseHistory(hardHistory({ keys: 4, writes: 18 }).join("\n"), "hard", "jsonl"),
      verbose: false,
    },
  ];
  for (const { name, parsed, verbose } of histories) {
    const figures: string[] = [];
    for (const workers of [0, 1]) {
      const cpu0 = process.cpuUsage();
      const o = await checkInParallel({ name: parsed.model }, parsed.ops, { verbose, workers });
      const cpu = process.cpuUsage(cpu0);
      figures.push(
        `--workers ${workers}: ${o.result} ${o.durationMs.toFixed(0)} ms (cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, ${o.workers} partitions in workers, ${o.partitions.filter((p) => p.result === "unknown").length} left unknown${o.gaveUp ? `, gave up: ${o.gaveUp}` : ""})`,
      );
    }
    console.log(`${name}: ${figures.join("; ")}`);
  }
}

async function big(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "paxos-bench-"));
  try {
    const file = path.join(dir, "history.jsonl");
    const t0 = performance.now();
    await writeHistory(file, { ops: bigOps, keys: 1000, clients: 20, info: 0.01, seed: 42 });
    console.log(`generated ${bigOps} ops in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const mode of ["single", "parallel"]) {
      const out = execFileSync(
        process.execPath,
        [...process.execArgv, path.join(here, "check-one.ts"), file, mode],
        {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      process.stdout.write(out);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!args.includes("--big-only")) corpus();
if (!args.includes("--big-only") && !args.includes("--corpus-only")) await hard();
if (!args.includes("--corpus-only")) await big();
