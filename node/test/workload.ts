// Concurrent clients against a ProcCluster, recorded as a history for the checker.

import { Agent } from "node:http";
import type { OpInput, OpOutput, Value } from "../../checker/history.js";
import { type Operation, UNKNOWN } from "../../checker/model.js";
import { type HttpResult, type ProcCluster, sleep } from "./procs.js";

export type HOp = Operation<OpInput, OpOutput>;

/**
 * Concurrent clients against a cluster, recorded as a history for the checker: one request at a
 * time per client (x-client-id and x-seq), random read/write/cas over a few keys, on the node
 * chosen by `pick`. An HTTP timeout, a dropped connection or a 5xx without `definite` is
 * indeterminate (UNKNOWN, return Infinity; the client goes on as a new process); a 503 definite
 * failed and is left out.
 */
export class Workload {
  readonly history: HOp[] = [];
  readonly counts = { ok: 0, fail: 0, info: 0, notFound: 0, casMismatch: 0 };
  /** Values acknowledged as written, per key, in ack order. */
  readonly acked = new Map<string, Value[]>();
  private stopped = false;
  private nextValue = 1;
  private readonly t0 = performance.now();

  constructor(
    private readonly cluster: ProcCluster,
    private readonly opts: {
      clients: number;
      keys: number;
      pick: (client: number) => string;
      timeoutMs?: number;
      /** Pause between a client's operations (keeps histories checkable). */
      thinkMs?: number;
    },
  ) {}

  stop(): void {
    this.stopped = true;
  }

  async run(untilMs: number): Promise<void> {
    const deadline = performance.now() + untilMs;
    await Promise.all(
      Array.from({ length: this.opts.clients }, (_, i) => this.client(i, deadline)),
    );
  }

  private now(): number {
    return performance.now() - this.t0;
  }

  private async client(index: number, deadline: number): Promise<void> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const session = `c${index}-${Math.random().toString(36).slice(2, 8)}`;
    let processId = index;
    let seq = 0;
    try {
      while (!this.stopped && performance.now() < deadline) {
        const key = `k${Math.floor(Math.random() * this.opts.keys)}`;
        const r = Math.random();
        const input: OpInput =
          r < 0.4
            ? { f: "read", key }
            : r < 0.75
              ? { f: "write", key, value: this.nextValue++ }
              : {
                  f: "cas",
                  key,
                  from: (this.acked.get(key)?.at(-1) ?? 0) as Value,
                  to: this.nextValue++,
                };
        seq++;
        const node = this.opts.pick(index);
        const call = this.now();
        let res: HttpResult | "refused" | undefined;
        try {
          res = await this.send(node, input, session, seq, agent);
        } catch (error) {
          // A refused connection never reached the node: definitely not applied.
          res = (error as NodeJS.ErrnoException).code === "ECONNREFUSED" ? "refused" : undefined;
        }
        const ret = this.now();
        const output =
          res === "refused" ? "fail" : res === undefined ? undefined : this.outcome(input, res);
        if (output === "fail") {
          this.counts.fail++;
        } else if (output === undefined) {
          this.counts.info++;
          this.history.push({
            clientId: processId,
            input,
            call,
            output: UNKNOWN,
            return: Infinity,
          });
          processId += this.opts.clients;
        } else {
          this.counts.ok++;
          this.history.push({ clientId: processId, input, call, output, return: ret });
          if (input.f === "write" || (input.f === "cas" && output.ok)) {
            const list = this.acked.get(key) ?? [];
            list.push(input.f === "write" ? input.value : input.to);
            this.acked.set(key, list);
          }
        }
        await sleep(output === "fail" ? 50 : (this.opts.thinkMs ?? 0));
      }
    } finally {
      agent.destroy();
    }
  }

  private send(
    node: string,
    input: OpInput,
    session: string,
    seq: number,
    agent: Agent,
  ): Promise<HttpResult> {
    const headers = { "x-client-id": session, "x-seq": String(seq) };
    const o = { agent, headers, timeoutMs: this.opts.timeoutMs ?? 3000 };
    const path = `/kv/${input.key}`;
    switch (input.f) {
      case "read":
        return this.cluster.http(node, "GET", path, undefined, o);
      case "write":
        return this.cluster.http(node, "PUT", path, { value: input.value }, o);
      case "cas":
        return this.cluster.http(
          node,
          "POST",
          `${path}/cas`,
          { from: input.from, to: input.to },
          o,
        );
      default:
        throw new Error(`unsupported ${input.f}`);
    }
  }

  /** An output, "fail" (definitely not applied), or undefined (indeterminate). */
  private outcome(input: OpInput, res: HttpResult): OpOutput | "fail" | undefined {
    const { status, body } = res;
    if (status === 503 && body.definite === true) return "fail";
    if (input.f === "read") {
      if (status === 200) return { value: (body.value ?? null) as Value };
      if (status === 404) {
        this.counts.notFound++;
        return { value: null };
      }
    } else if (input.f === "write") {
      if (status === 200) return {};
    } else if (input.f === "cas") {
      if (status === 200) return { ok: true };
      if (status === 409) {
        this.counts.casMismatch++;
        return { ok: false };
      }
    }
    if (status >= 400 && status < 500)
      throw new Error(`unexpected ${status}: ${JSON.stringify(body)}`);
    return undefined;
  }
}
