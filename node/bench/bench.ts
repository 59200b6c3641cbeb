// `npm run bench:node [-- --seconds 10 --warmup 2 --clients 16,64 --target all|leader --tsx]`
//   [--phases write,read] [--args="--tick-ms 10"] [--node-args="--cpu-prof --cpu-prof-dir=DIR"]
//   [--skip-etcd]
//
// A 3-node cluster of ours as real processes on loopback (the compiled dist/node/main.js when
// present, else tsx on node/main.ts) and, when /usr/bin/etcd exists, etcd's 3-member cluster
// beside it (etcd-cluster.ts), both driven by the same load client (load.ts): closed-loop
// clients with HTTP keep-alive agents, one request at a time each, random keys among 1000.
// Per row (writes, then reads, at each client count) each system in turn gets a warm-up, then a
// measured run; prints ops/s, latency p50/p99 and errors per system (fsyncs per write from
// ours' /status), then one table of both with the ratios, and the load average at start and end.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { httpCall, ProcCluster, ROOT, type Status } from "../test/procs.js";
import { EtcdCluster, etcdMissing } from "./etcd-cluster.js";
import {
  describeErrors,
  type LoadKind,
  type LoadResult,
  type LoadTarget,
  percentile,
  runLoad,
  type Send,
} from "./load.js";
import { sendOurs } from "./ours.js";

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
    "skip-etcd": { type: "boolean", default: false },
  },
});
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const CLIENTS = values.clients.split(",").map(Number);
const PHASES = values.phases.split(",") as LoadKind[];
const KEYS = 1000;
const TIMEOUT_MS = 5000;

const sendPerClient = sendOurs("per-client");

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** etcd's v3 JSON gateway: put, and range of one key (linearizable: etcd's default). */
const sendEtcd: Send = async (r) => {
  const res =
    r.kind === "write"
      ? await httpCall(
          r.target.host,
          r.target.port,
          "POST",
          "/v3/kv/put",
          { key: b64(r.key), value: b64(String(r.seq)) },
          { agent: r.agent, timeoutMs: r.timeoutMs },
        )
      : await httpCall(
          r.target.host,
          r.target.port,
          "POST",
          "/v3/kv/range",
          { key: b64(r.key) },
          { agent: r.agent, timeoutMs: r.timeoutMs },
        );
  return res.status >= 200 && res.status < 300 ? true : `HTTP ${res.status}`;
};

interface Measured {
  result: LoadResult;
  sorted: number[];
  opsPerSecond: number;
}

function measured(result: LoadResult): Measured {
  const sorted = result.latencies.sort((a, b) => a - b);
  return { result, sorted, opsPerSecond: result.ops / result.seconds };
}

function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown (no /proc/loadavg)";
  }
}

async function statuses(cluster: ProcCluster): Promise<Status[]> {
  const all = await Promise.all(cluster.nodes.map((n) => cluster.status(n.id, 5000)));
  return all.filter((s): s is Status => s !== undefined);
}

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : "-");

