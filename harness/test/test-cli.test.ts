import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseHistory } from "../../checker/formats/index.js";
import { resolveConfig } from "../config.js";
import { fitInterval } from "../test-command.js";
import { NEMESIS_KINDS } from "../types.js";
import { ROOT, runCli } from "./run-cli.js";

const tmp = () => mkdtempSync(path.join(tmpdir(), "test-cli-"));

/** Points the harness at a socket where no engine answers, so that `auto` means local. */
const NO_ENGINE = { DOCKER_HOST: "unix:///nonexistent/docker.sock" };

describe("paxos-harness test: bad input", () => {
  it("a config YAML with a bad field: one line naming the file, the field and the value, exit 3", () => {
    const dir = tmp();
    const file = path.join(dir, "test.yaml");
    writeFileSync(file, "nodes: 3\nrate: fast\n");
    const r = runCli(["test", "--config", file]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toEqual([
      `paxos-harness: ${file}:2: rate: must be a number (got "fast")`,
    ]);
    expect(r.stderr).not.toMatch(/\bat \S+:\d+/);
  });

  it("an unknown field, malformed YAML, an unknown flag, a bad flag value: exit 3", () => {
    const dir = tmp();
    const unknown = path.join(dir, "unknown.yaml");
    writeFileSync(unknown, "nodez: 3\n");
    const a = runCli(["test", "--config", unknown]);
    expect(a.code).toBe(3);
    expect(a.stderr).toContain(`${unknown}: unknown field "nodez"`);
    const bad = path.join(dir, "bad.yaml");
    writeFileSync(bad, "nodes: [1\n");
    const b = runCli(["test", "--config", bad]);
    expect(b.code).toBe(3);
    expect(b.stderr).toContain(`${bad}:2: not valid YAML`);
    const c = runCli(["test", "--bogus"]);
    expect(c.code).toBe(3);
    expect(c.stderr).toContain("unknown option '--bogus'");
    const d = runCli(["test", "--nemesis", "partition,flood"]);
    expect(d.code).toBe(3);
    expect(d.stderr).toContain('--nemesis: unknown nemesis "flood"');
    const e = runCli(["test", "--runtime", "docker"], { env: NO_ENGINE });
    expect(e.code).toBe(3);
    expect(e.stderr).toContain(
      "--runtime docker: no Docker engine answers at /nonexistent/docker.sock",
    );
  });

  it("flags win over the file; the file's fields are used otherwise", () => {
    const c = resolveConfig(
      { nodes: "3", rate: undefined },
      { path: "t.yaml", fields: { nodes: 7, rate: 50, workload: "set", nemesis: ["kill"] } },
    );
    expect(c).toMatchObject({ nodes: 3, rate: 50, workload: "set", nemesis: ["kill"], keys: 1 });
    expect(c.name).toBe("builtin-set");
    const d = resolveConfig({});
    expect(d).toMatchObject({
      backend: "builtin",
      runtime: "auto",
      nodes: 5,
      workload: "kv",
      nemesis: ["partition", "kill", "pause"],
      nemesisInterval: 10,
      timeLimit: 60,
      rate: 200,
      concurrency: 10,
      keys: 10,
    });
    expect(Number.isInteger(d.seed)).toBe(true);
    expect(resolveConfig({ nemesis: "all" }).nemesis).toEqual([...NEMESIS_KINDS]);
    expect(resolveConfig({ nemesis: "none" }).nemesis).toEqual([]);
    // A bad value from a flag names the flag, even when the file has the field too.
    expect(() => resolveConfig({ nodes: "0" }, { path: "t.yaml", fields: { nodes: 3 } })).toThrow(
      '--nodes: must be at least 1 (got "0")',
    );
  });
});

describe("paxos-harness test: a run through the CLI (local runtime, memory backend)", () => {
  it("runs with the file's settings and the flags over them, and exits 0", () => {
    const dir = tmp();
    const file = path.join(dir, "test.yaml");
    writeFileSync(
      file,
      "backend: memory\nnemesis: none\nnodes: 5\ntime-limit: 1\nrecovery: 0\nworkload: register\n",
    );
    const store = path.join(dir, "store");
    const r = runCli(["test", "--config", file, "--nodes", "3", "--store", store], {
      env: NO_ENGINE,
    });
    expect(r.stderr).toContain(
      "runtime: local (no Docker engine answers at unix:///nonexistent/docker.sock)",
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("VALID");
    const results = JSON.parse(readFileSync(path.join(store, "latest", "results.json"), "utf8"));
    expect(results).toMatchObject({
      valid: true,
      nodes: 3,
      workload: "register",
      backend: "memory",
    });
    expect(r.stdout).toContain(path.join(store, "memory-register"));
  });

  it("Ctrl-C (SIGINT): nodes stopped, the history so far checked and kept", async () => {
    const dir = tmp();
    const store = path.join(dir, "store");
    const child = spawn(
      process.execPath,
      [
        ...["--import", "tsx", path.join(ROOT, "harness/main.ts"), "test", "--backend", "memory"],
        ...["--nemesis", "none", "--nodes", "3", "--time-limit", "60", "--store", store],
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    const history = path.join(store, "latest", "history.jsonl");
    const deadline = Date.now() + 30_000;
    while (!(existsSync(history) && readFileSync(history, "utf8").split("\n").length > 20)) {
      if (Date.now() > deadline) throw new Error("no history within 30 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    const began = Date.now();
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(Date.now() - began).toBeLessThan(15_000);
    // Not a pass: 2 (unknown), though the history so far is linearizable.
    expect(code).toBe(2);
    expect(stdout).toContain("UNKNOWN: interrupted; the history so far is linearizable");
    const results = JSON.parse(readFileSync(path.join(store, "latest", "results.json"), "utf8"));
    expect(results.interrupted).toBe(true);
    expect(results.valid).toBe("unknown");
    expect(results.checker.result).toBe("ok");
    const text = readFileSync(history, "utf8");
    const parsed = parseHistory(text, history, "jsonl");
    expect(parsed.ops.length).toBeGreaterThan(0);
    const invokes = text.split("\n").filter((l) => l.includes('"type":"invoke"')).length;
    expect(invokes).toBe(results.ops.invoke);
  });
});

describe("the default nemesis interval", () => {
  const fitted = (over: Record<string, unknown>) => {
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((t: string) => written.push(t) > 0) as typeof write;
    try {
      return { config: fitInterval(resolveConfig(over)), written: written.join("") };
    } finally {
      process.stderr.write = write;
    }
  };

  it("is shortened, saying so, when the run is too short for every kind to get its turn", () => {
    const { config, written } = fitted({ "time-limit": 20 });
    expect(config.nemesis).toHaveLength(3);
    expect(config.nemesisInterval).toBe(5);
    expect(written).toBe(
      "nemesis interval: 5 s (the default 10 s, shortened so that each of 3 kinds gets its turn in 20 s)\n",
    );
  });

  it("is kept when every kind fits, when it was given, and without faults", () => {
    expect(fitted({ "time-limit": 60 }).config.nemesisInterval).toBe(10);
    const given = fitted({ "time-limit": 20, "nemesis-interval": 10 });
    expect(given.config.nemesisInterval).toBe(10);
    expect(given.written).toBe("");
    expect(fitted({ "time-limit": 20, nemesis: "none" }).config.nemesisInterval).toBe(10);
  });
});
