// scripts/setup.mjs, the set-up behind `npm start` and `npm test`, run as a child process with a
// PATH of ours: a folder holding a stand-in apt-get (it records its arguments and "installs" a
// package by putting its executable in that folder) and bash (for zx). So the machine's real
// packages are never touched, and what is missing is what that PATH lacks.

import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SETUP = path.join(ROOT, "scripts", "setup.mjs");
const isRoot = process.getuid?.() === 0;

/** A folder for PATH with a stand-in apt-get; `failInstall`: its install exits 100. */
function stubPath(failInstall = false): { dir: string; calls: () => string[] } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "paxos-setup-"));
  chmodSync(dir, 0o755);
  const log = path.join(dir, "apt-get.log");
  writeFileSync(log, "");
  symlinkSync(execFileSync("bash", ["-c", "command -v bash"]).toString().trim(), `${dir}/bash`);
  const binaries: Record<string, string> = {
    iptables: "iptables",
    iproute2: "ip",
    chromium: "chromium",
    "docker.io": "dockerd",
    "golang-go": "go",
    "etcd-server": "etcd",
    fuse3: "fusermount3",
    "pkg-config": "pkg-config",
  };
  const installs = Object.entries(binaries)
    .map(
      ([pkg, bin]) =>
        `${pkg}) printf '#!/bin/sh\\n' > "${dir}/${bin}"; /bin/chmod +x "${dir}/${bin}";;`,
    )
    .join("\n      ");
  writeFileSync(
    path.join(dir, "apt-get"),
    `#!/bin/bash
echo "$*" >> "${log}"
[ "$1" = install ] || exit 0
${failInstall ? 'echo "E: Unable to locate package iptables" >&2; exit 100' : ""}
for p in "$@"; do
  case "$p" in
      ${installs}
  esac
done
`,
  );
  chmodSync(path.join(dir, "apt-get"), 0o755);
  const calls = () => readFileSync(log, "utf8").split("\n").filter(Boolean);
  return { dir, calls };
}

function runSetup(dir: string, args: string[], asNobody = false) {
  const command = asNobody ? "/usr/bin/setpriv" : process.execPath;
  const argv = asNobody
    ? ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, SETUP, ...args]
    : [SETUP, ...args];
  const r = spawnSync(command, argv, {
    env: { PATH: dir, HOME: os.tmpdir(), DOCKER_HOST: "unix:///nonexistent/docker.sock" },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe.skipIf(!isRoot && process.env.CI !== "true")("scripts/setup.mjs", () => {
  it("as root: installs what `start` needs in one apt-get install, after one update", () => {
    const stub = stubPath();
    const first = runSetup(stub.dir, ["start", "--time-limit", "5"]);
    expect(first.code, first.stderr).toBe(0);
    // libfaketime and libfuse3-dev are the machine's own (files, not on PATH).
    expect(first.stderr).toContain(
      "setup: installing iptables iproute2 fuse3 pkg-config (apt-get)",
    );
    expect(first.stderr.trim().split("\n")).toHaveLength(1);
    expect(stub.calls()).toEqual([
      "update -qq",
      "install -y -qq --no-install-recommends iptables iproute2 fuse3 pkg-config",
    ]);

    // Idempotent: everything is there now, so nothing is printed or run.
    const again = runSetup(stub.dir, ["start"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe("");
    expect(stub.calls()).toHaveLength(2);
  });

  it("as root: `start --runtime docker` also wants docker.io (a failed install: one line)", () => {
    const stub = stubPath(true);
    const r = runSetup(stub.dir, ["start", "--runtime=docker"]);
    expect(stub.calls()[1]).toBe(
      "install -y -qq --no-install-recommends iptables iproute2 docker.io fuse3 pkg-config",
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      "setup: apt-get install iptables iproute2 docker.io fuse3 pkg-config failed",
    );
  });

  it("as root: `start --backend etcd` also wants etcd-server", () => {
    const stub = stubPath(true);
    const r = runSetup(stub.dir, ["start", "--backend", "etcd"]);
    expect(stub.calls()[1]).toBe(
      "install -y -qq --no-install-recommends iptables iproute2 etcd-server fuse3 pkg-config",
    );
    expect(r.code).toBe(3);
  });

  it("a failed apt-get install is one line naming the packages, exit 3", () => {
    const stub = stubPath(true);
    const r = runSetup(stub.dir, ["start"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      "setup: apt-get install iptables iproute2 fuse3 pkg-config failed: " +
        "E: Unable to locate package iptables",
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("not root: names what is missing and the command that installs it, installs nothing", () => {
    const stub = stubPath();
    const r = runSetup(stub.dir, ["test"], true);
    expect(r.code, r.stderr).toBe(0);
    // iptables, ip and dockerd are found in /usr/sbin, which a non-root PATH leaves out.
    expect(r.stderr).toContain(
      "setup: missing chromium (the HTML page tests), golang-go (the go-kv example's tests), " +
        "etcd-server (the etcd backend), fuse3 (the power-loss fault), pkg-config (the power-loss " +
        "fault); as root: apt-get install chromium golang-go etcd-server fuse3 pkg-config",
    );
    expect(r.stderr).toContain("setup: no Docker engine answers; as root: npm run docker:engine");
    expect(stub.calls()).toEqual([]);
  });

  it("scripts/start.mjs: set-up (nothing missing here: silent), then `test` in the same process", () => {
    // `npm test`'s set-up is a superset of `npm start`'s, so nothing is missing by now.
    const store = mkdtempSync(path.join(os.tmpdir(), "paxos-start-"));
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, "scripts", "start.mjs"),
        ...["--backend", "memory", "--nodes", "1", "--time-limit", "0.5", "--recovery", "0"],
        ...["--nemesis", "none", "--runtime", "local", "--store", store],
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("setup:");
    expect(r.stderr).toContain("starting 1 memory node (local)");
    expect(r.stdout).toContain("memory-kv: VALID");
  });
});
