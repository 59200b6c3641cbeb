// Whether a node is up: both runtimes ask the backend's protocol adapter (for http-kv, GET
// /status answers 200) until it says ready.

import type { NodeHandle, NodeSpec } from "../types.js";

/** What the harness knows of a node: its spec and the base URL of its client API. */
export function nodeHandle(spec: NodeSpec): NodeHandle {
  return { spec, url: `http://${spec.host}:${spec.httpPort}` };
}

export interface ReadyWait {
  /** One look: true once the node is ready (Protocol.ready with `probeMs`). */
  probe(probeMs: number): Promise<boolean>;
  /** How long the node may take. */
  timeoutMs: number;
  /** How long one look may take. */
  probeMs: number;
  /** Aborted (Ctrl-C): give up with `abortedMessage`. */
  signal: AbortSignal | undefined;
  abortedMessage: string;
  /** Rejects (or throws) when the node can no longer come up: its process or container exited. */
  check(): void | Promise<void>;
  /** The error once `timeoutMs` has passed. */
  late(): Promise<Error>;
}

/** Looks every 50 ms until the node is ready; rejects as `w` says otherwise. */
export async function waitForReady(w: ReadyWait): Promise<void> {
  const deadline = performance.now() + w.timeoutMs;
  for (;;) {
    if (w.signal?.aborted) throw new Error(w.abortedMessage);
    if (await w.probe(w.probeMs)) return;
    await w.check();
    if (performance.now() > deadline) throw await w.late();
    await new Promise((r) => setTimeout(r, 50));
  }
}
