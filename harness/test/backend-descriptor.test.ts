import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadBackendDescriptor } from "../backends/descriptor.js";
import { resolveBackend } from "../backends/index.js";
import type { NodeSpec } from "../types.js";
import { ROOT, runCli } from "./run-cli.js";

const dir = mkdtempSync(path.join(tmpdir(), "paxos-backend-"));
const write = (name: string, doc: unknown) => {
  const file = path.join(dir, name);
  writeFileSync(file, typeof doc === "string" ? doc : stringify(doc));
  return file;
};
const cluster: NodeSpec[] = [1, 2].map((i) => ({
  id: `n${i}`,
  host: `127.0.9.${i}`,
  httpPort: 8000 + i,
  peerPort: 7000 + i,
  dataDir: `/data/n${i}`,
}));

describe("backend descriptors (--backend PATH)", () => {
  it("fills the placeholders and resolves a relative command against the file", () => {
    const file = write("mine.yaml", {
      name: "mine",
      protocol: "http-kv",
      local: {
        command: "./bin/node",
        args: [
          "--id",
          "{id}",
          "--listen",
          "{host}:{http_port}",
          "--peers",
          "{peers}",
          "--data",
          "{data_dir}",
        ],
        env: { NODE_PORT: "{peer_port}" },
      },
    });
    const backend = resolveBackend(file);
    expect(backend.name).toBe("mine");
    expect(backend.containerCommand).toBeUndefined();
    const cmd = backend.localCommand(cluster[0] as NodeSpec, cluster);
    expect(cmd.command).toBe(path.join(dir, "bin/node"));
    expect(cmd.args).toEqual([
      "--id",
      "n1",
      "--listen",
      "127.0.9.1:8001",
      "--peers",
      "n1=127.0.9.1:7001,n2=127.0.9.2:7002",
      "--data",
      "/data/n1",
    ]);
    expect(cmd.env).toEqual({ NODE_PORT: "7001" });
  });

  it.each([
    [
      "no local command",
      { name: "x", protocol: "http-kv" },
      /x-0\.yaml: local must be a map with command/,
    ],
    [
      "another protocol",
      { name: "x", protocol: "grpc", local: { command: "a" } },
      /protocol must be "http-kv"/,
    ],
    [
      "an unknown field",
      { name: "x", protocol: "http-kv", local: { command: "a" }, extra: 1 },
      /x-2\.yaml: .*extra/,
    ],
    [
      "a bad name",
      { name: "no spaces", protocol: "http-kv", local: { command: "a" } },
      /name must be/,
    ],
  ])("rejects %s, naming the file and the field", (_what, doc, pattern) => {
    const n = ["no local command", "another protocol", "an unknown field", "a bad name"].indexOf(
      _what,
    );
    const file = write(`x-${n}.yaml`, doc);
    expect(() => loadBackendDescriptor(file)).toThrow(pattern);
  });

  it("a missing file is one line naming it", () => {
    expect(() => resolveBackend(path.join(dir, "nope.yaml"))).toThrow(
      /nope\.yaml: cannot read the backend descriptor: ENOENT/,
    );
  });

  it("runs a test of an outside backend described in a file (the memory node here)", () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const file = write("memory.yaml", {
      name: "outside-memory",
      protocol: "http-kv",
      local: {
        command: process.execPath,
        args: [
          ...["--import", tsx, path.join(ROOT, "harness/backends/memory-node.ts")],
          ...["--id", "{id}", "--host", "{host}", "--http-port", "{http_port}"],
          ...["--peer-port", "{peer_port}", "--data-dir", "{data_dir}", "--peers", "{peers}"],
        ],
      },
      peer: "{id}={host}:{http_port}",
    });
    const store = path.join(dir, "store");
    const r = runCli([
      ...[
        "test",
        "--backend",
        file,
        "--runtime",
        "local",
        "--nodes",
        "3",
        "--workload",
        "register",
      ],
      ...["--time-limit", "3", "--nemesis", "none", "--recovery", "1", "--store", store],
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const results = JSON.parse(readFileSync(path.join(store, "latest", "results.json"), "utf8"));
    expect(results.backend).toBe("outside-memory");
    expect(results.ops.ok).toBeGreaterThan(50);
  });

  it("a broken descriptor through the CLI: one line, exit 3", () => {
    const file = write("broken.yaml", "name: [unclosed\n");
    const r = runCli([
      "test",
      "--backend",
      file,
      "--runtime",
      "local",
      "--store",
      path.join(dir, "s2"),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("broken.yaml");
  });
});
