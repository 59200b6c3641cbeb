// `paxos-harness serve` (harness/serve/): over a store made here, the listing (runs and suites
// newest first, filters by verdict and backend, every value escaped), the files served with
// their content types, and every way out of the folder refused (`..`, its encodings, an
// encoded slash, symbolic links whose target is outside); bound to 127.0.0.1 only. Then the
// command itself: its URL printed, Ctrl-C ends it with 0, bad input is exit 3.

import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenLocal } from "../serve/command.js";
import { resolveInside } from "../serve/safe-path.js";
import { createStoreServer } from "../serve/server.js";
import { runCliAsync, spawnCli, waitFor } from "./docker-helpers.js";

interface Reply {
  status: number;
  type: string;
  location?: string;
  body: string;
}

/** A request with the path sent exactly as given (no URL normalization on our side). */
function get(port: number, rawPath: string, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: rawPath, method, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers["content-type"] ?? ""),
            ...(res.headers.location ? { location: res.headers.location } : {}),
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function results(valid: boolean | "unknown", backend: string, extra: object = {}) {
  return JSON.stringify({
    valid,
    backend,
    runtime: "local",
    nodes: 3,
    workload: "kv",
    nemesis: ["kill"],
    ops: { invoke: 1234, ok: 1000, fail: 200, info: 34 },
    throughput: { ok_per_s: 95.5 },
    duration_s: 12.5,
    faults: { kill: { started: 2, verified: 2, seconds: 3 } },
    ...extra,
  });
}

