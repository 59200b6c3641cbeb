// Reading a history file. A big jsonl file is parsed from its bytes a few megabytes at a time,
// never held whole as a string (a 10,000,000-operation history is 2 GB of text, past what one
// string or one readFile may hold); every other file is read as text (parseHistory).

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { FormatName, ParsedHistory } from "../history.js";
import { detectFormat, parseHistory } from "./index.js";
import { fileSource, parseJsonlBytes } from "./jsonl.js";

/** Files up to this size are read whole, as text. */
const WHOLE = 1 << 20;
/** How much of a big file's start tells its format. */
const HEAD = 1 << 16;

/**
 * Parses the history file at `path` (named `file` in messages). Errors reading it are thrown as
 * they come (NodeJS.ErrnoException); errors in its content as HistoryError.
 */
export function readHistoryFile(
  path: string,
  file: string,
  format: FormatName | "auto",
): ParsedHistory {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    if (size <= WHOLE || (format !== "auto" && format !== "jsonl")) {
      return parseHistory(readText(fd, size), file, format);
    }
    const head = Buffer.alloc(HEAD);
    const n = readSync(fd, head, 0, HEAD, 0);
    // A UTF-8 byte order mark is not part of the first line (as parseHistory has it).
    const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
    const detected = format === "auto" ? detectFormat(head.toString("utf8", bom, n), file) : format;
    if (detected !== "jsonl") return parseHistory(readText(fd, size), file, detected);
    return parseJsonlBytes(fileSource(fd, bom), file, true, { fd, from: bom, size });
  } finally {
    closeSync(fd);
  }
}

function readText(fd: number, size: number): string {
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.toString("utf8", 0, got);
}