async function main(): Promise<void> {
  const loadStart = loadAverage();
  const compiled = !values.tsx && existsSync(join(ROOT, "dist/node/main.js"));
  const extra = values.args === "" ? [] : values.args.split(" ");
  const nodeArgs = values["node-args"] === "" ? [] : values["node-args"].split(" ");
  const missing = values["skip-etcd"] ? "--skip-etcd" : etcdMissing();
  const cluster = await ProcCluster.create({ nodes: 3, compiled, args: extra, nodeArgs });
  let etcd: EtcdCluster | undefined;
  let cleaned: Promise<void> | undefined;
  // Once only: Ctrl-C during the finally's cleanup must not stop the processes twice.
  const cleanup = () => {
    cleaned ??= Promise.all([cluster.destroy(), etcd?.stop()]).then(() => undefined);
    return cleaned;
  };
  // On Ctrl-C the load goes on failing until the processes are gone: print no more rows.
  let interrupted = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.log(`${signal}: stopping both clusters`);
      void cleanup().then(() => process.exit(130));
    });
  }
  try {
    cluster.startAll();
    if (missing === undefined) etcd = await EtcdCluster.start();
    const leader = await cluster.waitForLeader(30_000);
    const etcdLeader = etcd ? await etcd.waitReady(30_000) : undefined;
    const onLeader = values.target === "leader";
    const oursTargets: LoadTarget[] = (onLeader ? [leader] : cluster.nodes.map((n) => n.id)).map(
      (id) => ({ host: cluster.node(id).host, port: cluster.node(id).httpPort }),
    );
    const etcdTargets: LoadTarget[] = etcd
      ? (onLeader && etcdLeader ? [etcd.member(etcdLeader)] : etcd.members).map((m) => ({
          host: m.host,
          port: m.clientPort,
        }))
      : [];
    console.log(`load average at start: ${loadStart}`);
    console.log(
      `ours: 3 nodes (${compiled ? "dist/node/main.js" : "tsx node/main.ts"}${extra.length ? ` ${extra.join(" ")}` : ""}), leader ${leader}`,
    );
    console.log(
      etcd
        ? `etcd: 3 members (/usr/bin/etcd, default timings) on 127.0.0.1, leader ${etcdLeader}`
        : `etcd: left out (${missing})`,
    );
    console.log(
      `clients on ${onLeader ? "the leader" : "every node"}; ${WARMUP} s warm-up + ${SECONDS} s per phase and system`,
    );
    console.log(
      "system phase       clients     ops/s   p50 ms   p99 ms  errors  fsyncs/write (leader, all)",
    );
    const rows: { load: string; ours: Measured; etcd?: Measured }[] = [];
    const print = (system: string, kind: LoadKind, clients: number, m: Measured, fs: string) => {
      if (interrupted) return;
      const errors = describeErrors(m.result.errorKinds);
      console.log(
        `${system.padEnd(6)} ${kind.padEnd(11)} ${String(clients).padStart(7)} ${m.opsPerSecond.toFixed(0).padStart(9)} ${fixed(percentile(m.sorted, 50), 2).padStart(8)} ${fixed(percentile(m.sorted, 99), 2).padStart(8)} ${String(m.result.errors).padStart(7)}  ${fs}${errors ? ` (${errors})` : ""}`,
      );
    };
    for (const clients of CLIENTS) {
      for (const kind of PHASES) {
        const load = { kind, clients, seconds: SECONDS, keys: KEYS, timeoutMs: TIMEOUT_MS };
        let etcdRow: Measured | undefined;
        if (etcd) {
          const run = { ...load, targets: etcdTargets, send: sendEtcd, label: "etcd" };
          if (WARMUP > 0) await runLoad({ ...run, seconds: WARMUP });
          etcdRow = measured(await runLoad(run));
          print("etcd", kind, clients, etcdRow, "");
        }
        const run = { ...load, targets: oursTargets, send: sendPerClient, label: "bench" };
        if (WARMUP > 0) await runLoad({ ...run, seconds: WARMUP });
        const before = await statuses(cluster);
        const oursRow = measured(await runLoad(run));
        const after = await statuses(cluster);
        let fsyncs = "";
        if (kind === "write" && oursRow.result.ops > 0) {
          const delta = (id: string) =>
            (after.find((s) => s.id === id)?.log.fsyncs ?? 0) -
            (before.find((s) => s.id === id)?.log.fsyncs ?? 0);
          const total = cluster.nodes.reduce((sum, n) => sum + delta(n.id), 0);
          fsyncs = `${(delta(leader) / oursRow.result.ops).toFixed(3)}, ${(total / oursRow.result.ops).toFixed(3)}`;
        }
        print("ours", kind, clients, oursRow, fsyncs);
        rows.push({ load: `${kind}, ${clients} clients`, ours: oursRow, etcd: etcdRow });
      }
    }
    const final = await statuses(cluster);
    const ls = final.find((s) => s.id === leader);
    if (ls) {
      console.log(
        `ours' leader ${leader}: commitIndex ${ls.commitIndex}, snapshotIndex ${ls.snapshotIndex}, log ${JSON.stringify(ls.log)}, batches ${String(ls.batches)}`,
      );
    }
    const loadEnd = loadAverage();
    console.log("");
    console.log(
      "| load | etcd ops/s | ours ops/s | ratio (ours/etcd) | etcd p99 ms | ours p99 ms | errors (etcd, ours) |",
    );
    console.log("| --- | --: | --: | --: | --: | --: | --: |");
    for (const r of rows) {
      const e = r.etcd;
      const ratio =
        e && e.opsPerSecond > 0 ? (r.ours.opsPerSecond / e.opsPerSecond).toFixed(2) : "-";
      console.log(
        `| ${r.load} | ${e ? e.opsPerSecond.toFixed(0) : "-"} | ${r.ours.opsPerSecond.toFixed(0)} | ${ratio} | ${e ? fixed(percentile(e.sorted, 99), 2) : "-"} | ${fixed(percentile(r.ours.sorted, 99), 2)} | ${e ? e.result.errors : "-"}, ${r.ours.result.errors} |`,
      );
    }
    console.log("");
    console.log(
      `load average (/proc/loadavg 1, 5, 15 min): ${loadStart} at start, ${loadEnd} at end`,
    );
    if (etcd) {
      const warnings = etcd.warnings();
      console.log(
        warnings.size === 0
          ? "etcd logged no warnings"
          : `etcd logged: ${[...warnings].map(([msg, n]) => `${msg} x${n}`).join("; ")}`,
      );
    }
    // A clean stop (SIGTERM) lets NODE_OPTIONS=--cpu-prof write the nodes' profiles.
    await Promise.all(cluster.nodes.map((n) => cluster.kill(n.id, "SIGTERM")));
  } finally {
    await cleanup();
  }
}

await main();
