// A partition whose cache reaches its bound is left unknown, with the reason, and the check goes
// on with the others: an illegal partition elsewhere still makes the history illegal; else the
// verdict is unknown. The same in checkInParallel's worker threads.

import { describe, expect, it } from "vitest";
import { hardHistory } from "../bench/generate.js";
import { checkOperations } from "../check.js";
import { parseHistory } from "../formats/index.js";
import type { HistoryOp, OpInput, OpOutput } from "../history.js";
import type { CheckOutcome } from "../model.js";
import { modelFor } from "../models/index.js";
import { checkInParallel } from "../parallel.js";

const ops = (lines: string[]) => parseHistory(lines.join("\n"), "h.jsonl", "jsonl").ops;
/** Easy keys: one write and a read of it each; `bad` reads what was never written. */
function easyKeys(keys: string[], bad = false): string[] {
  return keys.flatMap((key) => {
    // Processes and times of their own, after the hard keys' (hardHistory's end by 2,001).
    const i = key.charCodeAt(0);
    const p = 1000 + i;
    const line = (time: number, type: string, f: string, value: unknown) =>
      JSON.stringify({ time: 5000 + 10 * i + time, process: p, type, f, key, value });
    return [
      line(0, "invoke", "write", 1),
      line(1, "ok", "write", 1),
      line(2, "invoke", "read", null),
      line(3, "ok", "read", bad ? 7 : 1),
    ];
  });
}
/** Hard keys k0.. (`writes` concurrent writes: n·2^n states) and the easy keys, in time order. */
function history(hardKeys: number, writes: number, easy: string[]): HistoryOp[] {
  return ops([...hardHistory({ keys: hardKeys, writes }), ...easy]);
}
const byLabel = (o: CheckOutcome<OpInput, OpOutput>) =>
  Object.fromEntries(o.partitions.map((p) => [p.label, p]));
/** 1,024 words: 1,024 states of a one-word bitset, far fewer than a hard key needs. */
const SMALL = 1024;

describe("a partition whose cache fills", () => {
  it("is unknown with the reason; the others are checked; no illegal one: unknown", () => {
    const h = history(1, 12, easyKeys(["a", "b"]));
    const o = checkOperations(modelFor("kv"), h, { cacheWords: SMALL });
    expect(o.result).toBe("unknown");
    const p = byLabel(o);
    expect(p.k0?.result).toBe("unknown");
    expect(p.k0?.reason).toMatch(/explored \d+ states .* too hard to check/);
    expect(p.a?.result).toBe("ok");
    expect(p.b?.result).toBe("ok");
    expect(o.gaveUp).toBeUndefined();
    // With room enough, the same history is legal: the bound alone made it unknown.
    expect(checkOperations(modelFor("kv"), h).result).toBe("ok");
  });

  it("an illegal partition elsewhere still makes the history illegal", () => {
    const h = history(1, 12, [...easyKeys(["a"]), ...easyKeys(["z"], true)]);
    const o = checkOperations(modelFor("kv"), h, { cacheWords: SMALL, verbose: true });
    expect(o.result).toBe("illegal");
    const p = byLabel(o);
    expect(p.z?.result).toBe("illegal");
    expect(p.k0?.result).toBe("unknown");
    expect(p.k0?.reason).toMatch(/too hard to check/);
    expect(p.a?.result).toBe("ok");
    // Not verbose: the illegal key ends the check, whichever finished first.
    expect(checkOperations(modelFor("kv"), h, { cacheWords: SMALL }).result).toBe("illegal");
  });

  it("in a worker thread, too: unknown with the reason, the other partitions checked", async () => {
    // Three keys hard enough to be handed to a worker (~300 ms in), whose caches fill there.
    const h = history(3, 18, easyKeys(["a"]));
    const o = await checkInParallel({ name: "kv" }, h, { cacheWords: 2 ** 20, workers: 1 });
    expect(o.workers).toBeGreaterThan(0);
    expect(o.result).toBe("unknown");
    const p = byLabel(o);
    for (const k of ["k0", "k1", "k2"]) {
      expect(p[k]?.result).toBe("unknown");
      expect(p[k]?.reason).toMatch(/too hard to check/);
    }
    expect(p.a?.result).toBe("ok");
    expect(o.gaveUp).toBeUndefined();
  }, 60_000);

  it("in checkInParallel, an illegal key elsewhere makes the history illegal", async () => {
    const h = history(1, 12, easyKeys(["z"], true));
    const o = await checkInParallel({ name: "kv" }, h, {
      cacheWords: SMALL,
      verbose: true,
      workers: 1,
    });
    expect(o.result).toBe("illegal");
    expect(byLabel(o).k0?.reason).toMatch(/too hard to check/);
  });
});
