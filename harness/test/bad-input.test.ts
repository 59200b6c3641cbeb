// Issue 13's tour of bad inputs, the CLI side: each defect found there, tried again. Durations
// past their bound, typos in the nemesis list, a store that cannot be written, DOCKER_HOST not
// a unix socket, a closed pipe, --version, `npm run sim -- --help`, and what `check` loads.

import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type Field, resolveConfig } from "../config.js";
import { MAX_SECONDS } from "../limits.js";
import { ROOT, runCli } from "./run-cli.js";

const tmp = () => mkdtempSync(path.join(tmpdir(), "bad-input-"));
const NO_ENGINE = { DOCKER_HOST: "unix:///nonexistent/docker.sock" };
const isRoot = process.getuid?.() === 0;
/** A short local run of the memory backend: what the store and runtime tests need. */
const SHORT = ["--backend", "memory", "--nodes", "1", "--time-limit", "0.5", "--recovery", "0"];

describe("durations have an upper bound, and the error names the flag", () => {
  const bounds: [Field, number][] = [
    ["op-timeout", MAX_SECONDS.opTimeout],
    ["nemesis-interval", MAX_SECONDS.nemesisInterval],
    ["recovery", MAX_SECONDS.recovery],
    ["time-limit", MAX_SECONDS.timeLimit],
    ["check-timeout", MAX_SECONDS.checkTimeout],
  ];

  it("every bound is below where Node's timers overflow (2^31-1 ms)", () => {
    for (const [, max] of bounds) expect(max * 1000).toBeLessThan(2 ** 31 - 1);
  });

  for (const [field, max] of bounds) {
    it(`--${field}: 1e9 is refused; ${max} is accepted`, () => {
      expect(() => resolveConfig({ [field]: "1e9" })).toThrow(
        `--${field}: must be at most ${max} seconds (got "1e9")`,
      );
      expect(() => resolveConfig({ [field]: String(max) })).not.toThrow();
      // From a file, the error names the file and the field.
      expect(() => resolveConfig({}, { path: "t.yaml", fields: { [field]: 1e9 } })).toThrow(
        `t.yaml: ${field}: must be at most ${max} seconds`,
      );
    });
  }

  it("--rate: at least 0.01 ops/s (a worker's wait stays within the timers' range)", () => {
    expect(() => resolveConfig({ rate: "1e-9" })).toThrow(
      '--rate: must be at least 0.01 operations per second (got "1e-9")',
    );
    expect(resolveConfig({ rate: "0.01" }).rate).toBe(0.01);
  });

  it("through the CLI: one line, exit 3", () => {
    const r = runCli(["test", "--op-timeout", "1e9"], { env: NO_ENGINE });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toEqual([
      `paxos-harness: --op-timeout: must be at most ${MAX_SECONDS.opTimeout} seconds (got "1e9")`,
    ]);
  });
});

describe("the nemesis list", () => {
  it("an empty list or item is refused, not taken for no faults", () => {
    for (const given of ["", "partition,,kill", "kill,", " , "]) {
      expect(() => resolveConfig({ nemesis: given }), JSON.stringify(given)).toThrow(
        "--nemesis: is empty or has an empty item",
      );
    }
    expect(() => resolveConfig({}, { path: "t.yaml", fields: { nemesis: [] } })).toThrow(
      "t.yaml: nemesis: is empty or has an empty item",
    );
  });

  it("none and all stand alone", () => {
    expect(() => resolveConfig({ nemesis: "none,kill" })).toThrow(
      '--nemesis: "none" stands alone; it cannot be listed with other kinds (got "none,kill")',
    );
    expect(() => resolveConfig({ nemesis: "kill,all" })).toThrow('"all" stands alone');
    expect(resolveConfig({ nemesis: "none" }).nemesis).toEqual([]);
  });

  it("through the CLI: `--nemesis ''` is one line, exit 3", () => {
    const r = runCli(["test", "--nemesis", ""], { env: NO_ENGINE });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("--nemesis: is empty or has an empty item");
  });

  it("the default kinds are marked as such, so the glue may narrow them to the machine's", () => {
    expect(resolveConfig({}).nemesisDefault).toBe(true);
    expect(resolveConfig({ nemesis: "partition,kill,pause" }).nemesisDefault).toBe(false);
    const file = { path: "t.yaml", fields: { nemesis: "kill" } };
    expect(resolveConfig({}, file).nemesisDefault).toBe(false);
  });
});

