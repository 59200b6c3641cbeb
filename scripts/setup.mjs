#!/usr/bin/env node
// The set-up behind the README's two commands (`npm start`, `npm test`) on a machine of this
// kind (Node.js 20, Debian): the Debian packages the command needs, installed when missing and
// run as root (one line: `setup: installing iptables libfaketime (apt-get)`, after one
// `apt-get update`); the Docker engine started when the command's runtime needs one (through
// docker/engine.ts, compiled in dist/). Not root: one line naming what is missing and the
// command that installs it, and the command goes on with what the machine has.
//
// Fast when everything is present: the checks are file look-ups in this process (no child
// process, no zx) and one /_ping on the engine's socket; zx is loaded only to install.
//
//   node scripts/setup.mjs start|test [the command's arguments]

import { accessSync, constants, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * libfaketime's library, where Debian puts it (harness/runtime/faketime.ts's FAKETIME_LIBRARIES
 * looks in the same places; this script cannot import TypeScript).
 */
const FAKETIME_LIBRARIES = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
  "/usr/lib/faketime/libfaketimeMT.so.1",
];

/**
 * Debian's packages the project uses: how to tell one is installed, what it is for, and which
 * command needs it (`start`: the local runtime's faults; `test`: what the tests run for real).
 */
export const PACKAGES = [
  { name: "iptables", binary: "iptables", for: "partition and loss faults", in: ["start", "test"] },
  { name: "iproute2", binary: "ip", for: "network namespaces", in: ["start", "test"] },
  { name: "libfaketime", files: FAKETIME_LIBRARIES, for: "clock faults", in: ["start", "test"] },
  { name: "chromium", binary: "chromium", for: "the HTML page tests", in: ["test"] },
  { name: "docker.io", binary: "dockerd", for: "the Docker runtime", in: ["test", "docker"] },
  { name: "golang-go", binary: "go", for: "the go-kv example's tests", in: ["test"] },
  {
    name: "python3",
    files: ["/usr/bin/python3"],
    for: "the Maelstrom examples' tests",
    in: ["test"],
  },
  { name: "etcd-server", binary: "etcd", for: "the etcd backend", in: ["test", "etcd"] },
  { name: "fuse3", binary: "fusermount3", for: "the power-loss fault", in: ["start", "test"] },
  {
    name: "libfuse3-dev",
    files: ["/usr/include/fuse3/fuse.h"],
    for: "the power-loss fault",
    in: ["start", "test"],
  },
  { name: "pkg-config", binary: "pkg-config", for: "the power-loss fault", in: ["start", "test"] },
  {
    name: "zookeeper",
    files: ["/usr/share/java/zookeeper.jar"],
    for: "the ZooKeeper backend's tests",
    in: ["test"],
  },
];

/** Backends whose nodes are a Debian package's program (`--backend NAME`): that package's scope. */
const BACKEND_SCOPES = { etcd: "etcd", "etcd-serializable": "etcd" };

/**
 * `start` with `--runtime docker` also needs the engine; `test` always (the Docker tests).
 * `start --backend etcd` also needs etcd-server.
 */
export function needs(command, args) {
  const runtime = flagValue(args, "--runtime");
  const scopes = [command];
  if (command === "test" || runtime === "docker") scopes.push("docker");
  const backendScope = BACKEND_SCOPES[flagValue(args, "--backend") ?? ""];
  if (backendScope !== undefined) scopes.push(backendScope);
  return {
    packages: PACKAGES.filter((p) => p.in.some((s) => scopes.includes(s))),
    engine: scopes.includes("docker"),
  };
}

function flagValue(args, flag) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i].startsWith(`${flag}=`)) return args[i].slice(flag.length + 1);
  }
  return undefined;
}

/** Where executables are looked for: PATH, and the sbin folders a non-root PATH leaves out. */
function searchPath() {
  const dirs = (process.env.PATH ?? "").split(":").filter(Boolean);
  if (process.getuid?.() !== 0) dirs.push("/usr/sbin", "/sbin");
  return dirs;
}

