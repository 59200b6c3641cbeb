// What `suite` prints on stdout: a line per run as it ends, and at the end a table of every
// run (in the suite's order) and where the suite's files are. Each run's own progress and
// summary go to stderr, as `validate` does.

import { columns } from "../validate/table.js";
import type { RunEntry, SuiteSummary } from "./summary.js";
import { VERDICT_ORDER, verdictWord } from "./verdict.js";

/** `[2/5] INVALID  broken-kv [backend=broken]  kill 1/1  612 ops  41.2 ok/s  6.1 s: why` */
export function runLine(r: RunEntry, total: number): string {
  const parts = [
    `[${r.index}/${total}]`,
    verdictWord(r.verdict).padEnd(7),
    r.name,
    faultsText(r),
    r.ops === null ? "" : `${r.ops.invoke} ops`,
    r.ok_per_s === null ? "" : `${r.ok_per_s} ok/s`,
    r.seconds === null ? "" : `${r.seconds.toFixed(1)} s`,
  ].filter((p) => p !== "");
  return `${parts.join("  ")}${r.why ? `: ${r.why}` : ""}`;
}

export function finalText(summary: SuiteSummary, files: Record<string, string>): string {
  const lines = columns(
    ["#", "verdict", "run", "faults", "ops", "ok/s", "s", "report"],
    summary.runs.map((r) => [
      String(r.index),
      verdictWord(r.verdict),
      r.name,
      faultsText(r) || "-",
      r.ops === null ? "-" : String(r.ops.invoke),
      r.ok_per_s === null ? "-" : String(r.ok_per_s),
      r.seconds === null ? "-" : r.seconds.toFixed(1),
      r.report ?? "-",
    ]),
  );
  lines.push("");
  lines.push(closingLine(summary));
  for (const [what, file] of Object.entries(files)) lines.push(`  ${what}: ${file}`);
  return `${lines.join("\n")}\n`;
}

/** `suite smoke: 1 invalid, 4 valid in 1 min 43 s; exit 1` */
export function closingLine(summary: SuiteSummary): string {
  const counts = VERDICT_ORDER.filter((v) => summary.counts[v] > 0)
    .map((v) => `${summary.counts[v]} ${v}`)
    .join(", ");
  const cut = summary.interrupted ? " (interrupted)" : "";
  return `suite ${summary.name}: ${counts} in ${minutes(summary.duration_s)}${cut}; exit ${summary.code}`;
}

/** `partition 3/3, kill 2/2`: verified of started, per kind. */
export function faultsText(r: RunEntry): string {
  return Object.entries(r.faults)
    .map(([kind, c]) => `${kind} ${c.verified}/${c.started}`)
    .join(", ");
}

export function minutes(s: number): string {
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return m > 0 ? `${m} min ${rest} s` : `${rest} s`;
}
