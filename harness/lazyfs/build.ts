// Compiles the lazyfs daemon (the C files beside this one) on first use, into a cache folder
// keyed by the sources' hash: <repo>/.cache/lazyfs/<sha>/lazyfs. A changed source builds a new
// binary; an unchanged one costs a hash. Concurrent builds (two test files, two runs) are safe:
// each compiles to a name of its own, then renames it into place.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A one-line reason the daemon cannot be built or mounted here. */
export class LazyFsUnavailableError extends Error {
  override readonly name = "LazyFsUnavailableError";
}

/** The repository: the folder above this file holding harness/lazyfs/lazyfs.c (from src or dist). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, "harness", "lazyfs", "lazyfs.c"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new LazyFsUnavailableError("lazyfs: its C sources are not found");
    dir = parent;
  }
}

function sourcesOf(root: string): string[] {
  const dir = path.join(root, "harness", "lazyfs");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".c") || f.endsWith(".h"))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The hash that names a build: every source's name and bytes. */
function sourceHash(sources: readonly string[]): string {
  const hash = createHash("sha256");
  for (const file of sources) hash.update(`${path.basename(file)}\0`).update(readFileSync(file));
  return hash.digest("hex").slice(0, 16);
}

function onPath(binary: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => {
    try {
      accessSync(path.join(dir, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Why the daemon cannot be built and mounted here, in one line naming what is missing and how
 * to install it; undefined when nothing is missing.
 */
export async function lazyFsUnavailable(): Promise<string | undefined> {
  if (!existsSync("/dev/fuse")) {
    return "lazyfs (the power-loss fault) needs /dev/fuse, the kernel's FUSE device, which this machine lacks";
  }
  const missing: string[] = [];
  if (!onPath("gcc")) missing.push("gcc");
  if (!onPath("pkg-config")) missing.push("pkg-config");
  if (!onPath("pkg-config") || !(await run("pkg-config", ["--exists", "fuse3"]).then(ok, no))) {
    missing.push("libfuse3-dev");
  }
  if (!onPath("fusermount3")) missing.push("fuse3");
  if (missing.length === 0) return undefined;
  const names = missing.join(" ");
  return (
    `lazyfs (the power-loss fault) needs ${names}, not installed: apt-get install ${names} ` +
    "(as root, `node scripts/setup.mjs test` installs them)"
  );
}

const ok = () => true;
const no = () => false;

/**
 * The path of the built daemon, building it when this source has not been built yet. Rejects
 * with a LazyFsUnavailableError (one line: what is missing and how to install it) when the
 * tools or libfuse3 are missing, or with the compiler's first error line.
 */
export async function buildLazyFs(): Promise<string> {
  const root = repoRoot();
  const sources = sourcesOf(root);
  const dir = path.join(root, ".cache", "lazyfs", sourceHash(sources));
  const binary = path.join(dir, "lazyfs");
  if (existsSync(binary)) return binary;
  const why = await lazyFsUnavailable();
  if (why !== undefined) throw new LazyFsUnavailableError(why);
  const flags = (await run("pkg-config", ["--cflags", "--libs", "fuse3"])).stdout
    .trim()
    .split(/\s+/);
  await mkdir(dir, { recursive: true });
  const temp = `${binary}.${process.pid}.${Date.now()}.tmp`;
  try {
    await run("gcc", [
      "-std=gnu11",
      "-O2",
      "-Wall",
      "-Wextra",
      "-o",
      temp,
      ...sources.filter((f) => f.endsWith(".c")),
      ...flags,
      "-lpthread",
    ]);
    await rename(temp, binary);
  } catch (error) {
    await rm(temp, { force: true });
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    const first = stderr.split("\n").find((l) => l.includes("error")) ?? stderr.split("\n")[0];
    throw new LazyFsUnavailableError(`lazyfs: gcc failed: ${first?.trim()}`);
  }
  return binary;
}
