#!/usr/bin/env node
// Builds the go-kv example node into examples/go-kv/bin/go-kv when it is missing or older than
// a source (*.go, go.mod); does nothing otherwise. Static (CGO_ENABLED=0): the Docker image
// built from backend.yaml's `files:` then needs no shared library. Without a Go toolchain it
// installs Debian's golang-go when run as root (saying so), else it stops with one line (exit 3).
// Used by the tests' set-up and by hand: `node examples/go-kv/build.mjs`.

import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { $ } from "zx";

$.verbose = false;
const here = path.dirname(fileURLToPath(import.meta.url));
const binary = path.join(here, "bin", "go-kv");

function say(line) {
  process.stdout.write(`go-kv: ${line}\n`);
}

/** Why the binary must be built (a source newer than it, or none yet), or undefined. */
function staleSource() {
  const sources = readdirSync(here)
    .filter((f) => f.endsWith(".go") || f === "go.mod")
    .map((f) => path.join(here, f));
  if (!existsSync(binary)) return "the binary is missing";
  const built = statSync(binary).mtimeMs;
  const newer = sources.find((f) => statSync(f).mtimeMs > built);
  return newer && `${path.basename(newer)} is newer`;
}

async function ensureGo() {
  if ((await $`command -v go`.nothrow()).exitCode === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error("needs a Go toolchain to build: apt-get install golang-go (as root)");
  }
  say("installing Debian's golang-go (no Go toolchain on this machine)");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    $({ env })`apt-get install -y -qq --no-install-recommends golang-go`.quiet().nothrow();
  if ((await install()).exitCode !== 0) {
    await $`apt-get update -qq`.quiet();
    const again = await install();
    if (again.exitCode !== 0) throw new Error(`apt-get install golang-go failed: ${again.stderr}`);
  }
}

async function main() {
  const stale = staleSource();
  if (stale === undefined) return;
  await ensureGo();
  const started = performance.now();
  // Stdlib only: nothing to download. The build cache next to the binary (HOME may be unset).
  const env = {
    ...process.env,
    CGO_ENABLED: "0",
    GOCACHE: process.env.GOCACHE ?? path.join(here, "bin", ".cache"),
  };
  const flags = ["-trimpath", "-ldflags=-s -w", "-o", binary];
  const r = await $({ cwd: here, env })`go build ${flags} .`.quiet().nothrow();
  if (r.exitCode !== 0) throw new Error(`go build failed:\n${r.stderr.trim()}`);
  const ms = Math.round(performance.now() - started);
  say(`built ${path.relative(process.cwd(), binary)} in ${ms} ms (${stale})`);
}

main().catch((err) => {
  process.stderr.write(`go-kv: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(3);
});
