// Compaction by segments: a snapshot batch starts a new segment led by segmentCarry's records,
// and the older segments are deleted once it is durable. Crash steps are simulated by leaving
// the directory as a crash at that step would.

import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recoverDurableState, segmentCarry } from "../../core/storage.js";
import type { Ballot, StorageWrite } from "../../core/types.js";
import {
  CorruptLogError,
  DurableLog,
  encodeRecord,
  type OpenOptions,
} from "../../io/durable-log.js";
import { syncedBeforeKill } from "./killed-writer.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
let root: string;
const opened: DurableLog[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "log-compaction-"));
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((log) => log.close()));
  await rm(root, { recursive: true, force: true });
});

async function openLog(dir: string, options?: OpenOptions) {
  const result = await DurableLog.open(dir, options);
  opened.push(result.log);
  return result;
}

/** Opens, takes the records and closes, as a restart would see the directory. */
async function recover(dir: string): Promise<{ records: StorageWrite[]; truncatedBytes: number }> {
  const { log, records, truncatedBytes } = await DurableLog.open(dir);
  await log.close();
  return { records: records as StorageWrite[], truncatedBytes };
}

const ballot = (round: number, node = "n1"): Ballot => ({ round, node });
const promise = (round: number): StorageWrite => ({ type: "promise", ballot: ballot(round) });
const accept = (slot: number, round: number): StorageWrite => ({
  type: "accept",
  slot,
  ballot: ballot(round),
  value: {
    requests: [
      { clientId: `c${slot}`, seq: slot, command: { op: "write", key: `k${slot}`, value: slot } },
    ],
  },
});
const snapshot = (index: number): StorageWrite => ({
  type: "snapshot",
  snapshot: {
    index,
    kv: Array.from({ length: index }, (_, i) => [`k${i}`, i] as [string, number]),
    sessions: [[`c${index}`, { seq: index, result: { status: "ok" } }]],
    clock: index,
  },
});

const segment1 = "log.00000001";

/**
 * A log with history (promises, accepts, a snapshot, accepts above it at two ballots), and the
 * compaction batch that comes next: a snapshot at 8 with one more accept.
 */
async function history(dir: string) {
  const before: StorageWrite[] = [
    promise(1),
    ...[1, 2, 3, 4, 5, 6].map((s) => accept(s, 1)),
    snapshot(4),
    promise(2),
    accept(6, 2),
    accept(9, 2),
    accept(10, 1),
  ];
  const { log } = await DurableLog.open(dir);
  await log.append(before.slice(0, 4));
  await log.append(before.slice(4));
  await log.close();
  const batch = [accept(11, 2), snapshot(8)];
  const carry = segmentCarry(before, batch);
  if (carry === undefined) throw new Error("the batch has a snapshot: a carry is expected");
  return { before, batch, carry };
}

describe("segmentCarry", () => {
  it("is the promise and the accepts above the batch's snapshot; with the batch it recovers everything", () => {
    const before = [
      promise(3),
      accept(5, 2),
      accept(7, 2),
      accept(7, 3),
      accept(9, 1),
      snapshot(2),
    ];
    const batch = [accept(10, 3), snapshot(6)];
    const carry = segmentCarry(before, batch)!;
    expect(carry).toEqual([promise(3), accept(7, 3), accept(9, 1)]);
    expect(recoverDurableState([...carry, ...batch])).toEqual(
      recoverDurableState([...before, ...batch]),
    );
  });

  it("recovers the same state as the whole history, on random histories", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let trial = 0; trial < 300; trial++) {
      const writes: StorageWrite[] = [];
      for (let i = 0; i < 30; i++) {
        const k = rand(10);
        if (k < 2) writes.push(promise(rand(6)));
        else if (k < 3) writes.push(snapshot(rand(20)));
        else writes.push(accept(1 + rand(25), rand(6)));
      }
      const cut = rand(writes.length);
      const before = writes.slice(0, cut);
      const batch = [...writes.slice(cut, cut + 3), snapshot(rand(25))];
      const carry = segmentCarry(before, batch);
      if (carry === undefined) continue;
      expect(recoverDurableState([...carry, ...batch])).toEqual(
        recoverDurableState([...before, ...batch]),
      );
    }
  });

  it("is undefined without a snapshot in the batch, or with one older than the log's", () => {
    expect(segmentCarry([promise(1), accept(1, 1)], [accept(2, 1)])).toBeUndefined();
    expect(segmentCarry([snapshot(9)], [snapshot(5)])).toBeUndefined();
    expect(segmentCarry([snapshot(9)], [snapshot(9)])).toEqual([]);
  });
});

