// Backends: how to start one node of a system under test. `resolveBackend(name)` looks a name
// up in BACKENDS; the built-in Paxos node registers itself there (registerBackend), as can any
// other http-kv implementation.

import { existsSync } from "node:fs";
import path from "node:path";
import { httpKvProtocol } from "../protocols/http-kv.js";
import type { Backend, NodeSpec } from "../types.js";
import { loadBackendDescriptor } from "./descriptor.js";
import { imageCommand, projectRoot, scriptArgs } from "./script.js";

export { imageCommand, scriptArgs } from "./script.js";

/** A backend factory by name. Extension point: add entries with registerBackend(). */
const BACKENDS = new Map<string, () => Backend>([
  ["builtin", () => builtinBackend()],
  ["memory", () => memoryBackend()],
  ["broken", () => memoryBackend({ broken: true })],
  ["maelstrom-lin-kv", () => example("maelstrom-lin-kv/backend.yaml")],
  ["maelstrom-broken", () => example("maelstrom-lin-kv/broken.yaml")],
  ["etcd", () => example("etcd/etcd.yaml")],
  ["etcd-serializable", () => example("etcd/etcd-serializable.yaml")],
  ["zookeeper", () => zookeeperBackend("zookeeper.yaml")],
  ["zookeeper-sync", () => zookeeperBackend("zookeeper-sync.yaml")],
]);

/** A backend described by a descriptor file of examples/. */
function example(file: string): Backend {
  return loadBackendDescriptor(path.join(projectRoot(), "examples", file));
}

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

export interface BuiltinBackendOptions {
  /**
   * A deliberate bug of node/core/mutants.ts, passed as `--mutant NAME` (`paxos-harness
   * validate`); the node refuses a name it does not know. Absent in every normal run.
   */
  mutant?: string;
}

/** The built-in Multi-Paxos node (node/main.ts): the system under test by default. */
export function builtinBackend(options: BuiltinBackendOptions = {}): Backend {
  const mutant = options.mutant === undefined ? [] : ["--mutant", options.mutant];
  const args = (node: NodeSpec, cluster: readonly NodeSpec[]) => [
    ...["--id", node.id, "--host", node.host, "--peer-port", String(node.peerPort)],
    ...["--http-port", String(node.httpPort), "--data-dir", node.dataDir],
    ...["--peers", cluster.map((n) => `${n.id}=${n.host}:${n.peerPort}`).join(",")],
    ...mutant,
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
  return example(`zookeeper/${descriptor}`);
}
