import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkOperations } from "../check.js";
import { parseHistory } from "../formats/index.js";
import { writeHistory } from "../formats/write.js";
import type { HistoryOp, OpInput, OpOutput } from "../history.js";
import { UNKNOWN } from "../model.js";
import { modelFor } from "../models/index.js";
import { Dependencies, findWitness, withoutOne } from "../witness.js";
import { operationNeeds } from "../witness-needs.js";
import { describeWitness } from "../witness-words.js";
import { historyOp } from "./ops.js";
import { VECTORS } from "./vectors.js";

const S = 1e9;
/** An operation with its times in seconds. */
const op = (
  c: number,
  input: OpInput,
  call: number,
  ret: number,
  out?: OpOutput | typeof UNKNOWN,
) => historyOp(c, input, call * S, ret * S, out);
const W = (value: number) => ({ f: "write", key: "k3", value }) as const;
const R = { f: "read", key: "k3" } as const;
const kv = modelFor("kv");

const witnessOf = (ops: HistoryOp[]) => findWitness(kv, ops, { needs: operationNeeds(ops) });

/** Removing any one operation (and what needs it) makes the witness linearizable. */
function expectOneMinimal(ops: HistoryOp[]): void {
  const deps = new Dependencies(ops.length, operationNeeds(ops));
  const all = ops.map((_, i) => i);
  for (const i of all) {
    const rest = withoutOne(all, i, deps).map((j) => ops[j] as HistoryOp);
    expect(checkOperations(kv, rest).result).toBe("ok");
  }
}

/** The broken backend's kind of violation: a read of a value already overwritten. */
function staleRead(): HistoryOp[] {
  const h: HistoryOp[] = [];
  // Noise first: many legal writes and reads around the violation.
  for (let i = 0; i < 30; i++) {
    h.push(op(10 + (i % 3), W(100 + i), i, i + 0.4));
    h.push(op(20 + (i % 3), R, i + 0.5, i + 0.9, { value: 100 + i }));
  }
  h.push(op(3, W(2), 40, 40.5));
  h.push(op(4, W(4), 41, 42.1));
  h.push(op(5, R, 41.5, 43, { value: 4 })); // concurrent with the write of 4: fine
  h.push(op(1, R, 42.2, 42.31, { value: 2 })); // stale: 4 was written after 2
  h.push(op(6, W(7), 50, Number.POSITIVE_INFINITY, UNKNOWN)); // an info op, not needed
  return h;
}

describe("findWitness", () => {
  it("shrinks a stale read to at most 6 operations that check finds illegal, in words", () => {
    const h = staleRead();
    expect(checkOperations(kv, h).result).toBe("illegal");
    const w = witnessOf(h);
    expect(w).toBeDefined();
    if (!w) return;
    console.log(
      `stale read: witness of ${w.ops.length} ops of ${h.length}, ${w.checks} checks, ${w.ms.toFixed(1)} ms`,
    );
    expect(w.ops.length).toBeLessThanOrEqual(6);
    expect(w.minimal).toBe(true);
    expect(checkOperations(kv, w.ops).result).toBe("illegal");
    // The write of 2, the write of 4 and the stale read.
    expect(w.ops.map((o) => o.input)).toEqual([W(2), W(4), R]);
    expectOneMinimal(w.ops);
    const words = describeWitness(w.ops, kv);
    expect(words).toHaveLength(4);
    expect(words[0]).toBe("p3 wrote 2 to k3 between 40.00 s and 40.50 s.");
    expect(words[2]).toBe("p1 read k3 = 2 between 42.20 s and 42.31 s.");
    expect(words[3]).toContain("p1's read of k3 returned 2 at 42.31 s");
    expect(words[3]).toContain("p4's write of 4 came wholly after it (41.00 s to 42.10 s)");
    // Written and read back, the witness is still illegal.
    const text = writeHistory(w.ops, "jsonl").text;
    const back = parseHistory(text, "witness.jsonl", "auto").ops;
    expect(checkOperations(kv, back).result).toBe("illegal");
  });

  it("a linearizable history gives no witness", () => {
    const h = staleRead().filter((o) => !(o.clientId === 1));
    expect(checkOperations(kv, h).result).toBe("ok");
    expect(witnessOf(h)).toBeUndefined();
  });

  it("keeps an info operation only when the violation needs it", () => {
    // The read of 5 is explained only by the indeterminate write of 5, whose effect must then
    // come before the read and after the write of 1 ... which the later read of 1 contradicts.
    const needed = [
      op(1, W(1), 0, 1),
      op(2, W(5), 2, Number.POSITIVE_INFINITY, UNKNOWN),
      op(3, R, 3, 4, { value: 5 }),
      op(4, R, 5, 6, { value: 1 }),
      op(5, W(9), 7, Number.POSITIVE_INFINITY, UNKNOWN), // not needed
    ];
    const w = witnessOf(needed);
    expect(w?.ops.map((o) => o.clientId)).toEqual([1, 2, 3, 4]);
    expect(w?.minimal).toBe(true);
    if (w) expectOneMinimal(w.ops);
  });

  it("Porcupine's kv/c10-bad: each illegal key's witness in well under 2 s, illegal, 1-minimal", () => {
    const file = path.join(VECTORS, "kv/c10-bad.txt");
    const parsed = parseHistory(readFileSync(file, "utf8"), file, "auto");
    const model = modelFor(parsed.model);
    const outcome = checkOperations(model, parsed.ops, { verbose: true });
    const illegal = outcome.partitions.filter((p) => p.result === "illegal");
    expect(illegal.length).toBeGreaterThan(1);
    const figures: string[] = [];
    for (const p of illegal) {
      const w = findWitness(model, p.ops, { needs: operationNeeds(p.ops) });
      expect(w).toBeDefined();
      if (!w) continue;
      figures.push(`key ${p.label}: ${w.ops.length}/${p.ops.length} ops, ${w.ms.toFixed(1)} ms`);
      expect(w.ms).toBeLessThan(10_000); // 2 s on an idle machine; the figure is printed
      expect(w.minimal).toBe(true);
      expect(checkOperations(model, w.ops).result).toBe("illegal");
      const text = writeHistory(w.ops, parsed.format).text;
      const back = parseHistory(text, "w.txt", "auto");
      expect(back.format).toBe("porcupine-kv");
      expect(checkOperations(model, back.ops).result).toBe("illegal");
      const deps = new Dependencies(w.ops.length, operationNeeds(w.ops));
      const all = w.ops.map((_, i) => i);
      for (const i of all) {
        const rest = withoutOne(all, i, deps).map((j) => w.ops[j] as HistoryOp);
        expect(checkOperations(model, rest).result).toBe("ok");
      }
    }
    console.log(`c10-bad witnesses: ${figures.join("; ")}`);
  });
});
