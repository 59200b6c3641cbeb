// `<run>/report.html`: one self-contained page a person understands in a minute. The run
// folder's files are read back (run-files.ts), turned into what the plots and tables draw
// (series.ts, faults.ts; for an invalid run, violation.ts), and embedded as JSON blocks in a
// page whose script, styles and plotting library are inlined (assets.ts). No network: the page
// loads nothing. An invalid run also gets `visualization.html` beside it (the checker's page of
// the failing keys), which the report shows in a frame when it is small enough.

import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { htmlHead, jsonBlock } from "../../contracts/html.js";
import { pageAssets } from "./assets.js";
import { faultPeriods } from "./faults.js";
import { type ClientOps, readRun } from "./run-files.js";
import { latencyPlots, perNode, throughput, timelineData } from "./series.js";
import { explainViolation } from "./violation.js";

export const REPORT_FILE = "report.html";
export const VISUALIZATION_FILE = "visualization.html";

/** Builds `<runDir>/report.html` from the run's files; returns its path. */
export async function writeReport(runDir: string): Promise<string> {
  const run = readRun(runDir);
  const { results } = run;
  const historyFile = path.join(runDir, "history.jsonl");
  const explained =
    results.valid === false
      ? explainViolation(
          results,
          readFileSync(historyFile, "utf8"),
          historyFile,
          nodeLookup(run.ops),
        )
      : undefined;
  if (explained?.visualization !== undefined) {
    writeFileSync(path.join(runDir, VISUALIZATION_FILE), explained.visualization);
  }
  const blocks = [
    jsonBlock("report-run", {
      folder: path.basename(runDir),
      test: path.basename(path.dirname(runDir)),
      results,
      config: run.config,
      faults: faultPeriods(run.nemesis, run.end),
      schedule: run.schedule,
      operations: run.ops.count,
      nemesisEvents: run.nemesis.length,
      end: run.end / 1e9,
    }),
    jsonBlock("report-latency", latencyPlots(run.ops)),
    jsonBlock("report-throughput", throughput(run.ops)),
    jsonBlock("report-nodes", perNode(run.ops)),
    jsonBlock("report-timeline", timelineData(run.ops)),
  ];
  if (explained) {
    blocks.push(
      jsonBlock("report-violation", {
        ...explained.violation,
        visualizationFile: explained.visualization !== undefined ? VISUALIZATION_FILE : null,
      }),
    );
    if (explained.inline && explained.visualization !== undefined) {
      blocks.push(jsonBlock("report-visualization", explained.visualization));
    }
  }
  const assets = pageAssets();
  const title = `${results.name}: ${verdictWord(results)}`;
  const html = [
    ...htmlHead(title, [`<style>${assets.uplotCss}</style>`, `<style>${assets.css}</style>`]),
    "<body>",
    '<main id="report"><noscript>This report draws its plots with JavaScript.</noscript></main>',
    '<div id="tip" role="tooltip" hidden></div>',
    ...blocks,
    `<script>${assets.uplotJs}</script>`,
    ...assets.scripts.map((js) => `<script>${js}</script>`),
    "</body>",
    "</html>",
    "",
  ].join("\n");
  const file = path.join(runDir, REPORT_FILE);
  writeFileSync(file, html);
  return file;
}

function verdictWord(r: { valid: boolean | "unknown"; error?: string; no_faults?: string }) {
  if (r.error !== undefined) return "ERROR";
  if (r.no_faults !== undefined) return "NO FAULT";
  return r.valid === true ? "VALID" : r.valid === false ? "INVALID" : "UNKNOWN";
}

/** The node an operation went to, found by its process and invoke time (the witness's ops). */
function nodeLookup(ops: ClientOps): (process: number, callNs: number) => string | null {
  let index: Map<string, number> | undefined;
  return (process, callNs) => {
    if (!index) {
      index = new Map();
      for (let i = 0; i < ops.count; i++) {
        index.set(`${ops.process[i]}:${ops.call[i]}`, ops.node[i] as number);
      }
    }
    return ops.nodes[index.get(`${process}:${callNs}`) ?? -1] ?? null;
  };
}
