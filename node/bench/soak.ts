// `npm run bench:soak [-- --minutes 10 --clients 64 --every 30]`
//
// Bounded memory, measured: a 3-node cluster of ours (dist/node/main.js when built, else tsx) on
// loopback under a closed-loop load of anonymous requests (no x-client-id: every request makes a
// session of its own, the worst case for the sessions' bounds), half the clients writing and half
// reading, random keys among 1000, for `--minutes`. Each node's resident memory (VmRSS from
// /proc/<pid>/status) is read every second; every `--every` seconds a line gives the latest and
// the load's ops/s and errors since the line before. At the end, per node, the median and the
// highest RSS of the minute ending at 1, 5 and 10 minutes (a collector's heap breathes by tens of
// MB, so one reading says little), and the change of the median from the first minute to the
// last. Prints figures; asserts nothing.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ProcCluster, ROOT } from "../test/procs.js";
import { describeErrors, type LoadTarget, runLoad } from "./load.js";
import { sendOurs } from "./ours.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    clients: { type: "string", default: "64" },
    every: { type: "string", default: "30" },
  },
});
const MINUTES = Number(values.minutes);
const CLIENTS = Number(values.clients);
const EVERY_S = Number(values.every);
if (!(MINUTES > 0) || !(CLIENTS >= 2) || !(EVERY_S > 0)) {
  console.error("bench:soak: --minutes > 0, --clients >= 2 and --every > 0 (seconds)");
  process.exit(3);
}

const sendAnonymous = sendOurs("anonymous");

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN; // the process is gone
  }
}

interface Sample {
  atS: number;
  rss: number[];
}

async function main(): Promise<void> {
  const compiled = existsSync(join(ROOT, "dist/node/main.js"));
  const cluster = await ProcCluster.create({ nodes: 3, compiled });
  let cleaned: Promise<void> | undefined;
  const cleanup = () => {
    cleaned ??= cluster.destroy();
    return cleaned;
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.log(`${signal}: stopping the cluster`);
      void cleanup().then(() => process.exit(130));
    });
  }
  let sampler: NodeJS.Timeout | undefined;
  try {
    cluster.startAll();
    const leader = await cluster.waitForLeader(30_000);
    const targets: LoadTarget[] = cluster.nodes.map((n) => ({ host: n.host, port: n.httpPort }));
    const ids = cluster.nodes.map((n) => n.id);
    console.log(
      `ours: 3 nodes (${compiled ? "dist/node/main.js" : "tsx node/main.ts"}), leader ${leader}; ` +
        `${CLIENTS} anonymous clients (${CLIENTS / 2} writing, ${CLIENTS / 2} reading) for ${MINUTES} min`,
    );
    console.log(
      `time     ${ids.map((id) => `${id} RSS MB`.padStart(11)).join(" ")}      ops/s  errors`,
    );
    const samples: Sample[] = [];
    const started = performance.now();
    sampler = setInterval(() => {
      samples.push({
        atS: (performance.now() - started) / 1000,
        rss: cluster.nodes.map((n) => rssMb(n.proc?.pid)),
      });
    }, 1000);
    const totalS = MINUTES * 60;
    let doneS = 0;
    while (doneS < totalS) {
      const seconds = Math.min(EVERY_S, totalS - doneS);
      const load = { clients: CLIENTS / 2, seconds, targets, send: sendAnonymous, keys: 1000 };
      const [w, r] = await Promise.all([
        runLoad({ ...load, kind: "write", timeoutMs: 5000, label: "soak" }),
        runLoad({ ...load, kind: "read", timeoutMs: 5000, label: "soak" }),
      ]);
      doneS += seconds;
      const atS = (performance.now() - started) / 1000;
      const rss = cluster.nodes.map((n) => rssMb(n.proc?.pid));
      const kinds = new Map([...w.errorKinds, ...r.errorKinds]);
      const ops = (w.ops + r.ops) / Math.max(w.seconds, r.seconds);
      console.log(
        `${clock(atS).padEnd(8)} ${rss.map((x) => x.toFixed(1).padStart(11)).join(" ")} ${ops.toFixed(0).padStart(10)} ${String(w.errors + r.errors).padStart(7)}${kinds.size ? ` (${describeErrors(kinds)})` : ""}`,
      );
    }
    clearInterval(sampler);
    const marks = [1, 5, 10].filter((m) => m <= MINUTES);
    console.log("");
    console.log(
      `| node | ${marks.map((m) => `RSS in minute ${m}, median / max (MB)`).join(" | ")} | median, first minute to last |`,
    );
    console.log(`| --- | ${marks.map(() => "--:").join(" | ")} | --: |`);
    const lastMinute = Math.ceil(totalS / 60);
    for (const [i, id] of ids.entries()) {
      const minute = (m: number) =>
        samples
          .filter((s) => s.atS > (m - 1) * 60 && s.atS <= m * 60)
          .map((s) => s.rss[i] ?? Number.NaN)
          .filter((x) => Number.isFinite(x))
          .sort((a, b) => a - b);
      const median = (xs: number[]) => xs[Math.floor(xs.length / 2)] ?? Number.NaN;
      const first = median(minute(1));
      const last = median(minute(lastMinute));
      const cells = marks.map((m) => {
        const xs = minute(m);
        return `${median(xs).toFixed(1)} / ${(xs[xs.length - 1] ?? Number.NaN).toFixed(1)}`;
      });
      console.log(
        `| ${id} | ${cells.join(" | ")} | ${(last - first).toFixed(1)} MB (${(((last - first) / first) * 100).toFixed(1)}%) |`,
      );
    }
    for (const id of ids) {
      const s = await cluster.status(id, 5000);
      console.log(
        `${id}: ${s ? `commitIndex ${s.commitIndex}, snapshotIndex ${s.snapshotIndex}` : "no /status"}`,
      );
    }
  } finally {
    clearInterval(sampler);
    await cleanup();
  }
}

function clock(s: number): string {
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.round(s % 60)).padStart(2, "0")}`;
}

await main();
