// Simulated clients: each runs one operation at a time (random read/write/cas over a few keys) on
// a random live node, sometimes retries the same request (same clientId and seq) on another node,
// and gives up after a timeout. Every operation is recorded for the checker: `unavailable` from
// every node tried = definitely not applied (left out); a timeout = indeterminate (UNKNOWN output,
// return Infinity), after which the client continues under a new id (Jepsen's rule).

import type { HistoryOp, OpInput, OpOutput } from "../../checker/history.js";
import { UNKNOWN } from "../../checker/model.js";
import type { ClientRequest, Command, CommandResult } from "../command.js";
import type { NodeId, ReqId } from "../core/types.js";
import type { Cluster } from "./cluster.js";
import type { EventQueue } from "./events.js";
import type { Prng } from "./prng.js";

export interface ClientStats {
  invoked: number;
  ok: number;
  fail: number;
  info: number;
  retries: number;
}

interface InFlight {
  client: SimClient;
  request: ClientRequest;
  input: OpInput;
  call: number;
  /** reqIds sent and not yet answered. */
  outstanding: Set<ReqId>;
  done: boolean;
}

interface SimClient {
  index: number;
  /** The history's process id (changes after an indeterminate op). */
  process: number;
  session: string;
  seq: number;
}

export interface ClientOptions {
  clients: number;
  keys: number;
  /** Time units before an operation is given up (indeterminate). */
  timeout: number;
  /** Stop starting operations after this time. */
  until: number;
}

export class Clients {
  readonly history: HistoryOp[] = [];
  readonly stats: ClientStats = { invoked: 0, ok: 0, fail: 0, info: 0, retries: 0 };
  private readonly byReq = new Map<ReqId, InFlight>();
  /** "clientId/seq" of every request answered `unavailable` by every node it was sent to. */
  readonly failed = new Set<string>();
  /** Every request acknowledged with a result, and that result. */
  readonly acked: { request: ClientRequest; result: CommandResult }[] = [];
  private nextReq = 1;
  private nextProcess: number;

  constructor(
    private readonly rng: Prng,
    private readonly events: EventQueue,
    private readonly cluster: Cluster,
    private readonly opts: ClientOptions,
  ) {
    this.nextProcess = opts.clients;
    cluster.onReply = (node, reqId, result) => this.onReply(node, reqId, result);
    for (let i = 0; i < opts.clients; i++) {
      const c: SimClient = { index: i, process: i, session: `c${i}`, seq: 0 };
      this.events.after(this.rng.int(1, 50), () => this.startOp(c));
    }
  }

  private randomCommand(): Command {
    const key = `k${this.rng.int(0, this.opts.keys - 1)}`;
    const r = this.rng.next();
    if (r < 0.4) return { op: "read", key };
    if (r < 0.7) return { op: "write", key, value: this.rng.int(0, 4) };
    return { op: "cas", key, from: this.rng.int(0, 4), to: this.rng.int(0, 4) };
  }

  private startOp(c: SimClient): void {
    const now = this.events.now;
    if (now >= this.opts.until) return;
    const live = this.cluster.up();
    if (live.length === 0) {
      this.events.after(20, () => this.startOp(c));
      return;
    }
    const command = this.randomCommand();
    const request: ClientRequest = { clientId: c.session, seq: ++c.seq, command };
    const input: OpInput =
      command.op === "read"
        ? { f: "read", key: command.key }
        : command.op === "write"
          ? { f: "write", key: command.key, value: command.value }
          : { f: "cas", key: command.key, from: command.from, to: command.to };
    const op: InFlight = {
      client: c,
      request,
      input,
      call: now,
      outstanding: new Set(),
      done: false,
    };
    this.stats.invoked++;
    const first = this.rng.pick(live);
    this.send(op, first.id);
    // A retry of the same request elsewhere, halfway to the timeout (exercises dedup).
    this.events.after(Math.floor(this.opts.timeout / 2), () => {
      if (op.done || !this.rng.chance(0.3)) return;
      const others = this.cluster.up().filter((n) => n.id !== first.id);
      if (others.length === 0) return;
      this.stats.retries++;
      this.send(op, this.rng.pick(others).id);
    });
    this.events.after(this.opts.timeout, () => {
      if (op.done) return;
      this.finish(op, UNKNOWN);
    });
  }

  private send(op: InFlight, node: NodeId): void {
    const reqId = this.nextReq++;
    op.outstanding.add(reqId);
    this.byReq.set(reqId, op);
    this.cluster.clientRequest(this.cluster.node(node), reqId, op.request);
  }

  private onReply(_node: NodeId, reqId: ReqId, result: CommandResult): void {
    const op = this.byReq.get(reqId);
    if (!op) return;
    this.byReq.delete(reqId);
    op.outstanding.delete(reqId);
    if (op.done) return;
    if (result.status === "unavailable") {
      // Definite for this send only; the op failed only if every send said so.
      if (op.outstanding.size === 0) this.finish(op, "fail");
      return;
    }
    this.acked.push({ request: op.request, result });
    this.finish(op, toOutput(op.input, result));
  }

  private finish(op: InFlight, output: OpOutput | typeof UNKNOWN | "fail"): void {
    op.done = true;
    for (const r of op.outstanding) this.byReq.delete(r);
    const c = op.client;
    const now = this.events.now;
    if (output === "fail") {
      this.stats.fail++;
      const key = `${op.request.clientId}/${op.request.seq}`;
      this.failed.add(key);
      if (this.cluster.requestSlot.has(key)) {
        this.cluster.violations.push(`${key} was answered unavailable after it was applied`);
      }
    } else if (output === UNKNOWN) {
      this.stats.info++;
      this.history.push({
        clientId: c.process,
        input: op.input,
        call: op.call,
        output,
        return: Infinity,
      });
      c.process = this.nextProcess++;
      c.session = `c${c.index}.${c.process}`;
      c.seq = 0;
    } else {
      this.stats.ok++;
      this.history.push({
        clientId: c.process,
        input: op.input,
        call: op.call,
        output,
        return: now,
      });
    }
    this.events.after(this.rng.int(0, 30), () => this.startOp(c));
  }
}

function toOutput(input: OpInput, r: CommandResult): OpOutput {
  switch (input.f) {
    case "read":
      if (r.status === "not-found") return { value: null };
      return { value: r.status === "ok" ? (r.value ?? null) : null };
    case "cas":
      return { ok: r.status === "ok" };
    default:
      return {};
  }
}
