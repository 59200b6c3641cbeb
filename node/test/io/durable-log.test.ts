import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { crc32 } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DurableLog, encodeRecord } from "../../io/durable-log.js";
import { syncedBeforeKill } from "./killed-writer.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");

let dir: string;
const opened: DurableLog[] = [];

async function openLog(d = dir) {
  const result = await DurableLog.open(d);
  opened.push(result.log);
  return result;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "durable-log-"));
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((log) => log.close()));
  await rm(dir, { recursive: true, force: true });
});

describe("crc32 (Node's zlib.crc32)", () => {
  it("is IEEE CRC-32, the frames' checksum: the standard check value, in each frame", () => {
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926);
    const frame = encodeRecord({ a: 1 });
    const body = frame.subarray(8);
    expect(frame.readUInt32BE(0)).toBe(body.length);
    expect(frame.readUInt32BE(4)).toBe(crc32(body));
  });
});

describe("DurableLog", () => {
  it("replays appended records in order after reopening", async () => {
    const { log, records } = await openLog();
    expect(records).toEqual([]);
    await log.append([{ a: 1 }, "two"]);
    await log.append([[3], null, { nested: { deep: true } }]);
    await log.close();
    const again = await openLog();
    expect(again.records).toEqual([{ a: 1 }, "two", [3], null, { nested: { deep: true } }]);
    expect(again.truncatedBytes).toBe(0);
    await again.log.append([6]);
    await again.log.close();
    expect((await openLog()).records).toHaveLength(6);
  });

  it("groups concurrent appends into few fsyncs", async () => {
    const { log } = await openLog();
    const before = log.stats().fsyncs;
    let resolved = 0;
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => log.append([{ i }]).then(() => resolved++)),
    );
    const s = log.stats();
    expect(resolved).toBe(1000);
    expect(s.appends).toBe(1000);
    expect(s.records).toBe(1000);
    expect(s.fsyncs - before).toBeLessThanOrEqual(100);
    await log.close();
    const { records } = await openLog();
    expect(records).toEqual(Array.from({ length: 1000 }, (_, i) => ({ i })));
  });

  it("groups appends issued while a sync is in flight", async () => {
    const { log } = await openLog();
    const first = log.append([0]);
    // Let the first batch reach its fsync, then pile up more behind it.
    await new Promise((r) => setImmediate(r));
    const rest = Array.from({ length: 200 }, (_, i) => log.append([i + 1]));
    await Promise.all([first, ...rest]);
    expect(log.stats().fsyncs).toBeLessThanOrEqual(20);
  });

  it("completes appends in call order while syncs overlap", async () => {
    const { log } = await openLog();
    const order: number[] = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      all.push(log.append([i]).then(() => void order.push(i)));
      // Spread the appends over several event-loop turns, so that several syncs overlap.
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    expect(order).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(log.stats().fsyncs).toBeGreaterThan(1);
    await log.close();
    const { records } = await openLog();
    expect(records).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it("a new segment waits for the appends before it, however their syncs overlap", async () => {
    const { log } = await openLog();
    const done: string[] = [];
    const a = log.append(["a"]).then(() => void done.push("a"));
    await new Promise((r) => setImmediate(r));
    const b = log.append(["b"]).then(() => void done.push("b"));
    const rw = log.startSegment(["x"]).then(() => void done.push("segment"));
    const c = log.append(["c"]).then(() => void done.push("c"));
    await Promise.all([a, b, rw, c]);
    expect(done).toEqual(["a", "b", "segment", "c"]);
    await log.close();
    expect((await openLog()).records).toEqual(["x", "c"]);
  });

  it("rejects a record that is not JSON-serializable without harming the log", async () => {
    const { log } = await openLog();
    await expect(log.append([undefined])).rejects.toThrow(/JSON/);
    await expect(log.append([{ n: 1n }])).rejects.toThrow();
    await log.append(["fine"]);
    await log.close();
    expect((await openLog()).records).toEqual(["fine"]);
  });

  it("drops a torn tail (file cut mid-frame) and keeps what came before", async () => {
    const { log } = await openLog();
    await log.append(["a", "b", { c: 3 }]);
    await log.close();
    const path = join(dir, "log");
    const size = (await stat(path)).size;
    await truncate(path, size - 3);
    const reopened = await openLog();
    expect(reopened.records).toEqual(["a", "b"]);
    expect(reopened.truncatedBytes).toBe(encodeRecord({ c: 3 }).length - 3);
    await reopened.log.append(["d"]);
    await reopened.log.close();
    expect((await openLog()).records).toEqual(["a", "b", "d"]);
  });

  it("drops a cut inside a frame header", async () => {
    const { log } = await openLog();
    await log.append(["a", "b"]);
    await log.close();
    await truncate(join(dir, "log"), encodeRecord("a").length + 5);
    expect((await openLog()).records).toEqual(["a"]);
  });

  it("drops a last frame whose bytes were flipped (bad CRC)", async () => {
    const { log } = await openLog();
    await log.append(["a", "b", "last record"]);
    await log.close();
    const path = join(dir, "log");
    const data = await readFile(path);
    const at = data.length - 2;
    data.writeUInt8(data.readUInt8(at) ^ 0x01, at);
    await writeFile(path, data);
    const reopened = await openLog();
    expect(reopened.records).toEqual(["a", "b"]);
    expect(reopened.truncatedBytes).toBe(encodeRecord("last record").length);
    expect((await stat(path)).size).toBe(data.length - reopened.truncatedBytes);
  });

  it("drops a zero-filled tail (file extended without its data)", async () => {
    const { log } = await openLog();
    await log.append(["a"]);
    await log.close();
    const path = join(dir, "log");
    await writeFile(path, Buffer.concat([await readFile(path), Buffer.alloc(4096)]));
    expect((await openLog()).records).toEqual(["a"]);
  });

  it("a new segment replaces the older ones; later appends land in it", async () => {
    const { log } = await openLog();
    await log.append(["old1", "old2", "old3"]);
    const before = log.append(["old4"]);
    const rewritten = log.startSegment([{ snapshot: 4 }]);
    const after = log.append(["new1"]);
    await Promise.all([before, rewritten, after]);
    await log.append(["new2"]);
    await log.close();
    expect(log.stats().rewrites).toBe(1);
    expect((await openLog()).records).toEqual([{ snapshot: 4 }, "new1", "new2"]);
    expect((await readdir(dir)).sort()).toEqual(["log.00000001"]);
  });

  it("ignores a leftover temp file from a rewrite that crashed before its rename", async () => {
    const { log } = await openLog();
    await log.append(["kept"]);
    await log.close();
    await writeFile(join(dir, "log.rewrite"), encodeRecord("half-done"));
    expect((await openLog()).records).toEqual(["kept"]);
    expect(await readdir(dir)).toEqual(["log"]);
  });

  it("refuses appends after close", async () => {
    const { log } = await openLog();
    await log.close();
    await expect(log.append(["x"])).rejects.toThrow(/closed/);
  });

  it("keeps every record reported synced when the process is SIGKILLed", async () => {
    const script = join(dir, "child.mjs");
    const data = join(dir, "data");
    const module = pathToFileURL(join(root, "node/io/durable-log.ts")).href;
    await writeFile(
      script,
      `import { DurableLog } from ${JSON.stringify(module)};
const { log } = await DurableLog.open(${JSON.stringify(data)});
let next = 0;
// Eight appends in flight at all times, so batches are being written when the kill lands.
const one = async () => {
  for (;;) {
    const i = next++;
    await log.append([{ i, pad: "x".repeat(i % 300) }]);
    process.stdout.write("synced " + i + "\\n");
  }
};
for (let k = 0; k < 8; k++) void one();
`,
    );
    const synced = await syncedBeforeKill(script, root, 300);
    const { records } = await openLog(data);
    const seen = new Set(records.map((r) => (r as { i: number }).i));
    for (const i of synced) expect(seen.has(i), `record ${i} was reported synced`).toBe(true);
    // Appends land in call order, so what survives is a gap-free prefix.
    expect([...seen]).toEqual(records.map((_, k) => k));
  });
});

describe("size limits enforced when writing", () => {
  it("refuses a record over the limit recovery enforces: nothing written, nothing truncated later", async () => {
    const limit = 1024;
    const first = await DurableLog.open(dir, { maxRecordBytes: limit });
    await first.log.append([{ type: "promise", n: 1 }]);
    const huge = { type: "snapshot", blob: "x".repeat(2 * limit) };
    await expect(first.log.append([huge])).rejects.toThrow(
      /log record \(snapshot\) of \d+ bytes exceeds the 1024-byte limit that recovery enforces: refused, not written/,
    );
    await first.log.close();
    const again = await DurableLog.open(dir, { maxRecordBytes: limit });
    opened.push(again.log);
    expect(again.records).toEqual([{ type: "promise", n: 1 }]);
    expect(again.truncatedBytes).toBe(0);
  });
});
