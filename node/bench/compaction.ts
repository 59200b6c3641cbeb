// `npm run bench:compaction -- [--seconds 20] [--clients 32] [--ballast-keys 2000]
//   [--ballast-bytes 8000] [--snapshot-every 100] [--compact-every 4] [--warmup 2]`
//
// Does log compaction stall the node? One single-node cluster in this process, its state made
// large first (ballast keys of ballast-bytes each: ~16 MB by default, so every snapshot record is
// that big), then closed-loop clients writing small values for `seconds`, long enough for
// several compactions. Prints request latency p50/p99/max, the event loop's delay (perf_hooks
// monitorEventLoopDelay: its max is the longest block) and how many stalls of 20 ms or more a
// 5 ms interval timer saw, and the log's counters; and from probes on the log and the server
// (probes.ts) append latency and how long each persist() call held the event loop, split by
// whether it started a compaction. The machine's load shows in every figure but the last: a
// process at nice 19 is descheduled in the middle of anything. Besides the probes it uses only
// NodeServer.start and status(), so the same files run against an older tree of node/ too.

import { mkdtemp, rm } from "node:fs/promises";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { crc32 } from "node:zlib";
import { createLogger } from "../io/logger.js";
import { NodeServer } from "../server.js";
import { httpCall } from "../test/procs.js";
import { percentile, runLoad, type Send } from "./load.js";
import { installProbes } from "./probes.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "20" },
    warmup: { type: "string", default: "2" },
    clients: { type: "string", default: "32" },
    "ballast-keys": { type: "string", default: "2000" },
    "ballast-bytes": { type: "string", default: "8000" },
    "snapshot-every": { type: "string", default: "100" },
    "compact-every": { type: "string", default: "4" },
  },
});
const num = (name: keyof typeof values) => Number(values[name]);

const send: Send = async (r) => {
  const res = await httpCall(
    r.target.host,
    r.target.port,
    "PUT",
    `/kv/${r.key}`,
    { value: r.seq },
    {
      agent: r.agent,
      timeoutMs: r.timeoutMs,
      headers: { "x-client-id": r.client, "x-seq": String(r.seq) },
    },
  );
  return res.status === 200 ? true : `HTTP ${res.status}`;
};

async function waitForLeader(server: NodeServer): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (server.status().role === "leader") return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the single node never became leader");
}

