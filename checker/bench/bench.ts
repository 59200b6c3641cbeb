// npm run bench:checker: the Porcupine corpus file by file; the whole process of one `check`
// over the whole corpus beside Go Porcupine's over the same files (when Go and its source are
// there: PORCUPINE_GO_DIR, see checker/README.md), with the ratio; `check --help` beside
// `node -e 0`; hard histories with and without worker threads; then a generated history of
// 1,000,000 operations (1,000 keys, 20 clients, 1% info; `--ops N` for another size), checked
// by the CLI in a child process (time and peak RSS), with and without workers. Prints figures;
// asserts nothing (targets are in the README). `--corpus-only`, `--big-only` pick a part;
// `--before DIR` runs another tree's CLI (built) on the big history too, alternating with ours.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { checkOperations } from "../check.js";
import { parseHistory } from "../formats/index.js";
import { modelFor } from "../models/index.js";
import { checkInParallel } from "../parallel.js";
import { VECTORS, vectors } from "../test/vectors.js";
import { hardHistory, writeHistory } from "./generate.js";
import {
  alternate,
  CLI,
  expectedVerdicts,
  goPorcupine,
  median,
  runTimed,
  staleBuild,
  verdicts,
} from "./whole-process.js";

const args = process.argv.slice(2);
const opsAt = args.indexOf("--ops");
const bigOps = opsAt >= 0 ? Number(args[opsAt + 1]) : 1_000_000;
const beforeAt = args.indexOf("--before");
const before = beforeAt >= 0 ? args[beforeAt + 1] : undefined;

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
    `porcupine corpus in this process: ${rows.length} files, ${all.toFixed(0)} ms in all (etcd logs ${etcd.toFixed(0)} ms), ${wrong} wrong verdicts`,
  );
}

const RUNS = 5;

/** The whole corpus in one process: `paxos-harness check`, and Go Porcupine, alternating. */
function corpusVsGo(): void {
  const files = [
    ...readdirSync(path.join(VECTORS, "jepsen"))
      .filter((f) => f.endsWith(".log"))
      .sort()
      .map((f) => path.join(VECTORS, "jepsen", f)),
    ...readdirSync(path.join(VECTORS, "kv"))
      .filter((f) => f.endsWith(".txt"))
      .sort()
      .map((f) => path.join(VECTORS, "kv", f)),
  ];
  const expected = expectedVerdicts(VECTORS);
  const wrong = (stdout: string) => {
    const got = verdicts(stdout);
    return files.filter((f) => got.get(f) !== expected.get(f)).length;
  };
  const go = goPorcupine();
  const ours = (workers?: number) => () =>
    runTimed(process.execPath, [
      CLI,
      "check",
      ...(workers === undefined ? [] : ["--workers", String(workers)]),
      ...files,
    ]);
  const commands = [ours(), ours(0)];
  if ("binary" in go) commands.push(() => runTimed(go.binary, files));
  const [mine, single, theirs] = alternate(commands, RUNS);
  const ms = (runs: { ms: number }[] | undefined) => median((runs ?? []).map((r) => r.ms));
  const line = (name: string, runs: typeof mine) =>
    `${name} ${ms(runs).toFixed(0)} ms (${wrong(runs?.[0]?.stdout ?? "")} wrong verdicts)`;
  const figures = [line("check", mine), line("check --workers 0", single)];
  if (theirs) {
    figures.push(line("Go Porcupine", theirs));
    figures.push(
      `ratio ${(ms(mine) / ms(theirs)).toFixed(2)} (--workers 0: ${(ms(single) / ms(theirs)).toFixed(2)})`,
    );
  }
  console.log(
    `whole process over the ${files.length} corpus files, median of ${RUNS}: ${figures.join("; ")}`,
  );
  if ("missing" in go) console.log(`Go Porcupine not run: ${go.missing}`);
}

/**
 * `check --help` beside a bare `node -e 0`, in the same minute. A set NODE_EXTRA_CA_CERTS makes
 * Node read and parse that file at every start (60-100 ms on the 2-core machines here, more than
 * all the rest of its start-up): then both are timed without it too.
 */
