// A large, linearizable kv history in our jsonl format, for the checker's benchmark: clients
// call operations on random keys; each takes effect at a random instant inside its interval,
// against one true store, so the history is legal by construction. A share of operations is
// indeterminate (`info`), after which the client goes on as a new process, as in Jepsen.

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { randomOf } from "../../contracts/random.js";

export interface GenerateOptions {
  ops: number;
  keys: number;
  clients: number;
  /** Share of operations that end `info`, 0..1. */
  info: number;
  seed: number;
}

export async function writeHistory(file: string, o: GenerateOptions): Promise<void> {
  const out = createWriteStream(file);
  let buffer = "";
  const emit = async (line: string) => {
    buffer += `${line}\n`;
    if (buffer.length > 1 << 16) {
      if (!out.write(buffer)) await once(out, "drain");
      buffer = "";
    }
  };
  const rand = randomOf(o.seed, "bench");
  const store = new Map<string, number>();
  type Pending = {
    process: number;
    f: string;
    key: string;
    value: unknown;
    applyAt: number;
    returnAt: number;
    result?: unknown;
    type?: string;
  };
  const clients: { process: number; next: number; op?: Pending }[] = [];
  for (let c = 0; c < o.clients; c++) clients.push({ process: c, next: rand() * 10 });
  let index = 0;
  let started = 0;
  let done = 0;
  while (done < o.ops) {
    // The client whose next event comes first (20 clients: a scan beats a heap).
    let c = clients[0] as (typeof clients)[number];
    for (const x of clients) if (eventTime(x) < eventTime(c)) c = x;
    const t = eventTime(c);
    const time = Math.round(t * 1000);
    if (!c.op) {
      if (started >= o.ops) {
        c.next = Number.POSITIVE_INFINITY;
        continue;
      }
      started++;
      const key = `k${Math.floor(rand() * o.keys)}`;
      const r = rand();
      const f = r < 0.5 ? "read" : r < 0.8 ? "write" : "cas";
      const value =
        f === "write"
          ? Math.floor(rand() * 5)
          : f === "cas"
            ? [Math.floor(rand() * 5), Math.floor(rand() * 5)]
            : null;
      const applyAt = t + rand() * 20;
      c.op = { process: c.process, f, key, value, applyAt, returnAt: applyAt + rand() * 20 };
      await emit(
        JSON.stringify({ index: index++, time, process: c.process, type: "invoke", f, key, value }),
      );
    } else if (c.op.type === undefined) {
      const op = c.op;
      const cur = store.get(op.key) ?? null;
      if (op.f === "read") op.result = cur;
      else if (op.f === "write") store.set(op.key, op.value as number);
      else {
        const [from, to] = op.value as [number, number];
        if (cur === from) store.set(op.key, to);
        op.result = cur === from;
      }
      op.type = rand() < o.info ? "info" : op.f === "cas" && op.result === false ? "fail" : "ok";
    } else {
      const op = c.op;
      const value = op.f === "read" ? (op.type === "ok" ? op.result : null) : op.value;
      await emit(
        JSON.stringify({
          index: index++,
          time,
          process: op.process,
          type: op.type,
          f: op.f,
          key: op.key,
          value,
        }),
      );
      if (op.type === "info") c.process += o.clients;
      c.op = undefined;
      c.next = t + rand() * 5;
      done++;
    }
  }
  out.end(buffer);
  await once(out, "finish");
}

function eventTime(c: {
  next: number;
  op?: { applyAt: number; returnAt: number; type?: string };
}): number {
  if (!c.op) return c.next;
  return c.op.type === undefined ? c.op.applyAt : c.op.returnAt;
}

export interface HardHistoryOptions {
  /** Keys (partitions) that are legal but hard. */
  keys: number;
  /** Concurrent writes per key: the search explores about n·2^n states (n = 17: ~0.5 s). */
  writes: number;
  /** Keys that are as hard, and illegal. Default 0. */
  illegalKeys?: number;
  /** Concurrent writes per illegal key. Default: `writes`. */
  illegalWrites?: number;
}

/**
 * A kv history (jsonl lines) whose partitions are exponential for the search. Per key, `n`
 * writes of 0..n-1, all concurrent, called in that order; after all of them a read. In a legal
 * key the read returns 0: the write called first must be linearized last, the search tries it
 * first, and only finds so after exploring every other (set, last write) pair. In an illegal key
 * the read returns a value never written, and the search explores them all to say so.
 */
export function hardHistory(o: HardHistoryOptions): string[] {
  const events: { time: number; line: string }[] = [];
  let process = 0;
  const key = (key: string, n: number, legal: boolean) => {
    const ev = (time: number, p: number, type: string, f: string, value: number | null) =>
      events.push({ time, line: JSON.stringify({ time, process: p, type, f, key, value }) });
    for (let i = 0; i < n; i++) ev(i, process + i, "invoke", "write", i);
    for (let i = 0; i < n; i++) ev(1000, process + i, "ok", "write", i);
    ev(2000, process + n, "invoke", "read", null);
    ev(2001, process + n, "ok", "read", legal ? 0 : n + 1000);
    process += n + 1;
  };
  for (let k = 0; k < o.keys; k++) key(`k${k}`, o.writes, true);
  for (let k = 0; k < (o.illegalKeys ?? 0); k++) key(`bad${k}`, o.illegalWrites ?? o.writes, false);
  return events.sort((a, b) => a.time - b.time).map((e) => e.line);
}
