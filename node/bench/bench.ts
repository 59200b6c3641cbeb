// `npm run bench:node [-- --seconds 10 --warmup 2 --clients 16,64 --target all|leader --tsx]`
//   [--phases write,read] [--args="--tick-ms 10"] [--node-args="--cpu-prof --cpu-prof-dir=DIR"]
//
// A 3-node cluster of real processes on loopback (the compiled dist/node/main.js when present,
// else tsx on node/main.ts); closed-loop clients with HTTP keep-alive agents, one request at a
// time each, random keys among 1000. Per phase (writes, then reads, at each client count): a
// warm-up, then a measured run; prints ops/s, latency p50/p99, and fsyncs per write from /status.

import { existsSync } from "node:fs";
import { Agent } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { httpCall, ProcCluster, ROOT, type Status } from "../test/procs.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    clients: { type: "string", default: "16,64" },
    target: { type: "string", default: "all" },
    tsx: { type: "boolean", default: false },
    phases: { type: "string", default: "write,read" },
    args: { type: "string", default: "" },
    "node-args": { type: "string", default: "" },
  },
});
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const CLIENTS = values.clients.split(",").map(Number);
const KEYS = 1000;

interface PhaseResult {
  ops: number;
  errors: number;
  latencies: number[];
  seconds: number;
}

async function runPhase(
  cluster: ProcCluster,
  kind: "write" | "read",
  clients: number,
  seconds: number,
  targets: string[],
): Promise<PhaseResult> {
  const deadline = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const node = cluster.node(targets[i % targets.length]!);
      const session = `bench-${kind}-${clients}-${i}-${process.pid}-${Math.random()}`;
      let seq = 0;
      while (performance.now() < deadline) {
        const key = `/kv/k${Math.floor(Math.random() * KEYS)}`;
        const t0 = performance.now();
        seq++;
        try {
          const res = await httpCall(
            node.host,
            node.httpPort,
            kind === "write" ? "PUT" : "GET",
            key,
            kind === "write" ? { value: seq } : undefined,
            { agent, timeoutMs: 5000, headers: { "x-client-id": session, "x-seq": String(seq) } },
          );
          if (res.status === 200 || res.status === 404) latencies.push(performance.now() - t0);
          else errors++;
        } catch {
          errors++;
        }
      }
      agent.destroy();
    }),
  );
  return {
    ops: latencies.length,
    errors,
    latencies,
    seconds: (performance.now() - started) / 1000,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function statuses(cluster: ProcCluster): Promise<Status[]> {
  const all = await Promise.all(cluster.nodes.map((n) => cluster.status(n.id, 5000)));
  return all.filter((s): s is Status => s !== undefined);
}

async function main(): Promise<void> {
  const compiled = !values.tsx && existsSync(join(ROOT, "dist/node/main.js"));
  const extra = values.args === "" ? [] : values.args.split(" ");
  const nodeArgs = values["node-args"] === "" ? [] : values["node-args"].split(" ");
  const cluster = await ProcCluster.create({ nodes: 3, compiled, args: extra, nodeArgs });
  const cleanup = () => cluster.destroy();
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
  try {
    cluster.startAll();
    const leader = await cluster.waitForLeader(30_000);
    const targets = values.target === "leader" ? [leader] : cluster.nodes.map((n) => n.id);
    console.log(
      `3 nodes (${compiled ? "dist/node/main.js" : "tsx node/main.ts"}${extra.length ? ` ${extra.join(" ")}` : ""}), leader ${leader}, clients on ${values.target === "leader" ? "the leader" : "every node"}; ${WARMUP} s warm-up + ${SECONDS} s per phase`,
    );
    console.log(
      "phase          clients     ops/s   p50 ms   p99 ms  errors  fsyncs/write (leader, all)",
    );
    for (const clients of CLIENTS) {
      for (const kind of values.phases.split(",") as ("write" | "read")[]) {
        if (WARMUP > 0) await runPhase(cluster, kind, clients, WARMUP, targets);
        const before = await statuses(cluster);
        const r = await runPhase(cluster, kind, clients, SECONDS, targets);
        const after = await statuses(cluster);
        const sorted = r.latencies.sort((a, b) => a - b);
        let fsyncs = "";
        if (kind === "write" && r.ops > 0) {
          const delta = (id: string) =>
            (after.find((s) => s.id === id)?.log.fsyncs ?? 0) -
            (before.find((s) => s.id === id)?.log.fsyncs ?? 0);
          const total = cluster.nodes.reduce((sum, n) => sum + delta(n.id), 0);
          fsyncs = `${(delta(leader) / r.ops).toFixed(3)}, ${(total / r.ops).toFixed(3)}`;
        }
        console.log(
          `${kind.padEnd(14)} ${String(clients).padStart(7)} ${(r.ops / r.seconds).toFixed(0).padStart(9)} ${percentile(sorted, 50).toFixed(2).padStart(8)} ${percentile(sorted, 99).toFixed(2).padStart(8)} ${String(r.errors).padStart(7)}  ${fsyncs}`,
        );
      }
    }
    const final = await statuses(cluster);
    const ls = final.find((s) => s.id === leader);
    if (ls) {
      console.log(
        `leader ${leader}: commitIndex ${ls.commitIndex}, snapshotIndex ${ls.snapshotIndex}, log ${JSON.stringify(ls.log)}, batches ${String(ls.batches)}`,
      );
    }
    // A clean stop (SIGTERM) lets NODE_OPTIONS=--cpu-prof write the nodes' profiles.
    await Promise.all(cluster.nodes.map((n) => cluster.kill(n.id, "SIGTERM")));
  } finally {
    await cleanup();
  }
}

await main();
