// Checks one jsonl history and prints time and peak memory (run alone by bench.ts). With
// `parallel`, through checkInParallel (worker threads for hard partitions, if any).

import { readFileSync } from "node:fs";
import { checkOperations } from "../check.js";
import { parseHistory } from "../formats/index.js";
import { modelFor } from "../models/index.js";
import { checkInParallel } from "../parallel.js";

const file = process.argv[2] as string;
const parallel = process.argv[3] === "parallel";
const t0 = performance.now();
const parsed = parseHistory(readFileSync(file, "utf8"), file, "jsonl");
const t1 = performance.now();
const outcome = parallel
  ? await checkInParallel({ name: "kv" }, parsed.ops)
  : checkOperations(modelFor("kv"), parsed.ops);
const t2 = performance.now();
const peakMb = process.resourceUsage().maxRSS / 1024;
console.log(
  `1M-op history${parallel ? ` (checkInParallel, ${"workers" in outcome ? outcome.workers : 0} partitions in workers)` : ""}: ${parsed.ops.length} ops, ${outcome.partitions.length} partitions, ${outcome.result}; ` +
    `parse ${((t1 - t0) / 1000).toFixed(1)} s + check ${((t2 - t1) / 1000).toFixed(1)} s = ${((t2 - t0) / 1000).toFixed(1)} s, ` +
    `peak RSS ${peakMb.toFixed(0)} MB (targets: 20 s, 2048 MB)`,
);
