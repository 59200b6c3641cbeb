import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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
      /protocol: no protocol "grpc" \(known: http-kv/,
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
    [
      "an option the protocol does not take",
      { name: "x", protocol: "http-kv", options: { reads: "fast" }, local: { command: "a" } },
      /x-4\.yaml: options\.reads: http-kv takes no options/,
    ],
  ])("rejects %s, naming the file and the field", (_what, doc, pattern) => {
    const n = [
      "no local command",
      "another protocol",
      "an unknown field",
      "a bad name",
      "an option the protocol does not take",
    ].indexOf(_what);
    const file = write(`x-${n}.yaml`, doc);
    expect(() => loadBackendDescriptor(file)).toThrow(pattern);
  });

  it("write: files filled per node before each start ({n}, {peer_port+1}, {peer_lines})", () => {
    const file = write("conf.yaml", {
      name: "conf",
      protocol: "http-kv",
      local: { command: "/bin/true", args: ["{data_dir}/node.conf"] },
      peer: "server.{n}={host}:{peer_port}:{peer_port+1}",
      start_timeout: 45,
      write: {
        "{data_dir}/node.conf": "me={n} at {host}\n{peer_lines}\n",
        "id.txt": "{n}",
      },
    });
    const backend = loadBackendDescriptor(file);
    expect(backend.startTimeoutMs).toBe(45_000);
    const cmd = backend.localCommand(cluster[1] as NodeSpec, cluster);
    expect(cmd.files).toEqual([
      {
        path: "/data/n2/node.conf",
        text: "me=2 at 127.0.9.2\nserver.1=127.0.9.1:7001:7002\nserver.2=127.0.9.2:7002:7003\n",
      },
      // A relative path is in the node's data dir; the text as written, nothing added.
      { path: "/data/n2/id.txt", text: "2" },
    ]);
    // Without write:, a command has no files (and no start_timeout: the runtime's default).
    const plain = loadBackendDescriptor(
      write("plain.yaml", { name: "p", protocol: "http-kv", local: { command: "a" } }),
    );
    expect(plain.localCommand(cluster[0] as NodeSpec, cluster).files).toBeUndefined();
    expect(plain.startTimeoutMs).toBeUndefined();
  });

  it.each([
    ["w-0", { write: { a: 1 } }, /w-0\.yaml: write\.a /],
    ["w-1", { write: ["a"] }, /w-1\.yaml: write must map file paths to texts/],
    [
      "w-2",
      { write: { a: "x" }, container: { command: "/bin/true" } },
      /w-2\.yaml: write: is for the local runtime only .*: drop container or write/,
    ],
    ["w-3", { start_timeout: 0 }, /w-3\.yaml: start_timeout must be more than 0 seconds/],
    ["w-4", { start_timeout: "long" }, /w-4\.yaml: start_timeout must be a number of seconds/],
  ])(
    "rejects a bad write: or start_timeout (%s), naming the file and the field",
    (name, extra, pattern) => {
      const doc = { name: "x", protocol: "http-kv", local: { command: "a" }, ...extra };
      expect(() => loadBackendDescriptor(write(`${name}.yaml`, doc))).toThrow(pattern);
    },
  );

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

  describe("files: and image: (what goes into the nodes' image under Docker)", () => {
    const program = path.join(dir, "bin", "kv-node");
    mkdirSync(path.dirname(program), { recursive: true });
    writeFileSync(program, "#!/bin/sh\n");
    chmodSync(program, 0o755);
    mkdirSync(path.join(dir, "conf"), { recursive: true });
    const local = { command: "./bin/kv-node", args: ["--id={id}", "--peers={peers}"] };

    it("files: the local command runs in the container too, at its host path", () => {
      const file = write("files.yaml", {
        name: "files-kv",
        protocol: "http-kv",
        local,
        files: ["./bin/kv-node", "conf"],
      });
      const backend = loadBackendDescriptor(file);
      expect(backend.nodeImage).toEqual({
        kind: "files",
        files: [program, path.join(dir, "conf")],
      });
      const inContainer = backend.containerCommand?.(cluster[1] as NodeSpec, cluster);
      expect(inContainer).toEqual(backend.localCommand(cluster[1] as NodeSpec, cluster));
      expect(inContainer?.command).toBe(program);
      expect(inContainer?.args).toEqual(["--id=n2", "--peers=n1=127.0.9.1:7001,n2=127.0.9.2:7002"]);
    });

    it("files: a container command, when given, is the one run in the image", () => {
      const file = write("files-container.yaml", {
        name: "fc",
        protocol: "http-kv",
        local: { command: "/usr/bin/false" },
        container: { command: "./bin/kv-node", args: ["{id}"] },
        files: ["./bin"],
      });
      const cmd = loadBackendDescriptor(file).containerCommand?.(cluster[0] as NodeSpec, cluster);
      expect(cmd).toMatchObject({ command: program, args: ["n1"] });
    });

    it("image: an engine image, with the local command line inside it", () => {
      const file = write("image.yaml", {
        name: "img",
        protocol: "http-kv",
        local: { command: "/usr/local/bin/kv", args: ["{id}"] },
        image: "my-kv:1.0",
      });
      const backend = loadBackendDescriptor(file);
      expect(backend.nodeImage).toEqual({ kind: "image", image: "my-kv:1.0" });
      expect(backend.containerCommand?.(cluster[0] as NodeSpec, cluster)).toMatchObject({
        command: "/usr/local/bin/kv",
        args: ["n1"],
      });
    });

    it.each([
      [
        "a missing path",
        { local, files: ["./bin/kv-node", "./nope"] },
        /files\.1: .*nope does not exist/,
      ],
      [
        "a command that is not executable",
        { local: { command: "./data.txt" }, files: ["./data.txt"] },
        /files\.0: .*data\.txt is not executable \(it is local\.command\)/,
      ],
      [
        "a command that is not among the files",
        { local: { command: "/usr/bin/env" }, files: ["./bin/kv-node"] },
        /local\.command: \/usr\/bin\/env is not in files/,
      ],
      [
        "a command not written as a path of files",
        { local: { command: "bin/kv-node" }, files: ["./bin/kv-node"] },
        /local\.command: bin\/kv-node is not in files/,
      ],
      [
        "files and image both",
        { local, files: ["./bin/kv-node"], image: "x:1" },
        /files and image: give one/,
      ],
      ["an empty files list", { local, files: [] }, /files must list at least one path/],
      ["an empty image", { local, image: "" }, /image must not be empty/],
    ])("rejects %s, naming the file and the field", (what, fields, pattern) => {
      writeFileSync(path.join(dir, "data.txt"), "not a program\n");
      const file = write(`bad-${what.replace(/\W+/g, "-")}.yaml`, {
        name: "bad",
        protocol: "http-kv",
        ...fields,
      });
      expect(() => loadBackendDescriptor(file)).toThrow(pattern);
      expect(() => loadBackendDescriptor(file)).toThrow(file);
    });

    it("a bad files: entry through the CLI: one line naming it, exit 3, before any run", () => {
      const file = write("missing-file.yaml", {
        name: "mf",
        protocol: "http-kv",
        local: { command: "./bin/absent-node" },
        files: ["./bin/absent-node"],
      });
      const store = path.join(dir, "s-files");
      const r = runCli(["test", "--backend", file, "--runtime", "local", "--store", store]);
      expect(r.code).toBe(3);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(
        `paxos-harness: --backend ${file}: ${file}: files.0: ${path.join(dir, "bin/absent-node")} does not exist`,
      );
    });
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
