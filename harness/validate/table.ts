// What `validate` prints: the unmutated node's runs of the suite, then one row per mutant
// (caught or not, by which test and fault, after how many seconds of test time, the run), and
// a closing line. Plain text, aligned columns, for a terminal and for a note.

import type { BaselineRow, MutantRow, TestRef, ValidateReport } from "./validate.js";

export function testLabel(t: TestRef | undefined): string {
  if (t === undefined) return "-";
  return `${t.index} ${t.workload} ${t.nemesis.length === 0 ? "none" : t.nemesis.join(",")}`;
}

export function reportText(report: ValidateReport, jsonFile?: string): string {
  const lines: string[] = [];
  lines.push(`suite ${report.suite}, without a mutant:`);
  lines.push(
    ...columns(
      ["test", "verdict", "run"],
      report.baseline.map((b) => [testLabel(b.test), baselineVerdict(b), b.run ?? "-"]),
    ),
  );
  if (!report.suiteOk) {
    const bad = report.baseline.filter((b) => !b.ok);
    lines.push(
      bad.length > 0
        ? `validate: the suite cannot tell right from wrong: ${bad
            .map((b) => `test ${b.test.index} without a mutant: ${b.why}`)
            .join("; ")}; no mutant was run`
        : "validate: interrupted before the suite was checked; no mutant was run",
    );
  } else {
    lines.push("");
    lines.push(
      ...columns(
        ["mutant", "caught", "by test", "fault", "after s", "run"],
        report.mutants.map((m) => mutantCells(m)),
      ),
    );
    for (const e of report.equivalent)
      lines.push(`${e.mutant}: not run, an equivalent mutant: ${e.why}`);
    lines.push(closing(report));
  }
  if (jsonFile !== undefined) lines.push(`written: ${jsonFile}`);
  return `${lines.join("\n")}\n`;
}

function baselineVerdict(b: BaselineRow): string {
  return b.ok ? "VALID, faults verified" : (b.why ?? "not valid");
}

function mutantCells(m: MutantRow): string[] {
  switch (m.status) {
    case "caught":
      return [
        m.mutant,
        "yes",
        testLabel(m.test),
        m.fault ?? "?",
        m.seconds === undefined ? "?" : m.seconds.toFixed(1),
        m.run ?? "-",
      ];
    case "survived":
      return [m.mutant, "NO", `none of ${m.runs.length}`, "-", "-", "-"];
    case "error":
      return [m.mutant, "ERROR", testLabel(m.test), m.why ?? "-", "-", m.run ?? "-"];
    case "unknown":
      return [m.mutant, "UNKNOWN", "-", m.why ?? "-", "-", "-"];
  }
}

function closing(report: ValidateReport): string {
  const caught = report.mutants.filter((m) => m.status === "caught").length;
  const others = (status: MutantRow["status"]) =>
    report.mutants.filter((m) => m.status === status).map((m) => m.mutant);
  const parts = [`validate: ${caught} of ${report.mutants.length} mutants caught`];
  if (report.equivalent.length > 0)
    parts.push(
      `${report.equivalent.length} equivalent not run (${report.equivalent.map((e) => e.mutant).join(", ")})`,
    );
  const survived = others("survived");
  if (survived.length > 0) parts.push(`survived: ${survived.join(", ")}`);
  const failed = [...others("error"), ...others("unknown")];
  if (failed.length > 0) parts.push(`could not tell: ${failed.join(", ")}`);
  return parts.join("; ");
}

/** Rows padded into columns, two spaces apart; the last column is not padded. */
export function columns(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd(),
  );
}
