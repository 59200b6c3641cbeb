// `--runtime auto` (and `docker`) against the backend's abilities and the engine's answer, through
// the real CLI: a backend with no container command, files or image runs locally even when an
// engine answers (a stand-in engine on a socket of ours answering /_ping), saying why; no engine
// at DOCKER_HOST means local, saying so; `--runtime docker` for such a backend is exit 3.
// No Docker engine is needed (the go-kv tests cover auto choosing a real one). The CLI runs as
// an asynchronous child so that the stand-in, in this process, can answer it.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runCliAsync } from "./docker-helpers.js";
import { ROOT } from "./run-cli.js";

const dir = mkdtempSync(path.join(tmpdir(), "paxos-auto-"));
const socket = path.join(dir, "engine.sock");
let pings = 0;
/** Answers GET /_ping with 200 OK, as an engine does, and nothing else. */
const engine = http.createServer((req, res) => {
  if (req.url === "/_ping") pings++;
  res.writeHead(req.url === "/_ping" ? 200 : 404).end(req.url === "/_ping" ? "OK" : "");
});

/** The memory node, described as an outside backend with only a local command. */
function localOnlyDescriptor(): string {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const file = path.join(dir, "local-only.yaml");
  writeFileSync(
    file,
    stringify({
      name: "local-only",
      protocol: "http-kv",
      local: {
        command: process.execPath,
        args: [
          ...["--import", tsx, path.join(ROOT, "harness/backends/memory-node.ts")],
          ...["--id", "{id}", "--host", "{host}", "--http-port", "{http_port}"],
          ...["--data-dir", "{data_dir}", "--peers", "{peers}"],
        ],
      },
      peer: "{id}={host}:{http_port}",
    }),
  );
  return file;
}

const shortRun = (store: string) => [
  ...["--nodes", "1", "--nemesis", "none", "--time-limit", "1", "--recovery", "0"],
  ...["--workload", "register", "--store", store],
];

describe("--runtime auto", async () => {
  beforeAll(() => new Promise<void>((resolve) => engine.listen(socket, resolve)));
  afterAll(() => new Promise<void>((resolve) => engine.close(() => resolve())));

  it("an engine answers but the backend cannot run in containers: local, saying why", async () => {
    const store = path.join(dir, "s1");
    const before = pings;
    const r = await runCliAsync(["test", "--backend", localOnlyDescriptor(), ...shortRun(store)], {
      env: { DOCKER_HOST: `unix://${socket}` },
    });
    expect(r.code, r.stderr).toBe(0);
    const first = r.stderr.split("\n")[0];
    expect(first).toBe(
      "runtime: local (backend local-only has no container command, files or image)",
    );
    const results = JSON.parse(readFileSync(path.join(store, "latest", "results.json"), "utf8"));
    expect(results).toMatchObject({ valid: true, runtime: "local", backend: "local-only" });
    // The backend alone decided: the engine was not even asked.
    expect(pings).toBe(before);
  });

  it("a backend that can run in containers, no engine at DOCKER_HOST: local, naming the socket", async () => {
    const store = path.join(dir, "s2");
    const before = pings;
    const r = await runCliAsync(["test", "--backend", "memory", ...shortRun(store)], {
      env: { DOCKER_HOST: `unix://${path.join(dir, "no-engine.sock")}` },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split("\n")[0]).toBe(
      `runtime: local (no Docker engine answers at unix://${path.join(dir, "no-engine.sock")})`,
    );
    expect(pings).toBe(before);
  });

  it("the same backend with the stand-in engine answering would pick docker (it pings it)", async () => {
    // The stand-in answers only /_ping: the Docker runtime's first real call fails, exit 3,
    // after `auto` has said docker. What matters here is the choice and its line.
    const store = path.join(dir, "s3");
    const before = pings;
    const r = await runCliAsync(["test", "--backend", "memory", ...shortRun(store)], {
      env: { DOCKER_HOST: `unix://${socket}` },
    });
    expect(pings).toBeGreaterThan(before);
    expect(r.stderr.split("\n")[0]).toBe(`runtime: docker (engine at unix://${socket})`);
    expect(r.code).toBe(3);
  });

  it("--runtime docker for a backend with no container command, files or image: exit 3, one line", async () => {
    const r = await runCliAsync(
      ["test", "--backend", localOnlyDescriptor(), "--runtime", "docker", "--store", dir],
      { env: { DOCKER_HOST: `unix://${socket}` } },
    );
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toEqual([
      "paxos-harness: --runtime docker: backend local-only has no container command, files or image",
    ]);
  });
});
