// The http-kv protocol (doc/protocol.md) as an adapter: clients from client/http-kv.ts, a node
// is ready when GET /status answers 200, and the leader is what the nodes' /status say.

import http from "node:http";
import { HttpKvPool } from "../client/http-kv.js";
import type { NodeHandle, NodeId, Protocol, ProtocolName, ReplicaState } from "../types.js";

/** GET /status (from the host's own address); resolves to the status code, or 0 when there is no answer. */
export function getStatus(host: string, port: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(
      { host, port, path: "/status", timeout: timeoutMs, agent: false },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", () => resolve(0));
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

/**
 * The leader by the nodes' GET /status: a node whose role is leader (at once: a paused or cut-off
 * node's silence must not hold up a fault aimed at the leader), else one a node names.
 */
export function statusLeader(
  nodes: readonly NodeHandle[],
  timeoutMs = 1000,
): Promise<NodeId | undefined> {
  return new Promise((resolve) => {
    let named: NodeId | undefined;
    let pending = nodes.length;
    if (pending === 0) resolve(undefined);
    for (const n of nodes) {
      void (async () => {
        try {
          const res = await fetch(new URL("/status", n.url), {
            signal: AbortSignal.timeout(timeoutMs),
          });
          const s = (await res.json()) as { id?: unknown; role?: unknown; leader?: unknown };
          if (s.role === "leader" && typeof s.id === "string") resolve(s.id);
          else if (named === undefined && typeof s.leader === "string") named = s.leader;
        } catch {
          // No answer: this node says nothing.
        }
        if (--pending === 0) resolve(named);
      })();
    }
  });
}

/**
 * GET /status?digest=1's `applied` and `state_digest`, and `log_digest` if given
 * (doc/protocol.md), when the node gives them.
 */
export async function statusReplicaState(
  node: NodeHandle,
  timeoutMs: number,
): Promise<ReplicaState | undefined> {
  try {
    const res = await fetch(new URL("/status?digest=1", node.url), {
      signal: AbortSignal.timeout(timeoutMs),
    });
    const s = (await res.json()) as {
      applied?: unknown;
      state_digest?: unknown;
      log_digest?: unknown;
    };
    if (typeof s.applied !== "number" || typeof s.state_digest !== "string") return undefined;
    const log = typeof s.log_digest === "string" ? { log: s.log_digest } : {};
    return { applied: s.applied, digest: s.state_digest, ...log };
  } catch {
    return undefined;
  }
}

/** The adapter; `name` is what the backend said (maelstrom's shim speaks http-kv too). */
export function httpKvProtocol(name: ProtocolName = "http-kv"): Protocol {
  const pool = new HttpKvPool();
  return {
    name,
    client: (node, id) => pool.client(node, id),
    close: () => pool.close(),
    ready: async (node, timeoutMs) =>
      (await getStatus(node.spec.host, node.spec.httpPort, timeoutMs)) === 200,
    readiness: (node) => `answer GET ${node.url}/status`,
    leader: statusLeader,
    replicaState: statusReplicaState,
  };
}
