// Backends: how to start one node of a system under test. `resolveBackend(name)` looks a name
// up in BACKENDS; the built-in Paxos node registers itself there (registerBackend), as can any
// other http-kv implementation.

import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Backend, NodeSpec, ProcessCommand } from "../types.js";

/** A backend factory by name. Extension point: add entries with registerBackend(). */
const BACKENDS = new Map<string, () => Backend>([
  ["memory", () => memoryBackend()],
  ["broken", () => memoryBackend({ broken: true })],
]);

export function registerBackend(name: string, make: () => Backend): void {
  BACKENDS.set(name, make);
}

export function backendNames(): string[] {
  return [...BACKENDS.keys()];
}

/** The backend of this name; throws naming the known ones when there is none. */
export function resolveBackend(name: string): Backend {
  const make = BACKENDS.get(name);
  if (make === undefined) {
    throw new Error(`no backend "${name}" (known: ${backendNames().join(", ")})`);
  }
  return make();
}

export interface MemoryBackendOptions {
  /** Each node keeps its own copy and replicates asynchronously: not linearizable. */
  broken?: boolean;
  /** --broken only: how long a write waits before it is sent to the other nodes. */
  replicationDelayMs?: number;
}

/**
 * The harness's own test system (memory-node.ts): n1 holds the data and the others proxy to it,
 * or, broken, every node answers from its own lagging copy.
 */
export function memoryBackend(options: MemoryBackendOptions = {}): Backend {
  return {
    name: options.broken ? "broken" : "memory",
    protocol: "http-kv",
    localCommand(node: NodeSpec, cluster: readonly NodeSpec[]): ProcessCommand {
      const args = [
        ...["--id", node.id, "--host", node.host, "--http-port", String(node.httpPort)],
        ...["--peer-port", String(node.peerPort), "--data-dir", node.dataDir],
        // The memory node talks to its peers over their client API.
        ...["--peers", cluster.map((n) => `${n.id}=${n.host}:${n.httpPort}`).join(",")],
      ];
      if (options.broken) args.push("--broken");
      if (options.replicationDelayMs !== undefined) {
        args.push("--replication-delay-ms", String(options.replicationDelayMs));
      }
      return { command: process.execPath, args: [...scriptArgs("memory-node"), ...args] };
    },
  };
}

/**
 * How to run a sibling module as a program: the compiled .js directly, or, from source, the
 * .ts through tsx (resolved from this package, so the child's working directory does not matter).
 */
export function scriptArgs(name: string): string[] {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const file = path.join(path.dirname(here), `${name}${ext}`);
  if (ext !== ".ts") return [file];
  const tsx = createRequire(import.meta.url).resolve("tsx");
  return ["--import", pathToFileURL(tsx).href, file];
}
