// The project's image: Node.js and the libraries it loads, the compiled project (dist/) at
// /app/dist, libfaketime for clock faults, and iptables (nf_tables, with its extensions) for
// the network helper container. One image serves every node of the built-in backends and the
// privileged helper, so one build (about 2 s, then cached by content) covers a run.

import { existsSync, readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import type { ImageRecipe } from "./images.js";

/**
 * The npm packages the built-in node (node/) imports at run time: they and what they depend on
 * (from package-lock.json) go into the image's /app/node_modules. Nothing else of node_modules
 * does (dockerode, zx, the test tools stay out). A test keeps this list and node/'s imports equal.
 */
export const NODE_RUNTIME_PACKAGES = ["pino"];

export const PROJECT_IMAGE = "paxos-harness";
export const FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
const XTABLES = "/usr/lib/x86_64-linux-gnu/xtables";
/** The host's iptables, copied into the image for the network helper. */
export const IPTABLES_BINARY =
  ["/usr/sbin/iptables", "/sbin/iptables"].find((p) => existsSync(p)) ?? "/usr/sbin/iptables";

/** Where the compiled project lives inside the image. */
export const IMAGE_DIST = "/app/dist";
/** Node.js inside the image: at its host path (its realpath), as the rootfs copies it. */
export const IMAGE_NODE = realpathSync(process.execPath);

export function projectImageRecipe(root: string): ImageRecipe {
  const dist = path.join(root, "dist");
  if (!existsSync(path.join(dist, "node"))) {
    throw new Error(`${dist} has no compiled node: run \`npm run build\` first`);
  }
  const binaries = [IMAGE_NODE];
  const files: string[] = [];
  const trees: [string, string][] = [[dist, IMAGE_DIST]];
  if (existsSync(IPTABLES_BINARY)) files.push(IPTABLES_BINARY);
  if (existsSync(XTABLES)) trees.push([XTABLES, XTABLES]);
  if (existsSync(FAKETIME_LIB)) files.push(FAKETIME_LIB);
  for (const pkg of runtimePackages(root, NODE_RUNTIME_PACKAGES)) {
    trees.push([path.join(root, "node_modules", pkg), path.join("/app/node_modules", pkg)]);
  }
  return {
    name: PROJECT_IMAGE,
    rootfs: {
      binaries,
      files,
      trees,
      // The compiled files are ES modules.
      write: [["/app/package.json", '{"type":"module"}\n']],
      dirs: ["/tmp", "/data", "/clock", "/run"],
    },
    entrypoint: [IMAGE_NODE],
  };
}

/** These packages and every package they depend on, by name, as package-lock.json has them. */
export function runtimePackages(root: string, names: readonly string[]): string[] {
  const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dependencies?: Record<string, string> }>;
  };
  const seen = new Set<string>();
  const stack = [...names];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (seen.has(name)) continue;
    const entry = lock.packages[`node_modules/${name}`];
    if (entry === undefined) throw new Error(`package-lock.json has no ${name}: run \`npm ci\``);
    seen.add(name);
    stack.push(...Object.keys(entry.dependencies ?? {}));
  }
  return [...seen].sort();
}
