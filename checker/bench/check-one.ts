// Checks one jsonl history and prints time and peak memory (run alone by bench.ts).

import { readFileSync } from "node:fs";
import { checkOperations } from "../check.js";
import { parseHistory } from "../formats/index.js";
import { modelFor } from "../models/index.js";

const file = process.argv[2] as string;
const t0 = performance.now();
const parsed = parseHistory(readFileSync(file, "utf8"), file, "jsonl");
const t1 = performance.now();
const outcome = checkOperations(modelFor("kv"), parsed.ops);
const t2 = performance.now();
const peakMb = process.resourceUsage().maxRSS / 1024;
console.log(
  `1M-op history: ${parsed.ops.length} ops, ${outcome.partitions.length} partitions, ${outcome.result}; ` +
    `parse ${((t1 - t0) / 1000).toFixed(1)} s + check ${((t2 - t1) / 1000).toFixed(1)} s = ${((t2 - t0) / 1000).toFixed(1)} s, ` +
    `peak RSS ${peakMb.toFixed(0)} MB (targets: 20 s, 2048 MB)`,
);
