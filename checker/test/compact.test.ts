// The compact history (typed arrays, compact.ts) and its check (compact-check.ts) against the
// object parser and the object check: the same operations, the same verdicts, partition by
// partition, with and without a full report.

import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { checkOperations } from "../check.js";
import { readHistoryFile } from "../formats/file.js";
import { parseJsonl, parseJsonlBytes } from "../formats/jsonl.js";
import { readCompact } from "../formats/jsonl-compact.js";
import { fileSource } from "../formats/jsonl-scan.js";
import { readCompactSplit } from "../formats/jsonl-split.js";
import { writeHistory } from "../formats/write.js";
import {
  HistoryError,
  type HistoryOp,
  type ModelName,
  type ParsedHistory,
  type Value,
} from "../history.js";
import { modelFor } from "../models/index.js";
import { checkInParallel } from "../parallel.js";
import { historyArbitrary } from "./random-history.js";

const lines = (...ls: unknown[]) => ls.map((l) => JSON.stringify(l)).join("\n");
const jsonlOf = (h: HistoryOp[]): string => writeHistory(h, "jsonl").text;
/** The message of a parse that fails, else undefined. */
const errorOf = (parse: () => unknown): string | undefined => {
  try {
    parse();
    return undefined;
  } catch (e) {
    if (e instanceof HistoryError) return e.message;
    throw e;
  }
};
const objectsOnly = (text: string): ParsedHistory => {
  const bytes = Buffer.from(text, "utf8");
  return parseJsonlBytes(() => [bytes], "t", false);
};

/** What a check says of each partition, in order. */
async function verdicts(
  name: ModelName,
  history: HistoryOp[] | NonNullable<ParsedHistory["compact"]>,
  verbose: boolean,
  initial?: Value,
) {
  const o = Array.isArray(history)
    ? checkOperations(modelFor(name, { initial }), history, { verbose })
    : await checkInParallel({ name, initial }, history, { verbose, workers: 0 });
  return {
    result: o.result,
    count: o.partitionCount,
    partitions: o.partitions.map((p) => ({
      label: p.label,
      result: p.result,
      ops: p.ops,
      origin: p.origin,
      linearizations: p.linearizations,
      stuck: p.stuck,
    })),
  };
}

describe("compact histories", () => {
  it("hold the operations the object parser makes", () => {
    fc.assert(
      fc.property(historyArbitrary("kv"), (h) => {
        const text = jsonlOf(h);
        // An operation that returns when it is called is written with its completion first
        // (write.ts), which no parser pairs: then both say so, alike.
        const error = errorOf(() => objectsOnly(text));
        expect(errorOf(() => parseJsonl(text, "t"))).toBe(error);
        if (error !== undefined) return;
        const compact = parseJsonl(text, "t");
        expect(compact.compact).toBeDefined();
        const objects = objectsOnly(text);
        expect(objects.compact).toBeUndefined();
        expect(compact.model).toBe(objects.model);
        expect(compact.ops).toEqual(objects.ops);
      }),
      { numRuns: 500, seed: 20261202 },
    );
  });

  it("are checked with the same verdicts, partition by partition", async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary("kv"),
        fc.boolean(),
        fc.constantFrom<Value | undefined>(undefined, 1, "x"),
        async (h, verbose, initial) => {
          const text = jsonlOf(h);
          if (errorOf(() => objectsOnly(text)) !== undefined) return;
          const parsed = parseJsonl(text, "t");
          checked++;
          const compact = parsed.compact;
          if (!compact) throw new Error("not compact");
          for (const name of ["kv", "cas-register"] as const) {
            const expected = await verdicts(name, objectsOnly(text).ops, verbose, initial);
            expect(await verdicts(name, compact, verbose, initial)).toEqual(expected);
          }
        },
      ),
      { numRuns: 1500, seed: 20261202 },
    );
    expect(checked).toBeGreaterThan(750);
  });

  it("are left to the object parser for what typed arrays do not hold", () => {
    const base = { time: 1, process: 0, type: "invoke", key: "k" };
    const ok = { time: 2, process: 0, type: "ok", key: "k" };
    const cases = [
      lines({ ...base, f: "write", value: [1] }, { ...ok, f: "write", value: [1] }),
      lines({ ...base, f: "write", value: 1 }, { ...ok, f: "write", value: 1 }).replaceAll(
        '"value":1',
        '"value":-0',
      ),
      // -0 after 0 (which has an index by then), read fast and through JSON.parse.
      lines(
        { ...base, f: "write", value: 0 },
        { ...ok, f: "write", value: 0 },
        { ...base, time: 3, f: "write", value: 1 },
        { ...ok, time: 4, f: "write", value: 1 },
      ).replace(/"value":1/g, '"value":-0'),
      lines(
        { ...base, f: "write", value: 0 },
        { ...ok, f: "write", value: 0 },
        { ...base, time: 3, f: "write", value: 1, x: "\n" },
        { ...ok, time: 4, f: "write", value: 1 },
      ).replace(/"value":1/g, '"value":-0'),
      lines({ ...base, f: "read", value: null }, { ...ok, f: "read", value: { a: 1 } }),
      lines({ ...base, f: "add", value: 1 }, { ...ok, f: "add", value: 1 }),
      // Time going backwards: the object parser sorts the events.
      lines(
        { ...base, time: 5, f: "write", value: 1 },
        { ...base, time: 3, process: 1, f: "write", value: 2 },
        { ...ok, time: 6, f: "write", value: 1 },
        { ...ok, time: 7, process: 1, f: "write", value: 2 },
      ),
    ];
    for (const text of cases) {
      const parsed = parseJsonl(text, "t");
      expect(parsed.compact).toBeUndefined();
      expect(parsed).toEqual(objectsOnly(text));
    }
  });

  it("an initial value that is not a scalar: the objects are checked", async () => {
    const text = lines(
      { time: 1, process: 0, type: "invoke", f: "read", key: "k", value: null },
      { time: 2, process: 0, type: "ok", f: "read", key: "k", value: null },
    );
    const compact = parseJsonl(text, "t").compact;
    if (!compact) throw new Error("not compact");
    const o = await checkInParallel({ name: "kv", initial: { a: 1 } }, compact, { workers: 0 });
    expect(o.result).toBe("illegal");
    const p = await checkInParallel({ name: "kv", initial: null }, compact, { workers: 0 });
    expect(p.result).toBe("ok");
  });
});

