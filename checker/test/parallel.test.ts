// checkInParallel: the same outcomes as checkOperations, with hard partitions in worker
// threads. (From source, parallel.ts starts its workers through tsx's loader, which works under
// vitest too; harness/test/check-parallel.test.ts tests the CLI, timings and process exit.)

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { hardHistory } from "../bench/generate.js";
import { checkOperations } from "../check.js";
import { parseHistory } from "../formats/index.js";
import type { HistoryOp } from "../history.js";
import { UNKNOWN } from "../model.js";
import { modelFor } from "../models/index.js";
import { checkInParallel, decodeOp, encodeOp } from "../parallel.js";
import { vectors } from "./vectors.js";

const parse = (lines: string[]) => parseHistory(lines.join("\n"), "hard.jsonl", "jsonl");

/** Every op of a legal partition with a known output exactly once, in an order the model accepts. */
function expectLinearization(ops: HistoryOp[], order: number[]): void {
  const definite = ops.flatMap((op, i) => (op.output === UNKNOWN ? [] : [i]));
  expect([...order].sort((a, b) => a - b)).toEqual(definite);
  const model = modelFor("kv");
  let state = model.init();
  for (const i of order) {
    const op = ops[i] as HistoryOp;
    const stepped = model.step(state, op.input, op.output);
    expect(stepped.ok).toBe(true);
    state = stepped.state;
  }
}

describe("checkInParallel", () => {
  it("UNKNOWN crosses to a worker as a flag, Infinity as itself", () => {
    const op: HistoryOp = {
      clientId: 3,
      input: { f: "read", key: "k" },
      call: 5,
      return: Number.POSITIVE_INFINITY,
      output: UNKNOWN,
    };
    const wire = structuredClone(encodeOp(op));
    expect(wire.unknown).toBe(true);
    expect(decodeOp(wire)).toEqual(op);
    const ok: HistoryOp = { ...op, return: 9, output: { value: 4 } };
    expect(decodeOp(structuredClone(encodeOp(ok)))).toEqual(ok);
  });

  it("gives every Porcupine vector its expected verdict", async () => {
    for (const v of vectors()) {
      const parsed = parseHistory(readFileSync(v.path, "utf8"), v.file, v.format);
      const o = await checkInParallel({ name: v.model }, parsed.ops, { workers: 1 });
      expect(o.result, v.file).toBe(v.expected);
    }
  });

  it("hands hard partitions to a worker, with the same verdicts and linearizations", async () => {
    const lines = hardHistory({ keys: 4, writes: 16 });
    // An indeterminate read after the writes, per key: left out of the search, but if it came
    // out of a worker as a read of null it would make the key illegal.
    for (let k = 0; k < 4; k++) {
      const read = { process: 900 + k, f: "read", key: `k${k}`, value: null };
      lines.push(JSON.stringify({ time: 1500, type: "invoke", ...read }));
      lines.push(JSON.stringify({ time: 1600, type: "info", ...read }));
    }
    const parsed = parse(lines);
    const { ops } = parsed;
    const single = checkOperations(modelFor("kv"), ops, { verbose: true });
    const parallel = await checkInParallel({ name: "kv" }, ops, { verbose: true, workers: 1 });
    // The same history kept compact (typed arrays; in time order, else it is not): its hard
    // partitions cross as compact ones.
    const byTime = (l: string) => (JSON.parse(l) as { time: number }).time;
    const compact = parse([...lines].sort((a, b) => byTime(a) - byTime(b))).compact;
    if (!compact) throw new Error("not compact");
    const fromCompact = await checkInParallel({ name: "kv" }, compact, {
      verbose: true,
      workers: 1,
    });
    expect(fromCompact.workers).toBeGreaterThan(0);
    expect(fromCompact.partitions.map((p) => [p.label, p.result, p.linearizations]).sort()).toEqual(
      parallel.partitions.map((p) => [p.label, p.result, p.linearizations]).sort(),
    );
    expect(single.result).toBe("ok");
    expect(parallel.result).toBe("ok");
    expect(parallel.workers).toBeGreaterThan(0);
    expect(parallel.partitionCount).toBe(4);
    expect(parallel.partitions.map((p) => [p.label, p.result]).sort()).toEqual(
      single.partitions.map((p) => [p.label, p.result]).sort(),
    );
    for (const p of parallel.partitions) {
      expect(p.linearizations).toHaveLength(1);
      expectLinearization(p.ops, p.linearizations[0] as number[]);
    }
  });

  it("stops at the first illegal partition, even while workers search hard legal ones", async () => {
    const parsed = parse(hardHistory({ keys: 3, writes: 22, illegalKeys: 1, illegalWrites: 15 }));
    for (const history of [parsed.ops, parsed.compact ?? []]) {
      const o = await checkInParallel({ name: "kv" }, history, { workers: 1 });
      expect(o.result).toBe("illegal");
      expect(o.partitions.map((p) => p.label)).toEqual(["bad0"]);
      expect(o.gaveUp).toBeUndefined();
      expect(o.durationMs).toBeLessThan(15_000);
    }
  });

  it("a full report: every partition, the illegal one with its stuck operations, then grace", async () => {
    const { ops } = parse(hardHistory({ keys: 3, writes: 22, illegalKeys: 1, illegalWrites: 14 }));
    const o = await checkInParallel({ name: "kv" }, ops, { verbose: true, workers: 1 });
    expect(o.result).toBe("illegal");
    expect(o.gaveUp).toBe("grace");
    expect(o.workers).toBeGreaterThan(0);
    expect(o.partitions).toHaveLength(4);
    const [bad, ...rest] = o.partitions;
    expect(bad?.label).toBe("bad0");
    expect(bad?.stuck.length).toBeGreaterThan(0);
    expect(bad?.linearizations.length).toBeGreaterThan(0);
    expect(rest.map((p) => p.result)).toEqual(["unknown", "unknown", "unknown"]);
  });

  it("a timeout gives unknown, workers or not", async () => {
    const { ops } = parse(hardHistory({ keys: 4, writes: 21 }));
    for (const workers of [0, 1]) {
      const o = await checkInParallel({ name: "kv" }, ops, { timeout: 1, workers });
      expect(o.result).toBe("unknown");
      expect(o.gaveUp).toBe("timeout");
      expect(o.workers > 0).toBe(workers > 0);
      expect(o.durationMs).toBeLessThan(2_500);
    }
  });

  it("an easy history stays in one thread", async () => {
    const { ops } = parse(hardHistory({ keys: 50, writes: 6 }));
    const o = await checkInParallel({ name: "kv" }, ops, { workers: 1 });
    expect(o.result).toBe("ok");
    expect(o.workers).toBe(0);
  });
});
