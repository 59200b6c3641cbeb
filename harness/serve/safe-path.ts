// A request's path made a file of the served folder, or refused. The raw path is split on
// "/" and each part percent-decoded on its own, so that an encoded slash or dot-dot
// (`%2f`, `%2e%2e`) is a part, never a separator: a part that is `..` (or `.`), or that holds a
// slash, a backslash or a NUL once decoded, is refused (403); so is any file whose real path
// (symbolic links followed) is not under the folder's own real path. Missing: 404.

import { realpathSync, type Stats, statSync } from "node:fs";
import path from "node:path";

export type Resolved =
  | { ok: true; file: string; stat: Stats }
  | { ok: false; status: 400 | 403 | 404; why: string };

/**
 * `root` must be a real path already (realpathSync): the check compares real paths. `rawPath`
 * is the part of the URL under the folder, still percent-encoded, without its query.
 */
export function resolveInside(root: string, rawPath: string): Resolved {
  const parts: string[] = [];
  for (const raw of rawPath.split("/")) {
    let part: string;
    try {
      part = decodeURIComponent(raw);
    } catch {
      return { ok: false, status: 400, why: "a bad percent-encoding in the path" };
    }
    if (part === "") continue;
    if (part === "." || part === ".." || /[/\\\0]/.test(part)) {
      return { ok: false, status: 403, why: "the path leaves the served folder" };
    }
    parts.push(part);
  }
  let real: string;
  try {
    real = realpathSync(path.join(root, ...parts));
  } catch {
    return { ok: false, status: 404, why: "no such file" };
  }
  if (real !== root && !real.startsWith(`${root}${path.sep}`)) {
    return { ok: false, status: 403, why: "the path leads outside the served folder" };
  }
  try {
    return { ok: true, file: real, stat: statSync(real) };
  } catch {
    return { ok: false, status: 404, why: "no such file" };
  }
}

/**
 * The content type of a store's file by its name. Text the browser should show rather than
 * download (history.jsonl, logs, YAML) is text/plain; JSON is application/json.
 */
export function contentTypeOf(name: string): string {
  const ext = path.extname(name).toLowerCase();
  return CONTENT_TYPES[ext] ?? BINARY;
}

const TEXT = "text/plain; charset=utf-8";
const BINARY = "application/octet-stream";
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".jsonl": TEXT,
  ".log": TEXT,
  ".txt": TEXT,
  ".yaml": TEXT,
  ".yml": TEXT,
  ".edn": TEXT,
  ".xml": "application/xml; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};