describe("a crash at each step of a compaction recovers the same durable state", () => {
  it("before the new segment exists, while it is empty, torn, whole, and after the deletion", async () => {
    const full = join(root, "full");
    const { before, batch, carry } = await history(full);
    const stateBefore = recoverDurableState(before);
    const stateAfter = recoverDurableState([...before, ...batch]);
    const first = [...carry, ...batch];
    const frames = first.map((r) => encodeRecord(r));
    const segmentBytes = Buffer.concat(frames);
    const oldLog = await readFile(join(full, "log"));

    const crashDir = async (name: string, files: Record<string, Buffer>) => {
      const d = join(root, name);
      await cp(full, d, { recursive: true });
      await rm(join(d, "log"));
      for (const [file, data] of Object.entries(files)) await writeFile(join(d, file), data);
      return d;
    };

    // 1. Crashed before creating the new segment: the old log alone.
    const s1 = await recover(await crashDir("s1", { log: oldLog }));
    expect(recoverDurableState(s1.records)).toEqual(stateBefore);

    // 2. The new segment's name made it to disk, none of its data.
    const d2 = await crashDir("s2", { log: oldLog, [segment1]: Buffer.alloc(0) });
    const s2 = await recover(d2);
    expect(recoverDurableState(s2.records)).toEqual(stateBefore);
    expect((await readdir(d2)).sort()).toEqual(["log", segment1]);

    // 3. Its first write torn at every byte: the torn tail goes, the old log still has it all.
    let offset = 0;
    const boundaries = frames.map((f) => (offset += f.length));
    for (let cut = 1; cut < segmentBytes.length; cut += 7) {
      const d3 = await crashDir(`s3-${cut}`, {
        log: oldLog,
        [segment1]: segmentBytes.subarray(0, cut),
      });
      const s3 = await recover(d3);
      const whole = boundaries.filter((b) => b <= cut).length;
      expect(s3.records).toEqual([...before, ...first.slice(0, whole)]);
      expect(s3.truncatedBytes).toBe(cut - (boundaries[whole - 1] ?? 0));
      // Replaying the surviving prefix of the carry is harmless: it repeats the old log.
      const kept =
        whole <= carry.length ? before : [...before, ...batch.slice(0, whole - carry.length)];
      expect(recoverDurableState(s3.records)).toEqual(recoverDurableState(kept));
      await rm(d3, { recursive: true });
    }

    // 4. The new segment whole, the old one not deleted yet.
    const s4 = await recover(await crashDir("s4", { log: oldLog, [segment1]: segmentBytes }));
    expect(recoverDurableState(s4.records)).toEqual(stateAfter);

    // 5. The old one deleted: the new segment stands alone.
    const s5 = await recover(await crashDir("s5", { [segment1]: segmentBytes }));
    expect(s5.records).toEqual(first);
    expect(recoverDurableState(s5.records)).toEqual(stateAfter);
  });

  it("a crash during the deletion of several older segments leaves a suffix that replays the same", async () => {
    const dir = join(root, "many");
    const captured: string[][] = [];
    let state: StorageWrite[] = [];
    const live: StorageWrite[] = [];
    // Older segments pile up while deletion is refused (a failing or crashed cleanup) ...
    let refuse = true;
    const { log } = await openLog(dir, {
      removeFile: async (path) => {
        captured.push((await readdir(dir)).sort());
        if (refuse) throw new Error("crashed before deleting");
        await rm(path);
        // ... and a copy of the directory right after each deletion is a crash at that point.
        const copy = join(root, `after-${captured.length}`);
        await cp(dir, copy, { recursive: true });
      },
    });
    const write = async (batch: StorageWrite[], compact: boolean) => {
      state = [...state, ...batch];
      const carry = compact ? segmentCarry(live, batch) : undefined;
      if (carry === undefined) {
        live.push(...batch);
        await log.append(batch);
      } else {
        live.splice(0, live.length, ...carry, ...batch);
        await log.startSegment(live);
      }
    };
    await write([promise(1), accept(1, 1), accept(2, 1)], false);
    for (let round = 1; round <= 3; round++) {
      await write([accept(round * 3, 1), accept(round * 3 + 1, 2), promise(round + 1)], false);
      await write([snapshot(round * 3 - 1), accept(round * 3 + 2, round)], true);
    }
    refuse = false;
    await write([snapshot(10), accept(11, 3)], true);
    await log.close();
    const expected = recoverDurableState(state);
    // Four segments (log, 1, 2, 3) were deleted oldest first behind segment 4.
    expect(captured.at(-1)).toEqual(["log.00000003", "log.00000004"]);
    const copies = (await readdir(root)).filter((n) => n.startsWith("after-"));
    expect(copies.length).toBe(4);
    for (const copy of copies) {
      const { records } = await recover(join(root, copy));
      expect(recoverDurableState(records), copy).toEqual(expected);
    }
    expect(await readdir(dir)).toEqual(["log.00000004"]);
    expect(recoverDurableState((await recover(dir)).records)).toEqual(expected);
  });

  it("refuses a bad frame in a segment that a newer one follows: corruption, not a torn tail", async () => {
    const dir = join(root, "corrupt");
    const { log } = await openLog(dir);
    await log.append(["a", "b"]);
    await log.startSegment(["c"]);
    await log.close();
    // Put the deleted old segment back with its last byte gone.
    const frames = Buffer.concat([encodeRecord("a"), encodeRecord("b")]);
    await writeFile(join(dir, "log"), frames.subarray(0, frames.length - 1));
    await expect(DurableLog.open(dir)).rejects.toThrow(CorruptLogError);
    await expect(DurableLog.open(dir)).rejects.toThrow(
      /log: bad frame at byte 11 of 21, .*refusing/,
    );
  });
});