function hasBinary(name, dirs) {
  return dirs.some((d) => {
    try {
      accessSync(path.join(d, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function installed(pkg, dirs = searchPath()) {
  if (pkg.binary !== undefined) return hasBinary(pkg.binary, dirs);
  return pkg.files.some((f) => existsSync(f));
}

function say(line) {
  process.stderr.write(`setup: ${line}\n`);
}

class SetupError extends Error {}

async function aptInstall(names) {
  const { $ } = await import("zx");
  $.verbose = false;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  say(`installing ${names.join(" ")} (apt-get)`);
  const update = await $({ env })`apt-get update -qq`.quiet().nothrow();
  if (update.exitCode !== 0) throw new SetupError(`apt-get update failed: ${lastLine(update)}`);
  const install = await $({ env })`apt-get install -y -qq --no-install-recommends ${names}`
    .quiet()
    .nothrow();
  if (install.exitCode !== 0) {
    throw new SetupError(`apt-get install ${names.join(" ")} failed: ${lastLine(install)}`);
  }
}

function lastLine(result) {
  const text = `${result.stderr}\n${result.stdout}`.trim().split("\n");
  return text[text.length - 1] || `exit ${result.exitCode}`;
}

/** dist/ is what `npm ci` builds (`prepare`); the CLI and the engine start run from it. */
async function ensureBuilt() {
  if (existsSync(path.join(ROOT, "dist", "harness", "main.js"))) return;
  say("building dist/ (npm run build)");
  const { $ } = await import("zx");
  const r = await $({ cwd: ROOT })`npm run build --silent`.quiet().nothrow();
  if (r.exitCode !== 0) throw new SetupError(`npm run build failed: ${lastLine(r)}`);
}

async function ensureEngine(root) {
  const dist = path.join(ROOT, "dist", "docker");
  const { engineAnswers } = await import(pathToFileURL(path.join(dist, "engine-ping.js")).href);
  if (await engineAnswers(undefined, 1000)) return;
  if (!root) {
    say("no Docker engine answers; as root: npm run docker:engine (the Docker tests skip)");
    return;
  }
  // docker/engine.ts starts dockerd (never a second one) and waits for its socket.
  const { $ } = await import("zx");
  const r = await $({ stdio: ["ignore", "inherit", "inherit"] })`${process.execPath} ${path.join(
    dist,
    "engine.js",
  )}`.nothrow();
  if (r.exitCode !== 0) throw new SetupError("the Docker engine did not start (see above)");
}

/**
 * Installs (root) or names (not root) what `command` needs. Resolves to what is still missing:
 * empty once everything is in place.
 */
export async function setup(command, args = []) {
  const want = needs(command, args);
  const root = process.getuid?.() === 0;
  const dirs = searchPath();
  let missing = want.packages.filter((p) => !installed(p, dirs));
  if (missing.length > 0 && root) {
    await aptInstall(missing.map((p) => p.name));
    missing = missing.filter((p) => !installed(p, searchPath()));
    if (missing.length > 0) {
      throw new SetupError(`apt-get installed, yet ${names(missing)} still missing`);
    }
  }
  if (missing.length > 0) {
    const what = missing.map((p) => `${p.name} (${p.for})`).join(", ");
    say(`missing ${what}; as root: apt-get install ${names(missing)}`);
  }
  await ensureBuilt();
  if (
    want.engine &&
    installed(
      PACKAGES.find((p) => p.name === "docker.io"),
      searchPath(),
    )
  ) {
    await ensureEngine(root);
  }
  return missing;
}

function names(packages) {
  return packages.map((p) => p.name).join(" ");
}

/** Runs setup as a command: one line and exit 3 when it fails. */
export async function setupOrExit(command, args) {
  try {
    return await setup(command, args);
  } catch (err) {
    say(err instanceof Error ? err.message : String(err));
    process.exit(3);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [command, ...args] = process.argv.slice(2);
  if (command !== "start" && command !== "test") {
    say("usage: node scripts/setup.mjs start|test [arguments]");
    process.exit(3);
  }
  await setupOrExit(command, args);
}
