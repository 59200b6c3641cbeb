// A root filesystem for a `FROM scratch` image: the listed binaries, every library `ldd` says
// they load, and extra files, staged in a folder with their absolute paths kept.
// No image can be pulled on our machines, so every image is built from what the host has.

import { createHash } from "node:crypto";
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { $ } from "zx";

export interface RootfsSpec {
  /** Host files whose shared libraries come along (node, iptables, ...). */
  binaries: string[];
  /** Host files copied as they are, to the same path. */
  files?: string[];
  /** Host folders copied to a path in the image: [host, image]. */
  trees?: [string, string][];
  /** Files written into the image: [image path, content]. */
  write?: [string, string][];
  /** Empty folders to create (e.g. /tmp). */
  dirs?: string[];
}

/** The shared libraries (and the loader) a binary needs, by `ldd`. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const out = (await $`ldd ${binary}`.quiet().nothrow()).stdout;
  const libs = new Set<string>();
  for (const line of out.split("\n")) {
    const m = line.match(/=>\s*(\/\S+)/) ?? line.match(/^\s*(\/\S+)\s+\(/);
    if (m?.[1]) libs.add(m[1]);
  }
  return [...libs];
}

/** Copies `host` to `<root><image>`, resolving symlinks, and also keeps the link's own path. */
function place(root: string, host: string, image = host): void {
  const target = path.join(root, image);
  mkdirSync(path.dirname(target), { recursive: true });
  copyFileSync(realpathSync(host), target);
}

function copyTree(root: string, host: string, image: string): void {
  for (const entry of readdirSync(host, { withFileTypes: true })) {
    const from = path.join(host, entry.name);
    const to = path.join(image, entry.name);
    if (entry.isDirectory()) copyTree(root, from, to);
    else if (entry.isFile()) place(root, from, to);
  }
}

/** Stages the root filesystem under `root`. */
export async function stageRootfs(root: string, spec: RootfsSpec): Promise<void> {
  for (const bin of spec.binaries) {
    place(root, bin);
    for (const lib of await sharedLibraries(bin)) place(root, lib);
  }
  for (const file of spec.files ?? []) {
    place(root, file);
    for (const lib of await sharedLibraries(file)) place(root, lib);
  }
  for (const [host, image] of spec.trees ?? []) copyTree(root, host, image);
  for (const [image, content] of spec.write ?? []) {
    const target = path.join(root, image);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  for (const dir of spec.dirs ?? []) mkdirSync(path.join(root, dir), { recursive: true });
}

/** A hash of every file under `dir` (paths and bytes), so an unchanged tree keeps its tag. */
export function treeHash(dir: string): string {
  const hash = createHash("sha256");
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = statSync(p);
      hash.update(`${path.relative(dir, p)}\0${st.isDirectory() ? "d" : st.mode.toString(8)}\0`);
      if (st.isDirectory()) walk(p);
      else hash.update(readFileSync(p));
    }
  };
  walk(dir);
  return hash.digest("hex");
}
