// The store browser: a node:http server over one folder (the store). Routes:
//
//   GET /                  the listing: suites and runs, newest first (?verdict=&backend=)
//   GET /files/<path>      a file of the folder (its content type), or a folder's entries
//   GET /assets/serve.css  the pages' styles (a real file, page/serve.css)
//   GET /favicon.ico       204: none
//
// Nothing outside the folder is served (safe-path.ts): `..` and its encodings, and symbolic
// links whose target leaves the folder, are refused. GET and HEAD only. Binding is the
// caller's (command.ts binds 127.0.0.1 only); tests bind it the same way.

import { createReadStream, readdirSync, readFileSync, realpathSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot } from "../report/assets.js";
import { errorHtml, filtersOf, folderHtml, listingHtml } from "./page.js";
import { contentTypeOf, resolveInside } from "./safe-path.js";
import { readStoreIndex } from "./store-index.js";

const FILES = "/files/";
/** Our own pages load only our stylesheet, and their form submits to us. */
const PAGE_POLICY = "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'";

export function createStoreServer(dir: string): http.Server {
  const root = realpathSync(dir);
  // What our pages share (base.css, beside the report's page files), then the browser's own.
  const packageDir = packageRoot(fileURLToPath(import.meta.url));
  const css = Buffer.concat([
    readFileSync(path.join(packageDir, "harness", "report", "page", "base.css")),
    readFileSync(path.join(packageDir, "harness", "serve", "page", "serve.css")),
  ]);
  const title = `paxos-harness store: ${dir}`;
  return http.createServer((req, res) => {
    try {
      handle(req, res, { root, css, title });
    } catch (err) {
      send(res, req, 500, "text/html; charset=utf-8", errorHtml(500, String(err)), true);
    }
  });
}

interface Served {
  root: string;
  css: Buffer;
  title: string;
}

function handle(req: http.IncomingMessage, res: http.ServerResponse, served: Served): void {
  const html = "text/html; charset=utf-8";
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    send(res, req, 405, html, errorHtml(405, "only GET and HEAD"), true);
    return;
  }
  const url = req.url ?? "/";
  if (!url.startsWith("/")) {
    send(res, req, 400, html, errorHtml(400, "not a path"), true);
    return;
  }
  const q = url.indexOf("?");
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? "" : url.slice(q + 1);
  if (rawPath === "/") {
    const index = readStoreIndex(served.root);
    const body = listingHtml(index, filtersOf(new URLSearchParams(query)), served.title);
    send(res, req, 200, html, body, true);
    return;
  }
  if (rawPath === "/favicon.ico") {
    // Browsers ask for it on every page: nothing, rather than a 404 in their console.
    res.writeHead(204, { "Cache-Control": "max-age=86400" });
    res.end();
    return;
  }
  if (rawPath === "/assets/serve.css") {
    send(res, req, 200, "text/css; charset=utf-8", served.css, false);
    return;
  }
  if (rawPath === "/files") {
    redirect(res, `${FILES}${q < 0 ? "" : `?${query}`}`);
    return;
  }
  if (!rawPath.startsWith(FILES)) {
    send(res, req, 404, html, errorHtml(404, "no such page"), true);
    return;
  }
  const resolved = resolveInside(served.root, rawPath.slice(FILES.length));
  if (!resolved.ok) {
    send(res, req, resolved.status, html, errorHtml(resolved.status, resolved.why), true);
    return;
  }
  if (resolved.stat.isDirectory()) {
    // A folder's links are relative to it: its URL ends with a slash.
    if (!rawPath.endsWith("/")) {
      redirect(res, `${rawPath}/${q < 0 ? "" : `?${query}`}`);
      return;
    }
    const rel = path.relative(served.root, resolved.file).split(path.sep).join("/");
    const entries = readdirSync(resolved.file, { withFileTypes: true }).map((e) => {
      const dir = e.isDirectory();
      let size = 0;
      if (!dir) {
        const inside = resolveInside(served.root, `${rel}/${encodeURIComponent(e.name)}`);
        size = inside.ok ? inside.stat.size : 0;
      }
      return { name: e.name, dir, size };
    });
    send(res, req, 200, html, folderHtml(rel, entries), true);
    return;
  }
  if (!resolved.stat.isFile()) {
    send(res, req, 403, html, errorHtml(403, "not a file"), true);
    return;
  }
  res.writeHead(200, {
    "Content-Type": contentTypeOf(resolved.file),
    "Content-Length": resolved.stat.size,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
  });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  const stream = createReadStream(resolved.file);
  stream.on("error", () => res.destroy());
  stream.pipe(res);
}

function send(
  res: http.ServerResponse,
  req: http.IncomingMessage,
  status: number,
  type: string,
  body: string | Buffer,
  page: boolean,
): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": bytes.length,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    ...(page ? { "Content-Security-Policy": PAGE_POLICY } : {}),
  });
  res.end(req.method === "HEAD" ? undefined : bytes);
}

function redirect(res: http.ServerResponse, location: string): void {
  res.writeHead(301, { Location: location, "Content-Length": 0 });
  res.end();
}
