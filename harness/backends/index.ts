// Backends: how to start one node of a system under test. `resolveBackend(name)` looks a name
// up in BACKENDS; the built-in Paxos node registers itself there (registerBackend), as can any
// other http-kv implementation.

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { IMAGE_DIST, IMAGE_NODE } from "../../docker/project-image.js";
import { httpKvProtocol } from "../protocols/http-kv.js";
import type { Backend, NodeSpec, ProcessCommand } from "../types.js";
import { loadBackendDescriptor } from "./descriptor.js";

/** A backend factory by name. Extension point: add entries with registerBackend(). */
const BACKENDS = new Map<string, () => Backend>([
  ["builtin", () => builtinBackend()],
  ["memory", () => memoryBackend()],
  ["broken", () => memoryBackend({ broken: true })],
  ["zookeeper", () => zookeeperBackend("zookeeper.yaml")],
  ["zookeeper-sync", () => zookeeperBackend("zookeeper-sync.yaml")],
]);

export function registerBackend(name: string, make: () => Backend): void {
  BACKENDS.set(name, make);
}

export function backendNames(): string[] {
  return [...BACKENDS.keys()];
}

/**
 * The backend of this name, or described in the file at this path (a name with a `/` or a
 * .yaml/.yml/.json ending; see descriptor.ts). Throws naming the known ones when there is none.
 */
export function resolveBackend(name: string): Backend {
  if (name.includes("/") || /\.(ya?ml|json)$/.test(name)) return loadBackendDescriptor(name);
  const make = BACKENDS.get(name);
  if (make === undefined) {
    throw new Error(
      `no backend "${name}" (known: ${backendNames().join(", ")}, or a descriptor file)`,
    );
  }
  return make();
}

/** The built-in Multi-Paxos node (node/main.ts): the system under test by default. */
export function builtinBackend(): Backend {
  const args = (node: NodeSpec, cluster: readonly NodeSpec[]) => [
    ...["--id", node.id, "--host", node.host, "--peer-port", String(node.peerPort)],
    ...["--http-port", String(node.httpPort), "--data-dir", node.dataDir],
    ...["--peers", cluster.map((n) => `${n.id}=${n.host}:${n.peerPort}`).join(",")],
  ];
  return {
    name: "builtin",
    protocol: httpKvProtocol(),
    localCommand: (node, cluster) => ({
      command: process.execPath,
      args: [...scriptArgs("node/main"), ...args(node, cluster)],
    }),
    containerCommand: (node, cluster) => imageCommand("node/main.js", args(node, cluster)),
  };
}

export interface MemoryBackendOptions {
  /** Each node keeps its own copy and replicates asynchronously: not linearizable. */
  broken?: boolean;
  /** --broken only: how long a write waits before it is sent to the other nodes. */
  replicationDelayMs?: number;
  /** Dial peers from the default address rather than the node's own (--unbound-dial). */
  unboundDial?: boolean;
}

/**
 * The harness's own test system (memory-node.ts): n1 holds the data and the others proxy to it,
 * or, broken, every node answers from its own lagging copy.
 */
export function memoryBackend(options: MemoryBackendOptions = {}): Backend {
  return {
    name: options.broken ? "broken" : "memory",
    protocol: httpKvProtocol(),
    localCommand(node, cluster) {
      return {
        command: process.execPath,
        args: [
          ...scriptArgs("harness/backends/memory-node"),
          ...memoryArgs(node, cluster, options),
        ],
      };
    },
    containerCommand(node, cluster) {
      return imageCommand("harness/backends/memory-node.js", memoryArgs(node, cluster, options));
    },
  };
}

function memoryArgs(
  node: NodeSpec,
  cluster: readonly NodeSpec[],
  options: MemoryBackendOptions,
): string[] {
  const args = [
    ...["--id", node.id, "--host", node.host, "--http-port", String(node.httpPort)],
    ...["--peer-port", String(node.peerPort), "--data-dir", node.dataDir],
    // The memory node talks to its peers over their client API.
    ...["--peers", cluster.map((n) => `${n.id}=${n.host}:${n.httpPort}`).join(",")],
  ];
  if (options.broken) args.push("--broken");
  if (options.unboundDial) args.push("--unbound-dial");
  if (options.replicationDelayMs !== undefined) {
    args.push("--replication-delay-ms", String(options.replicationDelayMs));
  }
  return args;
}

/** Debian's ZooKeeper jar, which the zookeeper descriptors run (examples/zookeeper/). */
export const ZOOKEEPER_JAR = "/usr/share/java/zookeeper.jar";

/** ZooKeeper from its descriptor in examples/zookeeper/; throws one line when it is not installed. */
export function zookeeperBackend(descriptor: string): Backend {
  if (!existsSync(ZOOKEEPER_JAR)) {
    throw new Error(
      `backend zookeeper: ZooKeeper is not installed (no ${ZOOKEEPER_JAR}): apt-get install zookeeper`,
    );
  }
  return loadBackendDescriptor(projectPath(`examples/zookeeper/${descriptor}`));
}

/** A program of the compiled project inside the project's image (see docker/project-image.ts). */
export function imageCommand(script: string, args: string[]): ProcessCommand {
  return { command: IMAGE_NODE, args: [`${IMAGE_DIST}/${script}`, ...args] };
}

/**
 * How to run a module of the project as a program, by its path from the project's root without
 * extension: the compiled .js directly, or, from source, the .ts through tsx (resolved from
 * this package, so the child's working directory does not matter).
 */
export function scriptArgs(modulePath: string): string[] {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  // This file is harness/backends/index.{ts,js} under the root (source) or dist/ (compiled).
  const file = path.resolve(path.dirname(here), "../..", `${modulePath}${ext}`);
  if (ext !== ".ts") return [file];
  const tsx = createRequire(import.meta.url).resolve("tsx");
  return ["--import", pathToFileURL(tsx).href, file];
}

/** A path of the project's own files (not compiled: examples/...), from source or from dist/. */
export function projectPath(relative: string): string {
  const here = fileURLToPath(import.meta.url);
  const up = path.extname(here) === ".ts" ? "../.." : "../../..";
  return path.resolve(path.dirname(here), up, relative);
}