describe("the previous version's single-file log", () => {
  it("opens as segment 0 (torn tail and leftover rewrite temp file included), then compacts away", async () => {
    const dir = join(root, "old");
    const old = [promise(1), accept(1, 1), snapshot(1), accept(2, 1)];
    const bytes = Buffer.concat(old.map((r) => encodeRecord(r)));
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, "log"),
      Buffer.concat([bytes, encodeRecord(accept(3, 1)).subarray(0, 9)]),
    );
    await writeFile(join(dir, "log.rewrite"), encodeRecord("half-done"));
    const { log, records, truncatedBytes } = await openLog(dir);
    expect(records).toEqual(old);
    expect(truncatedBytes).toBe(9);
    expect((await readdir(dir)).sort()).toEqual(["log"]);
    expect(log.stats()).toMatchObject({ segments: 1, diskBytes: bytes.length });
    await log.append([accept(3, 1)]);
    const batch = [snapshot(3)];
    const live = [...old, accept(3, 1)];
    await log.startSegment([...segmentCarry(live, batch)!, ...batch]);
    await log.close();
    expect(await readdir(dir)).toEqual([segment1]);
    const again = await recover(dir);
    expect(recoverDurableState(again.records)).toEqual(recoverDurableState([...live, ...batch]));
  });
});

