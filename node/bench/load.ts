// The bench's load client, one loop for every system it drives (ours and etcd), so that their
// numbers differ only by the system: closed-loop clients, each with its own HTTP keep-alive agent
// (one socket), one request at a time, random keys among `keys`, client i on target i mod n.
// What a request looks like on the wire is the caller's `send`; timing and counting are here.

import { Agent } from "node:http";

export type LoadKind = "write" | "read";

export interface LoadTarget {
  host: string;
  port: number;
}

/** One request as a system's API spells it. */
export interface LoadRequest {
  target: LoadTarget;
  agent: Agent;
  kind: LoadKind;
  /** `k0` .. `k{keys-1}`: the same names for every system. */
  key: string;
  /** This client's request number, from 1: the value written, and ours' `x-seq`. */
  seq: number;
  /** Unique per client and phase: ours' `x-client-id`. */
  client: string;
  timeoutMs: number;
}

/**
 * Sends one request; resolves to `true` when the reply counts as an answer, or to an error label
 * (e.g. `HTTP 500`) when it does not. Throwing (a timeout, a reset) is an error too.
 */
export type Send = (request: LoadRequest) => Promise<true | string>;

export interface LoadOptions {
  kind: LoadKind;
  clients: number;
  seconds: number;
  targets: LoadTarget[];
  send: Send;
  keys: number;
  /** Per request; past it the request is an error (`timeout`). */
  timeoutMs: number;
  /** Names the clients (ours' sessions); unique per run. */
  label: string;
}

export interface LoadResult {
  /** Answered requests (each one's latency is in `latencies`). */
  ops: number;
  errors: number;
  /** Errors by kind (`HTTP 500`, `timeout`, ...), so that none is silently dropped. */
  errorKinds: Map<string, number>;
  latencies: number[];
  seconds: number;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  if (opts.targets.length === 0) throw new Error("runLoad: no targets");
  const deadline = performance.now() + opts.seconds * 1000;
  const latencies: number[] = [];
  const errorKinds = new Map<string, number>();
  let errors = 0;
  const fail = (kind: string) => {
    errors++;
    errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
  };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: opts.clients }, async (_, i) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const target = opts.targets[i % opts.targets.length]!;
      const client = `${opts.label}-${opts.kind}-${opts.clients}-${i}-${process.pid}-${Math.random()}`;
      let seq = 0;
      try {
        while (performance.now() < deadline) {
          const key = `k${Math.floor(Math.random() * opts.keys)}`;
          seq++;
          const t0 = performance.now();
          try {
            const outcome = await opts.send({
              target,
              agent,
              kind: opts.kind,
              key,
              seq,
              client,
              timeoutMs: opts.timeoutMs,
            });
            if (outcome === true) latencies.push(performance.now() - t0);
            else fail(outcome);
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            fail(message === "client timeout" ? "timeout" : message);
          }
        }
      } finally {
        agent.destroy();
      }
    }),
  );
  return {
    ops: latencies.length,
    errors,
    errorKinds,
    latencies,
    seconds: (performance.now() - started) / 1000,
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `HTTP 500 x3, timeout x1`, or empty. */
export function describeErrors(kinds: Map<string, number>): string {
  return [...kinds].map(([kind, n]) => `${kind} x${n}`).join(", ");
}
