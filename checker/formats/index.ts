// Reading a history file in any of the formats we know, and telling them apart by content.

import { type FormatName, HistoryError, type ParsedHistory } from "../history.js";
import { type Edn, EdnReader } from "./edn.js";
import { keywordName, mapGet } from "./edn-value.js";
import { parseJepsenEdn } from "./jepsen-edn.js";
import { parseJsonl } from "./jsonl.js";
import { parsePorcupineEtcd } from "./porcupine-etcd.js";
import { parsePorcupineKv } from "./porcupine-kv.js";

export { FORMATS } from "./names.js";

/** How many leading non-blank lines may come before the first `jepsen.util` line of a log. */
const LOG_PREAMBLE = 100;
const KV_FS = new Set(["get", "put", "append"]);

export function parseHistory(
  text: string,
  file: string,
  format: FormatName | "auto",
): ParsedHistory {
  // A UTF-8 byte order mark (editors on Windows write one) is not part of the first line.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === "") {
    return {
      format: format === "auto" ? formatOfEmpty(file) : format,
      model: "cas-register",
      ops: [],
    };
  }
  const f = format === "auto" ? detectFormat(text, file) : format;
  switch (f) {
    case "jsonl":
      return parseJsonl(text, file);
    case "porcupine-etcd":
      return parsePorcupineEtcd(text, file);
    case "porcupine-kv":
      return parsePorcupineKv(text, file);
    case "jepsen-edn":
      return parseJepsenEdn(text, file);
  }
}

/**
 * The format of a history, from its first lines. A blank text has no content to go by (etcd_095
 * of Porcupine's vectors is empty), so there the file's extension decides.
 */
export function detectFormat(text: string, file: string): FormatName {
  let seen = 0;
  let log = false;
  let first: { line: string; at: number } | undefined;
  for (let start = 0; start < text.length && seen < LOG_PREAMBLE && !log; ) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end).trim();
    if (line !== "") {
      log = line.includes("jepsen.util - ");
      if (first === undefined && !line.startsWith(";")) first = { line, at: start };
      seen++;
    }
    start = end + 1;
  }
  if (seen === 0) return formatOfEmpty(file);
  const line = first?.line ?? "";
  if (line.startsWith("{") && isJsonObject(line)) return "jsonl";
  if (log) return "porcupine-etcd";
  if (line.startsWith("[") || line.startsWith("(")) return "jepsen-edn";
  if (first !== undefined && line.startsWith("{")) {
    const op = firstEdnForm(text, first.at);
    if (op?.kind === "map") {
      const f = keywordName(mapGet(op, "f"));
      return f !== undefined && KV_FS.has(f) ? "porcupine-kv" : "jepsen-edn";
    }
  }
  throw new HistoryError(file, undefined, "cannot tell the format; pass --format");
}

function formatOfEmpty(file: string): FormatName {
  if (file.endsWith(".log")) return "porcupine-etcd";
  if (file.endsWith(".edn")) return "jepsen-edn";
  return "jsonl";
}

function isJsonObject(line: string): boolean {
  if (line.startsWith('{"')) return true;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === "object" && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

function firstEdnForm(text: string, at: number): Edn | undefined {
  const reader = new EdnReader(text);
  reader.pos = at;
  try {
    return reader.next();
  } catch {
    // Not readable EDN either: the caller says it cannot tell.
    return undefined;
  }
}