describe("appends during a compaction", () => {
  it("complete, in order and durable, while the old segment's deletion is still held up", async () => {
    const dir = join(root, "held");
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const removals: string[] = [];
    const { log } = await openLog(dir, {
      removeFile: async (path) => {
        removals.push(path);
        await gate;
        await rm(path);
      },
    });
    await log.append(["old-1", "old-2"]);
    const done: string[] = [];
    const all: Promise<void>[] = [
      log.startSegment(["carry", "snap"]).then(() => void done.push("snap")),
    ];
    for (let i = 0; i < 50; i++) {
      all.push(log.append([`new-${i}`]).then(() => void done.push(`new-${i}`)));
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    expect(done).toEqual(["snap", ...Array.from({ length: 50 }, (_, i) => `new-${i}`)]);
    // Every append is durable, and the deletion has not happened yet.
    expect(removals).toEqual([join(dir, "log")]);
    expect((await readdir(dir)).sort()).toEqual(["log", segment1]);
    expect(log.stats()).toMatchObject({ segments: 2, rewrites: 0 });
    const copy = join(root, "copy");
    await cp(dir, copy, { recursive: true });
    const seen = await recover(copy);
    expect(seen.records).toEqual([
      "old-1",
      "old-2",
      "carry",
      "snap",
      ...Array.from({ length: 50 }, (_, i) => `new-${i}`),
    ]);
    release();
    await log.close();
    expect(log.stats()).toMatchObject({ segments: 1, rewrites: 1 });
    expect(await readdir(dir)).toEqual([segment1]);
    expect((await recover(dir)).records).toEqual(seen.records.slice(2));
  });
});

describe("sizes over many snapshots", () => {
  it("stay bounded: a few segments, bytes of about two snapshots' worth of records", async () => {
    const dir = join(root, "bounded");
    const { log } = await openLog(dir);
    const everything: StorageWrite[] = [];
    let live: StorageWrite[] = [];
    let snapshots = 0;
    let maxBytes = 0;
    let maxSegments = 0;
    let slot = 0;
    for (let batchNo = 0; batchNo < 1000; batchNo++) {
      const batch: StorageWrite[] = [accept(++slot, 1), accept(++slot, 1)];
      // A snapshot every 10 batches, compaction every 4th snapshot (the node's default).
      const compact = batchNo % 10 === 9 && ++snapshots % 4 === 0;
      if (batchNo % 10 === 9) batch.push(snapshot(slot - 4));
      everything.push(...batch);
      const carry = compact ? segmentCarry(live, batch) : undefined;
      if (carry === undefined) {
        live.push(...batch);
        await log.append(batch);
      } else {
        live = [...carry, ...batch];
        await log.startSegment(live);
      }
      const s = log.stats();
      maxBytes = Math.max(maxBytes, s.diskBytes);
      maxSegments = Math.max(maxSegments, s.segments);
    }
    await log.close();
    const s = log.stats();
    expect(s.rewrites).toBe(25);
    // A deletion still running when the next compaction starts would make it three.
    expect(maxSegments).toBeLessThanOrEqual(3);
    const files = await readdir(dir);
    expect(files).toEqual([`log.${String(25).padStart(8, "0")}`]);
    expect((await stat(join(dir, files[0]!))).size).toBe(s.diskBytes);
    // A few compaction periods' records at most (the newest segment, and the older ones until
    // their deletion): far below the 2000 accepts and 100 snapshots written.
    const period = Buffer.concat(
      [
        ...Array.from({ length: 80 }, (_, i) => accept(4000 + i, 1)),
        ...[1, 2, 3, 4].map(() => snapshot(4000)),
      ].map((r) => encodeRecord(r)),
    ).length;
    expect(maxBytes).toBeLessThan(3 * period);
    expect(s.bytes).toBeGreaterThan(10 * maxBytes);
    const { records } = await recover(dir);
    expect(recoverDurableState(records)).toEqual(recoverDurableState(everything));
  });
});

describe("a SIGKILL while compacting", () => {
  it("keeps every record reported synced, as a gap-free prefix, whatever step it hits", async () => {
    const script = join(root, "child.mjs");
    const data = join(root, "data");
    const module = pathToFileURL(join(repo, "node/io/durable-log.ts")).href;
    // Records {i}, and every 40 appends a new segment led by {upTo: n}: "every i below n was
    // written" (appends issued before it land before it), so the older segments are redundant.
    await writeFile(
      script,
      `import { DurableLog } from ${JSON.stringify(module)};
const { log } = await DurableLog.open(${JSON.stringify(data)});
let next = 0;
const one = async () => {
  for (;;) {
    const i = next++;
    const write = i % 40 === 39 ? log.startSegment([{ upTo: i }, { i }]) : log.append([{ i }]);
    await write;
    process.stdout.write("synced " + i + "\\n");
  }
};
for (let k = 0; k < 8; k++) void one();
`,
    );
    const synced = await syncedBeforeKill(script, repo, 600);
    const { records } = await recover(data);
    const seen = new Set<number>();
    for (const r of records as unknown as ({ i: number } | { upTo: number })[]) {
      if ("i" in r) seen.add(r.i);
      else for (let i = 0; i < r.upTo; i++) seen.add(i);
    }
    for (const i of synced) expect(seen.has(i), `record ${i} was reported synced`).toBe(true);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: seen.size }, (_, k) => k));
    // Compactions ran and deleted behind them: a few segments, not fifteen.
    const files = (await readdir(data)).filter((n) => n.startsWith("log"));
    expect(files.length).toBeLessThanOrEqual(3);
    expect(files.at(-1)).not.toBe("log");
  });
});