describe("a big file read by two threads", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "compact-split-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What reading the file alone gives, and what two threads give (0: split whatever its size). */
  function both(text: string) {
    const file = path.join(dir, "h.jsonl");
    writeFileSync(file, text);
    const fd = openSync(file, "r");
    try {
      const size = fstatSync(fd).size;
      const read = (split: boolean) => {
        try {
          const b = split
            ? readCompactSplit(fd, 0, size, "h", 0)
            : readCompact(fileSource(fd, 0, size), "h");
          return b ? { ops: b.finish().ops(), model: b.manyKeys } : undefined;
        } catch (e) {
          if (e instanceof HistoryError) return e.message;
          throw e;
        }
      };
      return { alone: read(false), split: read(true) };
    } finally {
      closeSync(fd);
    }
  }

  it("gives what one thread gives", () => {
    fc.assert(
      fc.property(historyArbitrary("kv"), (h) => {
        const { alone, split } = both(jsonlOf(h));
        expect(split).toEqual(alone);
      }),
      { numRuns: 40, seed: 20261202 },
    );
  });

  it("a file of several chunks (whose buffers are reused) reads as its text does", () => {
    const ev = (time: number, process: number, type: string, value: unknown) =>
      JSON.stringify({
        time,
        process,
        type,
        f: "write",
        key: `k${time % 7}`,
        value,
        pad: "x".repeat(time % 50),
      });
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++) {
      lines.push(ev(2 * i, i % 5, "invoke", i % 3), ev(2 * i + 1, i % 5, "ok", i % 3));
    }
    const text = `${lines.join("\n")}\n`;
    const file = path.join(dir, "chunks.jsonl");
    writeFileSync(file, text);
    expect(text.length).toBeGreaterThan(3 * (4 << 20));
    const parsed = readHistoryFile(file, "h", "auto");
    expect(parsed.compact).toBeDefined();
    expect(parsed.ops).toEqual(objectsOnly(text).ops);
  });

  it("when the second half has a line the worker does not take, or a bad one", () => {
    const ev = (time: number, process: number | string, type: string, value: unknown = 1) =>
      JSON.stringify({ time, process, type, f: "write", key: "k", value });
    const head = Array.from({ length: 40 }, (_, i) =>
      [ev(2 * i, 0, "invoke"), ev(2 * i + 1, 0, "ok")].join("\n"),
    );
    const tails = [
      `${ev(100, "nemesis", "info")}\n${ev(101, 0, "invoke")}\n${ev(102, 0, "ok")}`,
      `${ev(100, 0, "invoke", { a: 1 })}\n${ev(101, 0, "ok", { a: 1 })}`,
      `${ev(100, 0, "invoke")}\n{"process": 0, "type": "ok", "f": "write", "key": "k"}`,
      `${ev(100, 0, "invoke")}\nnot json`,
      `${ev(100, 0, "invoke")}\n${ev(99, 0, "ok")}`,
    ];
    for (const tail of tails) {
      const { alone, split } = both(`${[...head, tail].join("\n")}\n`);
      expect(split).toEqual(alone);
    }
  });
});