function startUp(): void {
  const envs: [string, NodeJS.ProcessEnv][] = [["", process.env]];
  if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
    const { NODE_EXTRA_CA_CERTS: _, ...without } = process.env;
    envs.push([" without NODE_EXTRA_CA_CERTS", without]);
  }
  const ms = (runs: { ms: number }[] | undefined) => median((runs ?? []).map((r) => r.ms));
  for (const [label, env] of envs) {
    const [help, bare] = alternate(
      [
        () => runTimed(process.execPath, [CLI, "check", "--help"], undefined, env),
        () => runTimed(process.execPath, ["-e", "0"], undefined, env),
      ],
      RUNS,
    );
    console.log(
      `start-up${label}, median of ${RUNS}: check --help ${ms(help).toFixed(0)} ms, node -e 0 ${ms(bare).toFixed(0)} ms (target: --help at most 80 ms)`,
    );
  }
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
    const targets =
      bigOps <= 1_000_000 ? "targets at 1M: 1.5 s, 400 MB" : "targets at 10M: 20 s, 4096 MB";
    const bare = runTimed(process.execPath, ["-e", "0"]);
    console.log(
      `node -e 0: ${bare.ms.toFixed(0)} ms, peak RSS ${bare.peakMb?.toFixed(0) ?? "?"} MB`,
    );
    // `--before DIR`: the same runs of another tree's CLI (built), alternating with this one's.
    const clis =
      before === undefined
        ? [["", CLI]]
        : [
            ["before ", path.join(before, "bin/paxos-harness.cjs")],
            ["", CLI],
          ];
    for (const workers of [undefined, 0]) {
      for (const [label, cli] of clis) {
        const flag = workers === undefined ? [] : ["--workers", String(workers)];
        const run = runTimed(process.execPath, [cli as string, "check", "--json", ...flag, file]);
        const out = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as {
          result?: string;
          ops?: number;
          ms?: number;
          partitions?: number;
        };
        console.log(
          `${label}${bigOps}-op history, check${flag.length > 0 ? ` ${flag.join(" ")}` : ""}: ${out.result} (${out.ops} ops, ${out.partitions} partitions); whole process ${(run.ms / 1000).toFixed(2)} s, ${((run.cpuMs ?? 0) / 1000).toFixed(2)} s CPU (search ${((out.ms ?? 0) / 1000).toFixed(2)} s), peak RSS ${run.peakMb?.toFixed(0) ?? "?"} MB (${targets})`,
        );
      }
    }
    phases(file, clis);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The big history phase by phase, in a child process of each tree's compiled checker (as the
 * CLI runs it, not under tsx): the parse, then the check (one thread).
 */
function phases(file: string, clis: string[][]): void {
  const code = `
    const [root, file] = process.argv.slice(1);
    const { readHistoryFile } = await import(root + "/dist/checker/formats/file.js");
    const { checkInParallel } = await import(root + "/dist/checker/parallel.js");
    const t0 = performance.now();
    const parsed = readHistoryFile(file, file, "auto");
    const t1 = performance.now();
    const o = await checkInParallel({ name: parsed.model }, parsed.compact ?? parsed.ops, { workers: 0 });
    const t2 = performance.now();
    console.log(JSON.stringify({ parse: t1 - t0, check: t2 - t1, result: o.result }));`;
  for (const [label, cli] of clis) {
    const root = path.resolve(path.dirname(cli as string), "..");
    const run = runTimed(process.execPath, ["--input-type=module", "-e", code, root, file]);
    const out = JSON.parse(run.stdout.trim() || "{}") as { parse?: number; check?: number };
    console.log(
      `${label}phases, one process, --workers 0: parse ${out.parse?.toFixed(0)} ms, check ${out.check?.toFixed(0)} ms (partition, set-up, search); peak RSS ${run.peakMb?.toFixed(0) ?? "?"} MB`,
    );
  }
}

const stale = staleBuild();
if (stale) console.log(`warning: the CLI timed is the compiled one, and ${stale}`);
if (!args.includes("--big-only")) {
  corpus();
  corpusVsGo();
  startUp();
}
if (!args.includes("--big-only") && !args.includes("--corpus-only")) await hard();
if (!args.includes("--corpus-only")) await big();
