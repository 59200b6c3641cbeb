import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkOperations } from "../check.js";
import type { HistoryOp } from "../history.js";
import { UNKNOWN } from "../model.js";
import { casRegisterModel, kvModel } from "../models/register.js";
import { setModel } from "../models/set.js";
import { entryOrder } from "../search.js";
import { bruteForce, bruteForceSet, registerSemantics } from "./brute-force.js";
import { historyOp } from "./ops.js";
import { historyArbitrary } from "./random-history.js";

const op = historyOp;
const read = (v: number | null) => ({ value: v });
const R = { f: "read", key: "" } as const;
const W = (value: number) => ({ f: "write", key: "", value }) as const;

describe("search against a brute-force checker", () => {
  const runs = { numRuns: 3000, seed: 20261127 };

  it("cas-register agrees on thousands of small random histories", () => {
    const model = casRegisterModel();
    let illegal = 0;
    fc.assert(
      fc.property(historyArbitrary("register"), (h) => {
        const expected = bruteForce(h, registerSemantics()) ? "ok" : "illegal";
        if (expected === "illegal") illegal++;
        expect(checkOperations(model, h).result).toBe(expected);
      }),
      runs,
    );
    // The generator must produce both verdicts, or the agreement says little.
    expect(illegal).toBeGreaterThan(runs.numRuns / 10);
    expect(illegal).toBeLessThan((runs.numRuns * 9) / 10);
  });

  it("kv (two keys, partitioned) agrees", () => {
    const model = kvModel();
    fc.assert(
      fc.property(historyArbitrary("kv"), (h) => {
        const expected = bruteForce(h, registerSemantics()) ? "ok" : "illegal";
        expect(checkOperations(model, h).result).toBe(expected);
      }),
      runs,
    );
  });

  it("set (per element) agrees", () => {
    const model = setModel();
    let illegal = 0;
    fc.assert(
      fc.property(historyArbitrary("set"), (h) => {
        const expected = bruteForceSet(h) ? "ok" : "illegal";
        if (expected === "illegal") illegal++;
        expect(checkOperations(model, h).result).toBe(expected);
      }),
      runs,
    );
    expect(illegal).toBeGreaterThan(runs.numRuns / 20);
  });

  it("verbose mode gives the same verdicts", () => {
    const model = casRegisterModel();
    fc.assert(
      fc.property(historyArbitrary("register"), (h) => {
        const expected = bruteForce(h, registerSemantics()) ? "ok" : "illegal";
        expect(checkOperations(model, h, { verbose: true }).result).toBe(expected);
      }),
      { numRuns: 1000, seed: 7 },
    );
  });
});

