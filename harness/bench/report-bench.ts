// npm run bench:report: the report of a big run. A run folder is made from the checker's
// generated history (checker/bench/generate.ts: a legal kv history, 1% info), its times
// stretched to a plausible run (OPS operations over SECONDS seconds, 20 clients, 5 nodes) with a
// partition every 10 s for 5 s in its nemesis events; results.json holds the history's counts
// (the check itself is bench:checker's business). Then: the time writeReport takes, the
// report's size, and the time headless Chromium takes to open it (navigation until the page's
// script has drawn everything: body[data-ready]) and to move the timeline's window.
//
//   BENCH_OPS=1000000 BENCH_SECONDS=1000 npm run bench:report   (the defaults)

import { once } from "node:events";
import {
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { writeHistory } from "../../checker/bench/generate.js";
import { writeReport } from "../report/report.js";
import { percentiles } from "../results.js";

const OPS = Number(process.env.BENCH_OPS ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1000);
const CHROMIUM = process.env.PAXOS_CHROMIUM ?? "/usr/bin/chromium";
const CLIENTS = 20;
const NODES = 5;

const dir = mkdtempSync(path.join(tmpdir(), "bench-report-"));
try {
  const t0 = performance.now();
  const raw = path.join(dir, "generated.jsonl");
  await writeHistory(raw, { ops: OPS, keys: 1000, clients: CLIENTS, info: 0.01, seed: 42 });
  const counts = await stretch(raw, path.join(dir, "history.jsonl"));
  rmSync(raw);
  await writeFile(path.join(dir, "results.json"), JSON.stringify(resultsOf(counts), null, 2));
  await writeFile(
    path.join(dir, "config.yaml"),
    `name: bench\nbackend: memory\nnodes: ${NODES}\nworkload: kv\nkeys: 1000\nnemesis:\n  - partition\n`,
  );
  const historyMb = statSync(path.join(dir, "history.jsonl")).size / 1e6;
  console.log(
    `run folder: ${OPS.toLocaleString("en-US")} operations over ${SECONDS} s, history.jsonl ${historyMb.toFixed(1)} MB (made in ${seconds(t0)})`,
  );

  const t1 = performance.now();
  const file = await writeReport(dir);
  const buildS = (performance.now() - t1) / 1000;
  const reportMb = statSync(file).size / 1e6;
  console.log(`report.html: ${reportMb.toFixed(1)} MB, built in ${buildS.toFixed(2)} s`);

  if (!existsSync(CHROMIUM)) {
    console.log(`no browser at ${CHROMIUM}: the opening time is not measured`);
  } else {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      for (let i = 0; i < 3; i++) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(e.message));
        const began = performance.now();
        await page.goto(pathToFileURL(file).href, { timeout: 60_000 });
        await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });
        const openS = (performance.now() - began) / 1000;
        // The timeline: a window of 20 s in the middle (about 20,000 operations).
        const moved = (await page.evaluate(
          `(() => { const t = performance.now(); paxosReport.showWindow(${SECONDS / 2}, ${SECONDS / 2 + 20}); return performance.now() - t; })()`,
        )) as number;
        const drawn = await page.getAttribute(".timeline-canvas", "data-drawn");
        console.log(
          `open ${i + 1}: ${openS.toFixed(2)} s until drawn; timeline window of 20 s: ${drawn} operations drawn in ${moved.toFixed(0)} ms${errors.length ? `; page errors: ${errors.join("; ")}` : ""}`,
        );
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }
} finally {
  if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

interface Counts {
  invoke: number;
  ok: number;
  fail: number;
  info: number;
  latencies: number[];
  partitions: number;
}

/**
 * The generated history with its times scaled to SECONDS, each invoke given a node (client mod
 * NODES, as the harness's workers talk to node i mod n), and a partition's start and stop
 * events every 10 s, in time order.
 */
async function stretch(from: string, to: string): Promise<Counts> {
  const lines = readFileSync(from, "utf8").split("\n");
  let last = 0;
  for (let i = lines.length - 1; i >= 0 && last === 0; i--) {
    if (lines[i]) last = (JSON.parse(lines[i] as string) as { time: number }).time;
  }
  const scale = (SECONDS * 1e9) / Math.max(1, last);
  const out = createWriteStream(to);
  const counts: Counts = { invoke: 0, ok: 0, fail: 0, info: 0, latencies: [], partitions: 0 };
  const invoked = new Map<number, number>();
  let nextFault = 10e9;
  let faultOn = false;
  let buffer = "";
  const emit = async (line: string) => {
    buffer += `${line}\n`;
    if (buffer.length > 1 << 16) {
      if (!out.write(buffer)) await once(out, "drain");
      buffer = "";
    }
  };
  let index = 0;
  for (const line of lines) {
    if (!line) continue;
    const o = JSON.parse(line) as { time: number; process: number; type: string; node?: string };
    o.time = Math.round(o.time * scale);
    while (o.time >= nextFault) {
      const f = faultOn ? "stop-partition" : "start-partition";
      const value = faultOn
        ? { healed: true, verified: true }
        : {
            shape: "majority-minority",
            groups: [
              ["n1", "n2"],
              ["n3", "n4", "n5"],
            ],
            verified: true,
          };
      await emit(
        JSON.stringify({
          index: index++,
          time: nextFault,
          process: "nemesis",
          type: "info",
          f,
          value,
        }),
      );
      if (!faultOn) counts.partitions++;
      faultOn = !faultOn;
      nextFault += 5e9;
    }
    if (o.type === "invoke") {
      counts.invoke++;
      o.node = `n${((o.process % CLIENTS) % NODES) + 1}`;
      invoked.set(o.process, o.time);
    } else {
      if (o.type === "ok") counts.ok++;
      else if (o.type === "fail") counts.fail++;
      else counts.info++;
      const at = invoked.get(o.process);
      if (o.type === "ok" && at !== undefined) counts.latencies.push((o.time - at) / 1e6);
    }
    await emit(JSON.stringify({ ...o, index: index++ }));
  }
  out.end(buffer);
  await once(out, "finish");
  return counts;
}

function resultsOf(c: Counts) {
  return {
    valid: true,
    backend: "memory",
    runtime: "local",
    nodes: NODES,
    workload: "kv",
    nemesis: ["partition"],
    ops: { invoke: c.invoke, ok: c.ok, fail: c.fail, info: c.info, protocol_errors: 0 },
    throughput: { ok_per_s: Math.round((c.ok / SECONDS) * 10) / 10 },
    latency_ms: percentiles(c.latencies),
    checker: { result: "ok", model: "kv", partitions: 1000, duration_ms: 0 },
    name: "bench",
    seed: 42,
    interrupted: false,
    duration_s: SECONDS,
    nemesis_events: c.partitions * 2,
    faults: {
      partition: { started: c.partitions, verified: c.partitions, seconds: c.partitions * 5 },
    },
  };
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}