/** The CLI from source as user nobody (root only: setpriv drops to it); `home` is its HOME. */
function runAsNobody(args: string[], home: string) {
  const r = spawnSync(
    "/usr/bin/setpriv",
    [
      ...["--reuid=65534", "--regid=65534", "--clear-groups"],
      ...[process.execPath, "--import", "tsx", path.join(ROOT, "harness/main.ts"), ...args],
    ],
    {
      cwd: ROOT,
      env: { ...process.env, ...NO_ENGINE, HOME: home },
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe("--store that cannot be written", () => {
  it("a file in the way: one line naming --store and the path, exit 3", () => {
    const dir = tmp();
    writeFileSync(path.join(dir, "file"), "");
    const store = path.join(dir, "file", "store");
    const r = runCli(["test", ...SHORT, "--store", store], { env: NO_ENGINE });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      new RegExp(
        `^paxos-harness: --store ${store}: cannot create the run's folder .* \\(ENOTDIR\\)$`,
        "m",
      ),
    );
    expect(r.stderr).not.toContain("internal error");
  });

  it.skipIf(!isRoot && process.env.CI !== "true")(
    "a read-only folder (as a user who cannot write it): exit 3, naming it",
    () => {
      const dir = tmp();
      chmodSync(dir, 0o777);
      const store = path.join(dir, "ro");
      mkdirSync(store, { mode: 0o555 });
      chmodSync(store, 0o555);
      const r = runAsNobody(["test", ...SHORT, "--nemesis", "none", "--store", store], dir);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(
        new RegExp(
          `paxos-harness: --store ${store}: cannot create the run's folder .* \\(EACCES\\)`,
        ),
      );
      expect(r.stderr).not.toContain("internal error");
    },
  );
});

describe("a machine without what a default fault needs", () => {
  it.skipIf(!isRoot && process.env.CI !== "true")(
    "not root: the default faults run without partition, naming it and why (no exit 3)",
    () => {
      const dir = tmp();
      chmodSync(dir, 0o777);
      const args = [...SHORT, "--time-limit", "2", "--nemesis-interval", "1"];
      const r = runAsNobody(["test", ...args, "--store", path.join(dir, "store")], dir);
      expect(r.stderr).toMatch(
        /^nemesis \(default partition,kill,pause\): kill,pause; left out on this machine: partition \(.*root/m,
      );
      expect(r.code, r.stderr).toBe(0);
      const results = JSON.parse(
        readFileSync(path.join(dir, "store", "latest", "results.json"), "utf8"),
      );
      expect(results.nemesis).toEqual(["kill", "pause"]);
    },
  );
});

describe("--runtime auto with DOCKER_HOST not a unix socket", () => {
  it("one line saying why local, and no default-socket line", () => {
    const store = tmp();
    const r = runCli(["test", ...SHORT, "--nemesis", "none", "--store", store], {
      env: { DOCKER_HOST: "tcp://127.0.0.1:9" },
    });
    expect(r.stderr.split("\n")[0]).toBe(
      "runtime: local (DOCKER_HOST=tcp://127.0.0.1:9 is not a unix socket; only local engines are supported)",
    );
    expect(r.stderr).not.toContain("/var/run/docker.sock");
    expect(r.stderr).not.toContain("ECONNREFUSED");
    expect(r.code, r.stderr).toBe(0);
  });
});

describe("small things", () => {
  it("--version prints package.json's version", () => {
    const version = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
    const r = runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it("doctor into a pipe closed early exits quietly (no EPIPE stack trace)", () => {
    // `true` exits before the CLI writes its first line: every write meets a closed pipe.
    const cli = `${JSON.stringify(process.execPath)} --import tsx harness/main.ts doctor`;
    const r = spawnSync("bash", ["-o", "pipefail", "-c", `${cli} | true`], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("`npm run sim -- --help` prints the usage instead of running the simulation", () => {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "node/sim/cli.ts"), "--help"],
      { cwd: ROOT, encoding: "utf8", timeout: 30_000 },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run sim -- /);
    expect(r.stdout).toContain("--seeds N");
    expect(r.stdout).not.toMatch(/passed, \d+ failed/);
  });
});

describe("the CLI loads only what a command needs", () => {
  /** The URLs of every module the CLI resolved while running these arguments. */
  function loaded(args: string[]): string[] {
    const dir = tmp();
    const log = path.join(dir, "loaded.txt");
    writeFileSync(
      path.join(dir, "hooks.mjs"),
      `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + "\\n");
  return r;
}
`,
    );
    writeFileSync(
      path.join(dir, "register.mjs"),
      `import { register } from "node:module";
register(${JSON.stringify(`file://${path.join(dir, "hooks.mjs")}`)});
`,
    );
    // Ours after tsx's: it sees what tsx resolved (the .ts files of the source).
    const r = spawnSync(
      process.execPath,
      [
        ...["--import", "tsx", "--import", path.join(dir, "register.mjs")],
        ...[path.join(ROOT, "harness/main.ts"), ...args],
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(log, "utf8").split("\n").filter(Boolean);
  }

  const HEAVY = [
    /node_modules\/dockerode\//,
    /node_modules\/zx\//,
    /node_modules\/zod\//,
    /node_modules\/yaml\//,
    /\/harness\/(runtime|nemesis|relay|backends)\//,
    /\/harness\/(runner|test-command|doctor|config)\.ts$/,
    /\/docker\//,
  ];

  it("`check --help` and a check load neither commander, dockerode, zx, zod nor the harness's runtime", () => {
    const history = path.join(tmp(), "h.jsonl");
    writeFileSync(
      history,
      `${JSON.stringify({ process: 0, type: "invoke", f: "write", value: 1 })}\n${JSON.stringify({ process: 0, type: "ok", f: "write", value: 1 })}\n`,
    );
    for (const args of [
      ["check", "--help"],
      ["check", history],
    ]) {
      const urls = loaded(args);
      expect(urls.some((u) => u.endsWith("/harness/check-cli.ts"))).toBe(true);
      for (const heavy of [...HEAVY, /node_modules\/commander\//, /\/harness\/cli\.ts$/]) {
        expect(
          urls.filter((u) => heavy.test(u)),
          `${args.join(" ")}: ${heavy}`,
        ).toEqual([]);
      }
    }
  });

  it("`test` still loads its runtime (the check above would pass if nothing were logged)", () => {
    const urls = loaded(["test", "--help"]);
    expect(urls.some((u) => u.endsWith("/harness/test-command.ts"))).toBe(true);
    expect(urls.some((u) => /node_modules\/dockerode\//.test(u))).toBe(true);
  });
});
