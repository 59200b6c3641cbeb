// The store browser's pages, rendered on the server: the listing (suites, then runs, newest
// first, filtered by verdict and backend through the query string and a form) and a folder's
// files. Every value from the store is escaped; the styles are a real file (page/serve.css),
// served at /assets/serve.css. No script.

import { escapeHtml, htmlHead } from "../../contracts/html.js";
import { VERDICT_ORDER } from "../suite/verdict.js";
import { folderTime, type ListedVerdict, type RunRow, type StoreIndex } from "./store-index.js";

/** The listing's filters, from the query string; absent: all. */
export interface Filters {
  verdict?: ListedVerdict;
  backend?: string;
}

export const LISTED_VERDICTS: readonly ListedVerdict[] = [
  ...VERDICT_ORDER.filter((v): v is Exclude<typeof v, "not run"> => v !== "not run"),
  "none",
];

/** The filters a query string asks for; an unknown verdict is no filter. */
export function filtersOf(query: URLSearchParams): Filters {
  const filters: Filters = {};
  const verdict = query.get("verdict") ?? "";
  if ((LISTED_VERDICTS as readonly string[]).includes(verdict)) {
    filters.verdict = verdict as ListedVerdict;
  }
  const backend = query.get("backend") ?? "";
  if (backend !== "") filters.backend = backend;
  return filters;
}

export function listingHtml(index: StoreIndex, filters: Filters, title: string): string {
  const runs = index.runs.filter(
    (r) =>
      (filters.verdict === undefined || r.verdict === filters.verdict) &&
      (filters.backend === undefined || r.backend === filters.backend),
  );
  const suites = index.suites.filter(
    (s) =>
      (filters.verdict === undefined || s.verdict === filters.verdict) &&
      (filters.backend === undefined || s.backends.includes(filters.backend)),
  );
  const backends = [...new Set(index.runs.map((r) => r.backend).filter((b) => b !== ""))].sort();
  const suiteRows = suites.map(
    (s) =>
      `<tr><td>${escapeHtml(folderTime(s.folder))}</td><td>${escapeHtml(s.name)}</td><td>${badge(s.verdict)}</td><td>${escapeHtml(
        Object.entries(s.counts)
          .filter(([, n]) => (n ?? 0) > 0)
          .map(([v, n]) => `${n} ${v}`)
          .join(", "),
      )}</td><td class="num">${s.runs}</td><td class="num">${duration(s.seconds)}</td><td>${
        s.hasIndex ? link(`${s.rel}/index.html`, "index.html") : ""
      } ${link(`${s.rel}/`, "files")}</td></tr>`,
  );
  return page(title, [
    `<h1>${escapeHtml(title)}</h1>`,
    filterForm(filters, backends),
    "<h2>Suites</h2>",
    suites.length === 0
      ? '<p class="none">No suite.</p>'
      : table(
          ["started", "suite", "verdict", "runs by verdict", "runs", "time", ""],
          suiteRows,
          "suites",
        ),
    `<h2>Runs <span class="count">${runs.length === index.runs.length ? runs.length : `${runs.length} of ${index.runs.length}`}</span></h2>`,
    runs.length === 0
      ? '<p class="none">No run.</p>'
      : table(
          [
            "started",
            "test",
            "verdict",
            "backend",
            "runtime",
            "workload",
            "faults verified",
            "ops",
            "ok/s",
            "time",
            "files",
          ],
          runs.map(runRow),
          "runs",
        ),
  ]);
}

