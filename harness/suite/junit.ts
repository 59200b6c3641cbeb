// junit.xml: one <testcase> per run, for CI servers that read JUnit reports. classname is the
// suite's name, name the run's (its test name with its matrix values). An invalid run is a
// <failure> (the verdict, the illegal keys, the report's path); an error or unknown run an
// <error> (a run that could not tell is not a pass either); one not run <skipped>. The counts
// on <testsuite> and <testsuites> are those of the cases below them; time in seconds.

import type { RunEntry, SuiteSummary } from "./summary.js";
import { verdictWord } from "./verdict.js";

export function junitXml(summary: SuiteSummary): string {
  const runs = summary.runs;
  const failures = runs.filter((r) => r.verdict === "invalid").length;
  const errors = runs.filter((r) => r.verdict === "error" || r.verdict === "unknown").length;
  const skipped = runs.filter((r) => r.verdict === "not run").length;
  const counts = {
    tests: runs.length,
    failures,
    errors,
    skipped,
    time: seconds(summary.duration_s),
  };
  const attrs = (extra: Record<string, string | number>) =>
    Object.entries({ name: summary.name, ...counts, ...extra })
      .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
      .join("");
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({})}>`,
    `  <testsuite${attrs({ timestamp: summary.started })}>`,
    ...runs.map((r) => testcase(summary.name, r)),
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}

function testcase(suite: string, r: RunEntry): string {
  const head = `    <testcase classname="${xmlAttr(suite)}" name="${xmlAttr(r.name)}" time="${seconds(r.seconds ?? 0)}"`;
  const where = [r.report ? `report: ${r.report}` : "", r.dir ? `run: ${r.dir}` : ""]
    .filter(Boolean)
    .join("\n");
  const body: string[] = [];
  if (r.verdict === "invalid") {
    const keys = r.illegal_keys.some((k) => k !== "")
      ? `illegal keys: ${r.illegal_keys.join(", ")}`
      : (r.why ?? "the history is not linearizable");
    const message = `INVALID: ${keys}${r.report ? `; report: ${r.report}` : ""}`;
    body.push(element("failure", { message, type: "invalid" }, r.why ?? keys));
  } else if (r.verdict === "error" || r.verdict === "unknown") {
    const message = `${verdictWord(r.verdict)}: ${r.why ?? "no reason recorded"}`;
    body.push(element("error", { message, type: r.verdict }, r.why ?? ""));
  } else if (r.verdict === "not run") {
    body.push(`      <skipped message="${xmlAttr(`not run: ${r.why ?? ""}`)}"/>`);
  }
  if (where !== "") body.push(`      <system-out>${xmlText(where)}</system-out>`);
  return body.length === 0 ? `${head}/>` : [`${head}>`, ...body, "    </testcase>"].join("\n");
}

function element(tag: string, attrs: Record<string, string>, text: string): string {
  const a = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${xmlAttr(v)}"`)
    .join("");
  return `      <${tag}${a}>${xmlText(text)}</${tag}>`;
}

/** Text safe as XML content: the special characters as references, what XML cannot hold dropped. */
export function xmlText(s: string): string {
  return xmlChars(s).replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Text safe in a double-quoted attribute; tabs and newlines as references too, so that the
 * parser's attribute normalization keeps them.
 */
export function xmlAttr(s: string): string {
  return xmlChars(s).replace(/[&<>"'\n\r\t]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Drops the characters XML 1.0 cannot hold at all, even as references: controls other than
 * tab, newline and carriage return, U+FFFE, U+FFFF and lone surrogates.
 */
function xmlChars(s: string): string {
  return s.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what is dropped
    /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    "",
  );
}

function seconds(s: number): string {
  return (Math.round(s * 1000) / 1000).toFixed(3);
}