/** A store: three tests' runs (valid, invalid, one without results), a suite, symbolic links. */
function makeStore(): { root: string; store: string } {
  const root = mkdtempSync(path.join(tmpdir(), "serve-"));
  const store = path.join(root, "store");
  const run = (test: string, stamp: string, files: Record<string, string>) => {
    const dir = path.join(store, test, stamp);
    mkdirSync(path.join(dir, "nodes"), { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    return dir;
  };
  const valid = run("memory-kv", "20260101T000001", {
    "config.yaml": "name: memory-kv\n",
    "results.json": results(true, "memory"),
    "report.html": "<!DOCTYPE html><title>the memory report</title>",
    "history.jsonl": '{"index":0}\n',
    "harness.log": "a log line\n",
    "nodes/n1.log": "node one\n",
  });
  run("memory-kv", "20260101T000001-2", {
    "config.yaml": "x: 1\n",
    "results.json": results("unknown", "memory", { error: "a fault did not take" }),
  });
  run("broken-kv", "20260102T000000", {
    "config.yaml": "name: broken-kv\n",
    "results.json": results(false, "broken", { violating_keys: ["k1"] }),
    "report.html": "<!DOCTYPE html><title>the broken report</title>",
  });
  run("running", "20260103T000000", { "config.yaml": "name: running\n" });
  run("<b>evil", "20260105T000000", {
    "config.yaml": "x: 1\n",
    "results.json": results(true, "<i>b</i>"),
  });
  const suite = path.join(store, "suites", "20260104T000000");
  mkdirSync(suite, { recursive: true });
  writeFileSync(
    path.join(suite, "summary.json"),
    JSON.stringify({
      name: "nightly",
      code: 1,
      duration_s: 1800,
      counts: { invalid: 1, valid: 1 },
      runs: [{ backend: "broken" }, { backend: "memory" }],
    }),
  );
  writeFileSync(path.join(suite, "index.html"), "<!DOCTYPE html><title>the suite</title>");
  // Inside: store/latest, as the runner makes it. Outside: a secret beside the store.
  symlinkSync(path.relative(store, valid), path.join(store, "latest"));
  writeFileSync(path.join(root, "secret.txt"), "the secret");
  symlinkSync(path.join(root, "secret.txt"), path.join(store, "evil.txt"));
  symlinkSync(root, path.join(valid, "escape"));
  return { root, store };
}

describe("the store browser", () => {
  const { root, store } = makeStore();
  const server = createStoreServer(store);
  let port = 0;
  let address: AddressInfo;

  beforeAll(async () => {
    address = await listenLocal(server, 0);
    port = address.port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it("binds 127.0.0.1 only", () => {
    expect(address.address).toBe("127.0.0.1");
    expect(address.family).toBe("IPv4");
    expect(port).toBeGreaterThan(0);
  });

  it("lists runs and suites newest first, with verdict, backend, workload, faults, ops, time and links", async () => {
    const r = await get(port, "/");
    expect(r.status).toBe(200);
    expect(r.type).toBe("text/html; charset=utf-8");
    const runs = r.body.slice(r.body.indexOf('<table id="runs">'));
    const tests = [...runs.matchAll(/<tr data-verdict="(\w+)"><td>([^<]+)<\/td><td>([^<]+)</g)].map(
      (m) => [m[2], m[3], m[1]],
    );
    expect(tests).toEqual([
      ["2026-01-05 00:00:00", "&#60;b&#62;evil", "valid"],
      ["2026-01-03 00:00:00", "running", "none"],
      ["2026-01-02 00:00:00", "broken-kv", "invalid"],
      ["2026-01-01 00:00:01-2", "memory-kv", "error"],
      ["2026-01-01 00:00:01", "memory-kv", "valid"],
    ]);
    expect(runs).toContain("kill 2/2");
    expect(runs).toContain("1,234");
    expect(runs).toContain("95.5");
    expect(runs).toContain("12.5 s");
    expect(runs).toContain('href="/files/memory-kv/20260101T000001/report.html"');
    expect(runs).toContain('href="/files/memory-kv/20260101T000001/history.jsonl"');
    const suites = r.body.slice(r.body.indexOf('<table id="suites">'), r.body.indexOf("<h2>Runs"));
    expect(suites).toContain("nightly");
    expect(suites).toContain("INVALID");
    expect(suites).toContain('href="/files/suites/20260104T000000/index.html"');
    // Each run once, where it lives: store/latest is not a second entry.
    expect(runs.match(/20260101T000001\/report\.html/g)).toHaveLength(1);
  });

  it("escapes what the store holds", async () => {
    const r = await get(port, "/");
    expect(r.body).not.toContain("<b>evil");
    expect(r.body).not.toContain("<i>b</i>");
    expect(r.body).toContain("&#60;i&#62;b&#60;/i&#62;");
  });

  it("filters by verdict and backend (query string, and a form that sends it)", async () => {
    const names = async (query: string) => {
      const body = (await get(port, `/${query}`)).body;
      const runs = body.slice(body.indexOf("<h2>Runs"));
      return [...runs.matchAll(/<tr data-verdict="\w+"><td>[^<]+<\/td><td>([^<]+)</g)].map(
        (m) => m[1],
      );
    };
    expect(await names("?verdict=invalid")).toEqual(["broken-kv"]);
    expect(await names("?backend=memory")).toEqual(["memory-kv", "memory-kv"]);
    expect(await names("?verdict=valid&backend=memory")).toEqual(["memory-kv"]);
    expect(await names("?verdict=none")).toEqual(["running"]);
    expect(await names("?verdict=invalid&backend=memory")).toEqual([]);
    expect((await get(port, "/?verdict=invalid&backend=memory")).body).toContain("No run.");
    // A verdict that is not one filters nothing.
    expect(await names("?verdict=bogus")).toHaveLength(5);
    // Suites filter too: by their verdict, and by the backends of their runs.
    expect((await get(port, "/?verdict=valid")).body).toContain("No suite.");
    expect((await get(port, "/?backend=broken")).body).toContain("nightly");
    const form = (await get(port, "/?verdict=invalid")).body;
    expect(form).toMatch(/<form method="get" action="\/"/);
    expect(form).toContain('<select name="verdict">');
    expect(form).toContain('<option value="invalid" selected>');
    expect(form).toContain('<select name="backend">');
    expect(form).toContain('<option value="memory">');
  });

  it("serves a run's files with their content types", async () => {
    const base = "/files/memory-kv/20260101T000001";
    const report = await get(port, `${base}/report.html`);
    expect([report.status, report.type]).toEqual([200, "text/html; charset=utf-8"]);
    expect(report.body).toBe("<!DOCTYPE html><title>the memory report</title>");
    const json = await get(port, `${base}/results.json`);
    expect([json.status, json.type]).toEqual([200, "application/json; charset=utf-8"]);
    expect(JSON.parse(json.body).backend).toBe("memory");
    for (const f of ["history.jsonl", "harness.log", "nodes/n1.log", "config.yaml"]) {
      const r = await get(port, `${base}/${f}`);
      expect([f, r.status, r.type]).toEqual([f, 200, "text/plain; charset=utf-8"]);
    }
    const suiteIndex = await get(port, "/files/suites/20260104T000000/index.html");
    expect(suiteIndex.body).toContain("the suite");
    // A link inside the store is followed: store/latest is the newest run.
    expect((await get(port, "/files/latest/report.html")).body).toContain("the memory report");
    const head = await get(port, `${base}/report.html`, "HEAD");
    expect([head.status, head.body]).toEqual([200, ""]);
  });

  it("lists a folder's files; a folder without its slash is redirected to it", async () => {
    const moved = await get(port, "/files/memory-kv/20260101T000001");
    expect([moved.status, moved.location]).toEqual([301, "/files/memory-kv/20260101T000001/"]);
    const listing = await get(port, "/files/memory-kv/20260101T000001/");
    expect(listing.status).toBe(200);
    expect(listing.body).toContain('<a href="report.html">report.html</a>');
    expect(listing.body).toContain('<a href="nodes/">nodes/</a>');
    expect((await get(port, "/files/")).body).toContain('<a href="broken-kv/">');
  });

  it("refuses every path out of the folder: .., %2e%2e, an encoded slash, links to outside", async () => {
    const refused = [
      "/files/../secret.txt",
      "/files/%2e%2e/secret.txt",
      "/files/%2E%2E/%2E%2E/etc/passwd",
      "/files/memory-kv/..%2f..%2fsecret.txt",
      "/files/memory-kv/%2e%2e%2f%2e%2e%2fsecret.txt",
      "/files/..%5csecret.txt",
      "/files/evil.txt",
      "/files/memory-kv/20260101T000001/escape/secret.txt",
      "/files/memory-kv/20260101T000001/escape/",
      "/files/.%00./secret.txt",
    ];
    for (const p of refused) {
      const r = await get(port, p);
      expect([p, r.status]).toEqual([p, 403]);
      expect(r.body).not.toContain("the secret");
    }
    expect((await get(port, "/files/nope/report.html")).status).toBe(404);
    expect((await get(port, "/files/%zz")).status).toBe(400);
    expect((await get(port, "/nope")).status).toBe(404);
    expect((await get(port, "/", "POST")).status).toBe(405);
    // The check itself, on real paths.
    const real = realpathSync(store);
    expect(resolveInside(real, "memory-kv/20260101T000001/report.html")).toMatchObject({
      ok: true,
    });
    expect(resolveInside(real, "evil.txt")).toMatchObject({ ok: false, status: 403 });
    expect(readFileSync(path.join(root, "secret.txt"), "utf8")).toBe("the secret");
  });

  it("serves its styles as a real file", async () => {
    const css = await get(port, "/assets/serve.css");
    expect([css.status, css.type]).toEqual([200, "text/css; charset=utf-8"]);
    expect(css.body).toContain(".badge");
    expect((await get(port, "/")).body).toContain(
      '<link rel="stylesheet" href="/assets/serve.css">',
    );
  });
});

describe("paxos-harness serve", () => {
  it("prints its URL on 127.0.0.1, serves the store, and ends on Ctrl-C with 0", {
    timeout: 60_000,
  }, async () => {
    const { store } = makeStore();
    const child = spawnCli(["serve", store, "--port", "0"]);
    await waitFor("the URL", () => /at http:\/\//.test(child.stdout()), 30_000);
    const url = /serving .* at (http:\/\/127\.0\.0\.1:(\d+)\/) \(Ctrl-C to stop\)/.exec(
      child.stdout(),
    );
    expect(url, child.stdout() + child.stderr()).not.toBeNull();
    const port = Number(url?.[2]);
    const r = await get(port, "/files/broken-kv/20260102T000000/report.html");
    expect(r.body).toContain("the broken report");
    child.child.kill("SIGINT");
    expect(await child.exit).toBe(0);
  });

  it("a folder that is not there, a bad port, a port in use: one line, exit 3", {
    timeout: 60_000,
  }, async () => {
    const missing = await runCliAsync(["serve", "/nonexistent/store"]);
    expect([missing.code, missing.stderr.trim()]).toEqual([
      3,
      "paxos-harness: /nonexistent/store: cannot serve it (ENOENT)",
    ]);
    const { store } = makeStore();
    const bad = await runCliAsync(["serve", store, "--port", "http"]);
    expect([bad.code, bad.stderr.trim()]).toEqual([
      3,
      "paxos-harness: --port: 'http' is not a port (0 to 65535; 0: any free one)",
    ]);
    const taken = http.createServer();
    const { port } = await listenLocal(taken, 0);
    try {
      const busy = await runCliAsync(["serve", store, "--port", String(port)]);
      expect([busy.code, busy.stderr.trim()]).toEqual([
        3,
        `paxos-harness: --port ${port}: 127.0.0.1:${port} is in use (--port 0 takes any free port)`,
      ]);
    } finally {
      taken.close();
    }
  });
});