/** A folder of the store: its entries, folders first, each a link. */
export function folderHtml(
  rel: string,
  entries: { name: string; dir: boolean; size: number }[],
): string {
  const sorted = [...entries].sort(
    (a, b) => Number(b.dir) - Number(a.dir) || a.name.localeCompare(b.name),
  );
  const up = rel === "" ? "" : '<p><a href="../">..</a></p>';
  const rows = sorted.map(
    (e) =>
      `<tr><td><a href="${escapeHtml(encodeURIComponent(e.name))}${e.dir ? "/" : ""}">${escapeHtml(e.name)}${e.dir ? "/" : ""}</a></td><td class="num">${e.dir ? "" : e.size.toLocaleString("en-US")}</td></tr>`,
  );
  const title = `/${rel}`;
  return page(title, [
    '<p><a href="/">the store</a></p>',
    `<h1>${escapeHtml(title)}</h1>`,
    up,
    table(["name", "bytes"], rows, "files"),
  ]);
}

/** A small page for an error status: what was refused and why. */
export function errorHtml(status: number, why: string): string {
  return page(`${status}`, [`<h1>${status}</h1>`, `<p>${escapeHtml(why)}</p>`]);
}

function runRow(r: RunRow): string {
  const faults = r.faults
    .map((f) => {
      const text = escapeHtml(`${f.kind} ${f.verified}/${f.started}`);
      return f.started === 0 || f.verified < f.started
        ? `<span class="unverified">${text}</span>`
        : text;
    })
    .join(", ");
  const files = r.files
    .map((f) => link(`${r.rel}/${f}`, f === "report.html" ? "report" : f.replace(/\/$/, "")))
    .join(" ");
  return `<tr data-verdict="${r.verdict}"><td>${escapeHtml(folderTime(r.folder))}</td><td>${escapeHtml(r.test)}</td><td>${badge(r.verdict)}</td><td>${escapeHtml(r.backend)}</td><td>${escapeHtml(r.runtime)}</td><td>${escapeHtml(r.workload)}</td><td>${faults || (r.nemesis.length === 0 && r.verdict !== "none" ? "none" : "")}</td><td class="num">${r.ops === null ? "" : r.ops.toLocaleString("en-US")}</td><td class="num">${r.okPerS ?? ""}</td><td class="num">${r.seconds === null ? "" : duration(r.seconds)}</td><td class="files">${files}</td></tr>`;
}

function filterForm(filters: Filters, backends: readonly string[]): string {
  const option = (value: string, label: string, selected: boolean) =>
    `<option value="${escapeHtml(value)}"${selected ? " selected" : ""}>${escapeHtml(label)}</option>`;
  const verdicts = [
    option("", "any verdict", filters.verdict === undefined),
    ...LISTED_VERDICTS.map((v) =>
      option(v, v === "none" ? "no results" : v, filters.verdict === v),
    ),
  ];
  const backendOptions = [
    option("", "any backend", filters.backend === undefined),
    ...backends.map((b) => option(b, b, filters.backend === b)),
  ];
  if (filters.backend !== undefined && !backends.includes(filters.backend)) {
    backendOptions.push(option(filters.backend, filters.backend, true));
  }
  return [
    '<form method="get" action="/" class="filters">',
    `<label>verdict <select name="verdict">${verdicts.join("")}</select></label>`,
    `<label>backend <select name="backend">${backendOptions.join("")}</select></label>`,
    '<button type="submit">filter</button> <a href="/">all</a>',
    "</form>",
  ].join("\n");
}

function table(header: string[], rows: string[], id: string): string {
  return [
    `<table id="${id}">`,
    `<thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>`,
    "<tbody>",
    ...rows,
    "</tbody>",
    "</table>",
  ].join("\n");
}

function page(title: string, body: string[]): string {
  return [
    ...htmlHead(title, ['<link rel="stylesheet" href="/assets/serve.css">']),
    "<body><main>",
    ...body,
    "</main></body>",
    "</html>",
    "",
  ].join("\n");
}

function badge(v: ListedVerdict): string {
  return `<span class="badge v-${v}">${escapeHtml(v === "none" ? "no results" : v.toUpperCase())}</span>`;
}

/** A link to a path of the store (relative to it), served under /files/. */
function link(rel: string, text: string): string {
  const href = `/files/${rel
    .split("/")
    .map((p) => encodeURIComponent(p))
    .join("/")}`;
  return `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;
}

function duration(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}
