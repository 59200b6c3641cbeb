// Whether a node is up: both runtimes poll its GET /status until it answers 200.

import http from "node:http";
import type { NodeHandle, NodeSpec } from "../types.js";

/** What the harness knows of a node: its spec and the base URL of its client API. */
export function nodeHandle(spec: NodeSpec): NodeHandle {
  return { spec, url: `http://${spec.host}:${spec.httpPort}` };
}

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

export interface StatusWait {
  host: string;
  port: number;
  /** How long the node may take. */
  timeoutMs: number;
  /** How long one GET may take. */
  probeMs: number;
  /** Aborted (Ctrl-C): give up with `abortedMessage`. */
  signal: AbortSignal | undefined;
  abortedMessage: string;
  /** Rejects (or throws) when the node can no longer come up: its process or container exited. */
  check(): void | Promise<void>;
  /** The error once `timeoutMs` has passed. */
  late(): Promise<Error>;
}

/** Polls GET /status every 50 ms until it answers 200; rejects as `w` says otherwise. */
export async function waitForStatus(w: StatusWait): Promise<void> {
  const deadline = performance.now() + w.timeoutMs;
  for (;;) {
    if (w.signal?.aborted) throw new Error(w.abortedMessage);
    if ((await getStatus(w.host, w.port, w.probeMs)) === 200) return;
    await w.check();
    if (performance.now() > deadline) throw await w.late();
    await new Promise((r) => setTimeout(r, 50));
  }
}