/** Writes the ballast, 16 requests at a time, each with its own session. */
async function ballast(port: number, keys: number, bytes: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const value = "b".repeat(bytes);
  let next = 0;
  const one = async (lane: number) => {
    for (let seq = 1; ; seq++) {
      const i = next++;
      if (i >= keys) return;
      const res = await httpCall(
        "127.0.0.1",
        port,
        "PUT",
        `/kv/ballast-${i}`,
        { value },
        {
          agent,
          timeoutMs: 30_000,
          headers: { "x-client-id": `ballast-${lane}`, "x-seq": String(seq) },
        },
      );
      if (res.status !== 200) throw new Error(`ballast write: HTTP ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, (_, lane) => one(lane)));
  agent.destroy();
}

/** Counts gaps of a 5 ms timer that ran 20 ms or more late: event-loop stalls. */
function stallCounter(): { stop: () => number[] } {
  const stalls: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - 5;
    if (late >= 20) stalls.push(late);
    last = now;
  }, 5);
  return {
    stop: () => {
      clearInterval(timer);
      return stalls;
    },
  };
}

/** What encoding one snapshot record of this state costs (both versions do it per snapshot). */
function snapshotEncodeMs(keys: number, bytes: number): { ms: number; mb: number } {
  const kv = Array.from({ length: keys }, (_, i) => [`ballast-${i}`, "b".repeat(bytes)]);
  const t = performance.now();
  const body = Buffer.from(JSON.stringify({ type: "snapshot", snapshot: { index: 1, kv } }));
  crc32(body);
  return { ms: performance.now() - t, mb: body.length / 1e6 };
}

function summary(xs: number[]): string {
  if (xs.length === 0) return "none";
  const sorted = [...xs].sort((a, b) => a - b);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const at = (p: number) => percentile(sorted, p).toFixed(1);
  return `n ${xs.length}  mean ${mean.toFixed(1)}  p50 ${at(50)}  p99 ${at(99)}  max ${sorted.at(-1)!.toFixed(1)}`;
}

async function main(): Promise<void> {
  const probes = installProbes();
  const dataDir = await mkdtemp(join(tmpdir(), "bench-compaction-"));
  const server = await NodeServer.start({
    config: {
      id: "n1",
      peers: [],
      host: "127.0.0.1",
      peerPort: 0,
      httpPort: 0,
      dataDir,
      tickMs: 20,
      requestTimeoutMs: 10_000,
      logLevel: "warn",
    },
    logger: createLogger({ node: "n1", level: "warn" }),
    timing: { snapshotEvery: num("snapshot-every") },
    compactEverySnapshots: num("compact-every"),
  });
  try {
    await waitForLeader(server);
    const t0 = performance.now();
    await ballast(server.httpPort, num("ballast-keys"), num("ballast-bytes"));
    console.log(
      `ballast: ${num("ballast-keys")} keys x ${num("ballast-bytes")} B in ${Math.round(performance.now() - t0)} ms`,
    );
    const encode = snapshotEncodeMs(num("ballast-keys"), num("ballast-bytes"));
    console.log(
      `one snapshot record: ~${encode.mb.toFixed(1)} MB, encoded in ${encode.ms.toFixed(0)} ms`,
    );
    const target = { host: "127.0.0.1", port: server.httpPort };
    const load = (seconds: number, label: string) =>
      runLoad({
        kind: "write",
        clients: num("clients"),
        seconds,
        targets: [target],
        send,
        keys: 1000,
        timeoutMs: 10_000,
        label,
      });
    await load(num("warmup"), "warmup");
    const before = server.status().log;
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const stalls = stallCounter();
    probes.on = true;
    const result = await load(num("seconds"), "measured");
    probes.on = false;
    const gaps = stalls.stop();
    delay.disable();
    const after = server.status().log;
    const sorted = result.latencies.sort((a, b) => a - b);
    const ms = (ns: number) => (ns / 1e6).toFixed(1);
    const counters = after as unknown as Record<string, number>;
    const was = before as unknown as Record<string, number>;
    const diff = (k: string) => (counters[k] ?? 0) - (was[k] ?? 0);
    console.log(
      [
        `writes: ${result.ops} in ${result.seconds.toFixed(1)} s (${(result.ops / result.seconds).toFixed(0)}/s), errors ${result.errors}`,
        `request latency ms: p50 ${percentile(sorted, 50).toFixed(1)}  p99 ${percentile(sorted, 99).toFixed(1)}  p99.9 ${percentile(sorted, 99.9).toFixed(1)}  max ${sorted.at(-1)?.toFixed(1)}`,
        `event-loop delay ms: p50 ${ms(delay.percentile(50))}  p99 ${ms(delay.percentile(99))}  max ${ms(delay.max)} (the longest block)`,
        `stalls >= 20 ms: ${gaps.length} (>= 50 ms: ${gaps.filter((g) => g >= 50).length}; longest ${Math.max(0, ...gaps).toFixed(0)} ms)`,
        `append latency ms: ${summary(probes.appendMs)}`,
        `persist() held the event loop, ms: compacting: ${summary(probes.persistMs.compacting)}`,
        `  with a snapshot, not compacting: ${summary(probes.persistMs.snapshot)}`,
        `  neither: ${summary(probes.persistMs.other)}`,
        `log during the run: compactions ${diff("rewrites")}, fsyncs ${diff("fsyncs")}, MB written ${(diff("bytes") / 1e6).toFixed(0)}`,
        `log at the end: ${JSON.stringify(after)}`,
      ].join("\n"),
    );
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
