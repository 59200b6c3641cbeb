// npm run bench:harness: how many operations per second the harness can drive and record,
// against an in-process in-memory backend (no network): the real workers, history writer and
// recorder, 32 workers at unlimited rate for ~5 s, then the check of the recorded history.
// Target: >= 20,000 ops/s. `--flush turn` measures the batched-per-turn policy instead.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { checkOperations } from "../../checker/check.js";
import { parseHistory } from "../../checker/formats/index.js";
import { modelFor } from "../../checker/models/index.js";
import { randomOf } from "../../contracts/random.js";
import { makeWorkload } from "../../workloads/index.js";
import { clients, interpret, timeLimit } from "../generator/index.js";
import { type FlushPolicy, HistoryWriter } from "../history-writer.js";
import { Recorder } from "../recorder.js";
import { workerSequence } from "../test-generator.js";
import type { Invocation } from "../types.js";
import { invokeOnce } from "../workers.js";
import { MemoryStore } from "./memory-client.js";

const args = process.argv.slice(2);
const flush: FlushPolicy =
  args.includes("--flush") && args[args.indexOf("--flush") + 1] === "turn" ? "turn" : "line";
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const concurrency = 32;

const dir = mkdtempSync(path.join(tmpdir(), "bench-harness-"));
try {
  const file = path.join(dir, "history.jsonl");
  const writer = new HistoryWriter(file, flush);
  const recorder = new Recorder(writer);
  const random = randomOf(1, "bench");
  const workload = makeWorkload("kv", { keys: 100, distribution: "uniform", random });
  const store = new MemoryStore();
  const began = performance.now();
  // The runner's path: the generator's interpreter, one client per worker, unlimited rate.
  const client = store.client();
  const signal = new AbortController().signal;
  await interpret(
    clients(
      timeLimit(
        seconds * 1000,
        workerSequence((w) => workload.next(w)),
      ),
    ),
    {
      threads: Array.from({ length: concurrency }, (_, i) => i),
      seed: 1,
      signal,
      log: () => {},
      invoke: async (op) => {
        const invocation = { f: op.f, key: op.key, value: op.value } as Invocation;
        const c = await invokeOnce(client, invocation, op.thread as number, {
          recorder,
          opTimeoutMs: 5000,
        });
        return { type: c.type };
      },
    },
  );
  writer.close();
  const elapsed = (performance.now() - began) / 1000;
  const c = recorder.counts;
  const done = c.ok + c.fail + c.info;
  const t0 = performance.now();
  const parsed = parseHistory(readFileSync(file, "utf8"), file, "jsonl");
  const parseMs = performance.now() - t0;
  const outcome = checkOperations(modelFor("kv"), parsed.ops, { timeout: 120 });
  const perS = Math.round(done / elapsed);
  console.log(
    `bench:harness (flush ${flush}): ${done} operations recorded in ${elapsed.toFixed(2)} s by ${concurrency} workers = ${perS} ops/s (target >= 20000)`,
  );
  console.log(
    `  ok ${c.ok}, fail ${c.fail}, info ${c.info}; ${writer.count} history lines; parse ${Math.round(parseMs)} ms, check ${Math.round(outcome.durationMs)} ms: ${outcome.result} (${outcome.partitionCount} partitions)`,
  );
  if (perS < 20000) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