describe("edge cases", () => {
  const model = casRegisterModel();

  it("an empty history is linearizable", () => {
    const outcome = checkOperations(model, []);
    expect(outcome.result).toBe("ok");
    expect(outcome.ops).toBe(0);
  });

  it("a history of only pending calls is linearizable", () => {
    const h = [op(0, W(1), 0, Infinity, UNKNOWN), op(1, R, 1, Infinity, UNKNOWN)];
    expect(checkOperations(model, h).result).toBe("ok");
  });

  it("touching intervals are concurrent", () => {
    // The read returns 1 at the very instant the write of 1 is called: legal only if an
    // interval's end and another's start at the same time overlap.
    const h = [op(0, R, 0, 5, read(1)), op(1, W(1), 5, 10)];
    expect(checkOperations(model, h).result).toBe("ok");
    const apart = [op(0, R, 0, 4, read(1)), op(1, W(1), 5, 10)];
    expect(checkOperations(model, apart).result).toBe("illegal");
  });

  it("a stale read after a completed write is illegal", () => {
    const h = [op(0, W(1), 0, 1), op(1, W(2), 2, 3), op(0, R, 4, 5, read(1))];
    expect(checkOperations(model, h).result).toBe("illegal");
  });

  it("an indeterminate write may take effect late, or never", () => {
    const late = [
      op(0, W(1), 0, Infinity, UNKNOWN),
      op(1, R, 1, 2, read(null)),
      op(1, R, 3, 4, read(1)),
    ];
    expect(checkOperations(model, late).result).toBe("ok");
    const flicker = [
      op(0, W(1), 0, Infinity, UNKNOWN),
      op(1, R, 1, 2, read(1)),
      op(1, R, 3, 4, read(null)),
    ];
    expect(checkOperations(model, flicker).result).toBe("illegal");
  });

  it("an interval that ends before it starts is refused", () => {
    expect(() => checkOperations(model, [op(0, R, 5, 4, read(null))])).toThrow(/interval/);
  });

  it("a timeout gives unknown", () => {
    // Many concurrent writes and reads that no order satisfies: exponential without a limit.
    const h: HistoryOp[] = [];
    for (let i = 0; i < 40; i++) h.push(op(i, W(i), 0, 100));
    for (let i = 0; i < 40; i++) h.push(op(100 + i, R, 1, 100, read(1000 + i)));
    const outcome = checkOperations(model, h, { timeout: 0.2 });
    expect(outcome.result).toBe("unknown");
    expect(outcome.durationMs).toBeLessThan(5000);
  });

  it("verbose mode keeps the longest partial linearization and the stuck ops", () => {
    const h = [op(0, W(1), 0, 1), op(1, W(2), 2, 3), op(0, R, 4, 5, read(1))];
    const outcome = checkOperations(model, h, { verbose: true });
    const p = outcome.partitions[0];
    expect(p?.result).toBe("illegal");
    expect(p?.linearizations[0]).toEqual([0, 1]);
    expect(p?.stuck).toEqual([2]);
  });

  it("a full report checks every partition; otherwise the first illegal one stops", () => {
    const kv = kvModel();
    const h = [
      op(0, { f: "write", key: "a", value: 1 }, 0, 1),
      op(0, { f: "read", key: "a" }, 2, 3, read(2)),
      op(1, { f: "write", key: "b", value: 1 }, 0, 1),
      op(1, { f: "read", key: "b" }, 2, 3, read(2)),
      op(2, { f: "read", key: "c" }, 0, 1, read(null)),
    ];
    expect(checkOperations(kv, h).partitions.filter((p) => p.result === "illegal")).toHaveLength(1);
    const full = checkOperations(kv, h, { verbose: true });
    expect(full.partitions.map((p) => [p.label, p.result])).toEqual([
      ["a", "illegal"],
      ["b", "illegal"],
      ["c", "ok"],
    ]);
  });
});

describe("limits of a full report", () => {
  it("stops the other partitions a grace time after the first illegal one, as unknown", () => {
    const kv = kvModel();
    const h: HistoryOp[] = [
      op(0, { f: "write", key: "easy", value: 1 }, 0, 1),
      op(0, { f: "read", key: "easy" }, 2, 3, read(2)),
    ];
    // An exponential search: concurrent writes and reads of values nobody wrote.
    for (let i = 0; i < 40; i++) h.push(op(10 + i, { f: "write", key: "hard", value: i }, 0, 100));
    for (let i = 0; i < 40; i++) {
      h.push(op(100 + i, { f: "read", key: "hard" }, 1, 100, read(1000 + i)));
    }
    const started = performance.now();
    const outcome = checkOperations(kv, h, { verbose: true });
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(outcome.result).toBe("illegal");
    expect(outcome.gaveUp).toBe("grace");
    expect(outcome.partitions.map((p) => [p.label, p.result])).toEqual([
      ["easy", "illegal"],
      ["hard", "unknown"],
    ]);
  });
});

describe("entryOrder", () => {
  it("is time order, calls before returns at equal times, then by operation", () => {
    const time = fc.oneof(
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.double({ min: 0, max: 50, noNaN: true }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(time, fc.option(fc.integer({ min: 0, max: 30 })), fc.boolean()), {
          maxLength: 60,
        }),
        (drafts) => {
          // Returns near their calls (nearly sorted, as in histories), some never (Infinity).
          const calls = Float64Array.from(drafts, ([c]) => c);
          calls.sort();
          const returns = Float64Array.from(drafts, ([, len, never], i) =>
            never || len === null ? Number.POSITIVE_INFINITY : (calls[i] as number) + len,
          );
          const entries = [...calls].flatMap((c, i) => [
            { e: 2 * i, t: c, ret: 0, op: i },
            { e: 2 * i + 1, t: returns[i] as number, ret: 1, op: i },
          ]);
          entries.sort((a, b) => (a.t === b.t ? a.ret - b.ret || a.op - b.op : a.t < b.t ? -1 : 1));
          expect([...entryOrder(calls, returns)]).toEqual(entries.map((x) => x.e));
        },
      ),
      { numRuns: 2000, seed: 20261202 },
    );
  });
});
