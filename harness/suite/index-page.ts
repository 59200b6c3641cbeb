// index.html of a suite: the night at a glance. A row per run, failures first (invalid, error,
// unknown, not run, then valid), each with its verdict, backend, workload, the faults verified
// of those started per kind, ops, ok/s (and the floor it had to reach), and a link to its
// report.html (relative: the store can be moved or served). Server-side HTML from summary.json,
// every value escaped; the styles and the small filter script are real files (page/), inlined
// as the run report's are (report/assets.ts). Nothing is loaded from the network.

import { escapeHtml, htmlHead } from "../../contracts/html.js";
import { inlineAsset } from "../report/assets.js";
import type { RunEntry, SuiteSummary } from "./summary.js";
import { failuresFirst } from "./summary.js";
import { minutes } from "./table.js";
import { type RunVerdict, VERDICT_ORDER, verdictOfCode, verdictWord } from "./verdict.js";

/** What our pages share (the report's page folder holds it), then the index's own styles. */
const BASE_CSS = "harness/report/page/base.css";
const CSS = "harness/suite/page/index.css";
const SCRIPT = "harness/suite/page/index.js";

export function indexHtml(summary: SuiteSummary): string {
  const overall = verdictOfCode(summary.code);
  const counts = VERDICT_ORDER.filter((v) => summary.counts[v] > 0);
  const title = `${summary.name}: ${counts.map((v) => `${summary.counts[v]} ${v}`).join(", ")}`;
  const rows = failuresFirst(summary.runs).map(row);
  return [
    ...htmlHead(title, [
      `<style>${inlineAsset(BASE_CSS, "style")}</style>`,
      `<style>${inlineAsset(CSS, "style")}</style>`,
    ]),
    "<body>",
    "<main>",
    "<header>",
    `<h1>suite ${escapeHtml(summary.name)} ${badge(overall, verdictWord(overall))}</h1>`,
    `<p class="meta">${escapeHtml(summary.suite)} &middot; started ${escapeHtml(summary.started)} &middot; ${escapeHtml(minutes(summary.duration_s))} &middot; exit ${summary.code}${summary.interrupted ? " &middot; interrupted (Ctrl-C)" : ""} &middot; floor ${Math.round(summary.floor * 100)}% of the asked rate before the first fault</p>`,
    '<p class="meta"><a href="summary.json">summary.json</a> &middot; <a href="junit.xml">junit.xml</a> &middot; <a href="suite.yaml">suite.yaml</a></p>',
    `<div class="counts" role="group" aria-label="show runs by verdict">${counts
      .map(
        (v) =>
          `<button type="button" class="badge ${cls(v)}" data-verdict="${v}" aria-pressed="true">${summary.counts[v]} ${escapeHtml(v)}</button>`,
      )
      .join("")}</div>`,
    "</header>",
    '<table id="runs">',
    "<thead><tr><th>#</th><th>verdict</th><th>run</th><th>backend</th><th>runtime</th><th>workload</th><th>faults verified</th><th>ops</th><th>ok/s</th><th>time</th><th>report</th></tr></thead>",
    "<tbody>",
    ...rows,
    "</tbody>",
    "</table>",
    "</main>",
    `<script>${inlineAsset(SCRIPT, "script")}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

function row(r: RunEntry): string {
  const failed = r.verdict !== "valid";
  const why = r.why ? `<div class="why">${escapeHtml(r.why)}</div>` : "";
  const floor =
    r.floor === null
      ? ""
      : ` title="${escapeHtml(`${r.floor.ok_per_s} ok/s ${r.floor.over} (${r.floor.seconds} s); floor ${r.floor.needed}/s`)}"`;
  const okPerS = r.ok_per_s === null ? "" : String(r.ok_per_s);
  const under = r.floor !== null && !r.floor.ok;
  const cells = [
    `<td class="num">${r.index}</td>`,
    `<td>${badge(r.verdict, verdictWord(r.verdict))}</td>`,
    `<td>${escapeHtml(r.name)}${why}</td>`,
    `<td>${escapeHtml(r.backend)}</td>`,
    `<td>${escapeHtml(r.runtime)}</td>`,
    `<td>${escapeHtml(r.workload)}</td>`,
    `<td>${faults(r)}</td>`,
    `<td class="num">${r.ops === null ? "" : r.ops.invoke.toLocaleString("en-US")}</td>`,
    `<td class="num${under ? " under-floor" : ""}"${floor}>${escapeHtml(okPerS)}</td>`,
    `<td class="num">${r.seconds === null ? "" : `${r.seconds.toFixed(1)} s`}</td>`,
    `<td>${r.report ? `<a href="${escapeHtml(encodePath(r.report))}">report.html</a>` : ""}</td>`,
  ];
  return `<tr data-verdict="${r.verdict}"${failed ? ' class="failed"' : ""}>${cells.join("")}</tr>`;
}

/** `partition 3/3, kill 2/2`: verified of started per kind; a kind short of verified stands out. */
function faults(r: RunEntry): string {
  const kinds = Object.entries(r.faults);
  if (kinds.length === 0) return r.nemesis.length === 0 && r.ops !== null ? "none" : "";
  return kinds
    .map(([kind, c]) => {
      const text = escapeHtml(`${kind} ${c.verified}/${c.started}`);
      return c.started === 0 || c.verified < c.started
        ? `<span class="unverified">${text}</span>`
        : text;
    })
    .join(", ");
}

function badge(v: RunVerdict, text: string): string {
  return `<span class="badge ${cls(v)}">${escapeHtml(text)}</span>`;
}

function cls(v: RunVerdict): string {
  return `v-${v.replace(" ", "-")}`;
}

/** A relative path as a URL: each part percent-encoded, the slashes kept. */
function encodePath(p: string): string {
  return p.split("/").map(encodeURIComponent).join("/");
}
