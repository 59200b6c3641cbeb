// What lazyfs costs a node: fdatasync latency and the durable log's append throughput, directly
// on disk and through a lazyfs mount over a folder of the same disk. Needs root and /dev/fuse.
//
//   npx tsx harness/lazyfs/bench.ts [--syncs 1000] [--appends 2000] [--records 20000]

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { DurableLog } from "../../node/io/durable-log.js";
import { lazyFsTag, mountLazyFs } from "./mount.js";

const { values } = parseArgs({
  options: {
    syncs: { type: "string", default: "1000" },
    appends: { type: "string", default: "2000" },
    records: { type: "string", default: "20000" },
  },
});
const SYNCS = Number(values.syncs);
const APPENDS = Number(values.appends);
const RECORDS = Number(values.records);
const CONCURRENT = 64;
const RECORD = { type: "accept", ballot: [12, "n3"], slot: 4711, value: "x".repeat(64) };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Milliseconds of each write-128-bytes-then-fdatasync. */
function syncLatencies(dir: string): number[] {
  const fd = fs.openSync(path.join(dir, "sync-bench"), "w");
  const chunk = Buffer.alloc(128, 7);
  const out: number[] = [];
  try {
    for (let i = 0; i < SYNCS; i++) {
      const start = process.hrtime.bigint();
      fs.writeSync(fd, chunk);
      fs.fdatasyncSync(fd);
      out.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  } finally {
    fs.closeSync(fd);
  }
  return out.sort((a, b) => a - b);
}

/** Awaited appends of one record each, one after the other: appends per second. */
async function sequentialAppends(dir: string): Promise<number> {
  const { log } = await DurableLog.open(path.join(dir, "log-seq"));
  const start = performance.now();
  for (let i = 0; i < APPENDS; i++) await log.append([RECORD]);
  const seconds = (performance.now() - start) / 1000;
  await log.close();
  return APPENDS / seconds;
}

/** CONCURRENT appenders, one record per append (group commit batches them): records/s. */
async function concurrentAppends(dir: string): Promise<{ perSecond: number; fsyncs: number }> {
  const { log } = await DurableLog.open(path.join(dir, "log-conc"));
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      while (next++ < RECORDS) await log.append([RECORD]);
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const { fsyncs } = log.stats();
  await log.close();
  return { perSecond: RECORDS / seconds, fsyncs };
}

async function measure(label: string, dir: string): Promise<void> {
  const lat = syncLatencies(dir);
  const seq = await sequentialAppends(dir);
  const conc = await concurrentAppends(dir);
  const ms = (v: number) => v.toFixed(3);
  console.log(
    `${label.padEnd(8)} fdatasync ms p50 ${ms(percentile(lat, 50))} p99 ${ms(percentile(lat, 99))} ` +
      `max ${ms(lat.at(-1) ?? Number.NaN)} | sequential appends/s ${seq.toFixed(0)} | ` +
      `${CONCURRENT} concurrent: records/s ${conc.perSecond.toFixed(0)} (${conc.fsyncs} fsyncs)`,
  );
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "paxos-lazyfs-bench-"));
const disk = path.join(work, "disk");
fs.mkdirSync(disk);
const lazy = await mountLazyFs({
  backing: path.join(work, "backing"),
  mountpoint: path.join(work, "mnt"),
  tag: lazyFsTag("bench"),
});
try {
  console.log(
    `${SYNCS} syncs of 128 B; ${APPENDS} sequential appends, ${RECORDS} records by ` +
      `${CONCURRENT} appenders (${JSON.stringify(RECORD).length} B each); folder ${work}`,
  );
  await measure("disk", disk);
  await measure("lazyfs", lazy.mountpoint);
} finally {
  await lazy.unmount();
  fs.rmSync(work, { recursive: true, force: true });
}
