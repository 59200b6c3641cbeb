// The client side of a run: each worker's operations (workerOps: worker w's k-th, from a
// workload copy and stream of its own), the worker threads the generator's interpreter runs
// them on (WorkerThreads: worker i talks to node i mod n, a new process and client after an
// info), one operation recorded (invoke, then exactly one completion), and a sleep that a
// signal cuts short. When each runs is the test's generator's (test-generator.ts).

import type { Streams } from "../contracts/random.js";
import { makeWorkload } from "../workloads/index.js";
import type { TestConfig } from "./config.js";
import type { Op } from "./generator/types.js";
import type { Recorder } from "./recorder.js";
import type { WorkerOps } from "./test-generator.js";
import type {
  Client,
  ClientFactory,
  Completion,
  Invocation,
  NodeHandle,
  Workload,
} from "./types.js";

/** One operation, recorded: invoke, then exactly one completion, whatever the client does. */
export async function invokeOnce(
  client: Client,
  op: Invocation,
  process: number,
  o: { recorder: Recorder; opTimeoutMs: number; stop?: AbortSignal; node?: string },
): Promise<Completion> {
  const at = o.recorder.invoke(process, op, o.node);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), o.opTimeoutMs);
  const onStop = () => controller.abort();
  o.stop?.addEventListener("abort", onStop, { once: true });
  let c: Completion;
  try {
    c = await client.invoke(op, controller.signal);
  } catch (err) {
    // Clients must not throw; one that does has left the outcome unknown.
    c = { type: "info", error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
    o.stop?.removeEventListener("abort", onStop);
  }
  o.recorder.complete(process, op, c, at);
  return c;
}

/** Waits `ms`, or less if the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Worker w's k-th operation, from a workload of its own with its own stream ("workload/<w>"):
 * the same for a seed whatever the timing (the generator may ask for it more than once).
 */
export function workerOps(
  config: TestConfig,
  options: { keys: number; distribution: TestConfig["distribution"] },
  streams: Streams,
): WorkerOps {
  const made: { workload: Workload; ops: Invocation[] }[] = [];
  return (worker, k) => {
    let own = made[worker];
    if (own === undefined) {
      const random = streams.random(`workload/${worker}`);
      const of = { index: worker, count: config.concurrency };
      own = {
        workload: makeWorkload(config.workload, { ...options, random, worker: of }),
        ops: [],
      };
      made[worker] = own;
    }
    while (own.ops.length <= k) own.ops.push(own.workload.next(worker));
    return own.ops[k] as Invocation;
  };
}

/**
 * The client threads: worker i talks to node i mod n as process i; after an info it goes on
 * as process + concurrency with a new client (a new client id for the node's deduplication).
 */
export class WorkerThreads {
  private readonly state = new Map<number, { process: number; client: Client }>();
  /** The next process id for an operation given to a node (never one a worker used). */
  private nextProcess = 0;

  constructor(
    private readonly config: TestConfig,
    private readonly nodes: readonly NodeHandle[],
    private readonly clients: ClientFactory,
    private readonly runId: string,
    private readonly recorder: Recorder,
    private readonly stop: AbortSignal,
  ) {}

  private thread(worker: number) {
    let s = this.state.get(worker);
    if (s === undefined) {
      s = { process: worker, client: this.client(worker, worker) };
      this.state.set(worker, s);
    }
    return s;
  }

  private client(worker: number, process: number): Client {
    const node = this.nodes[worker % this.nodes.length] as NodeHandle;
    return this.clients.client(node, `${this.runId}-p${process}`);
  }

  async invoke(op: Op): Promise<{ type: Completion["type"] }> {
    const invocation: Invocation = { f: op.f as Invocation["f"] };
    if (op.key !== undefined) invocation.key = op.key;
    if (op.value !== undefined) invocation.value = op.value;
    const recorded = {
      recorder: this.recorder,
      opTimeoutMs: this.config.opTimeout * 1000,
      stop: this.stop,
    };
    if (op.node !== undefined) {
      // An operation for a given node (the final phase's): a process id above every one used so
      // far, and a client of its own, whatever thread runs it.
      const process = Math.max(this.nextProcess, this.recorder.maxProcess + 1);
      this.nextProcess = process + 1;
      const node = this.nodes[op.node % this.nodes.length] as NodeHandle;
      const client = this.clients.client(node, `${this.runId}-p${process}`);
      try {
        const at = { ...recorded, node: node.spec.id };
        return { type: (await invokeOnce(client, invocation, process, at)).type };
      } finally {
        await client.close();
      }
    }
    const worker = op.thread as number;
    const t = this.thread(worker);
    const node = this.nodes[worker % this.nodes.length] as NodeHandle;
    const c = await invokeOnce(t.client, invocation, t.process, {
      ...recorded,
      node: node.spec.id,
    });
    if (c.type === "info") {
      await t.client.close();
      t.process += this.config.concurrency;
      t.client = this.client(worker, t.process);
    }
    return { type: c.type };
  }

  async close(): Promise<void> {
    await Promise.all([...this.state.values()].map((s) => s.client.close()));
  }
}
