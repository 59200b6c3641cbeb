// A client for the http-kv protocol (doc/protocol.md): one worker process talking to one node.
//
// Outcomes: 200 -> ok (a read: its value); 404 on a read -> ok, absent (null); 409 on a cas ->
// fail; 503 with definite: true -> fail; any other 4xx -> fail (rejected, never applied); any
// other 5xx, a dropped connection, a timeout (the signal) -> info. A reply the client cannot
// understand (a 200 whose body is not JSON, a read's 200 without a value, a status the protocol
// does not have) -> info with `protocolError`: it may have applied, and it is counted apart so
// that a backend speaking the protocol wrong is seen, not taken for a read of null.
//
// Every request carries x-client-id (one per worker process id) and x-seq (incremented per
// request), so that a node can recognise a retry and not apply it twice.
//
// The set workload over a kv store: the set is one key holding an array. `add e` is the cas
// loop of cas-add.ts (a 409 names the current value, so the next attempt need not read).
// `read-all` is a read of the key.

import http from "node:http";
import type { Value } from "../../checker/history.js";
import type { Client, Completion, Invocation, NodeHandle } from "../types.js";
import { addByCas, readAllOf } from "./cas-add.js";

export { ADD_ATTEMPTS } from "./cas-add.js";

interface Reply {
  status: number;
  body: { [field: string]: Value } | undefined;
  /** Why the body could not be understood (not JSON, not an object), when it could not. */
  unreadable?: string;
}

type Outcome = { reply: Reply } | { error: string };

/** Keep-alive agents, one per node, shared by every client of a run. */
export class HttpKvPool {
  private readonly agents = new Map<string, http.Agent>();

  /** A client for one worker process on one node. */
  client(node: NodeHandle, clientId: string): HttpKvClient {
    let agent = this.agents.get(node.url);
    if (!agent) {
      agent = new http.Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 1000 });
      this.agents.set(node.url, agent);
    }
    return new HttpKvClient(node.url, agent, clientId);
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

export class HttpKvClient implements Client {
  private seq = 0;

  constructor(
    private readonly url: string,
    private readonly agent: http.Agent,
    readonly clientId: string,
  ) {}

  /**
   * Each call is a new request (x-seq + 1). A retry is a new client with the same id: its first
   * request has the same x-seq (1), so the node applies it at most once.
   */
  async invoke(op: Invocation, signal: AbortSignal): Promise<Completion> {
    this.seq++;
    const key = op.key ?? "";
    switch (op.f) {
      case "read":
        return readCompletion(await this.send("GET", key, undefined, signal));
      case "write":
        return writeCompletion(await this.send("PUT", key, { value: op.value ?? null }, signal));
      case "cas": {
        const [from, to] = Array.isArray(op.value) ? op.value : [null, null];
        return casCompletion(
          await this.send("POST", `${key}/cas`, { from: from ?? null, to: to ?? null }, signal),
        );
      }
      case "read-all":
        return readAllOf(readCompletion(await this.send("GET", key, undefined, signal)));
      case "add":
        return this.add(key, op.value ?? null, signal);
    }
  }

  async close(): Promise<void> {
    // The agent is the pool's; nothing of our own to release.
  }

  private add(key: string, element: Value, signal: AbortSignal): Promise<Completion> {
    return addByCas(
      {
        read: async (s) => {
          this.seq++;
          return readCompletion(await this.send("GET", key, undefined, s));
        },
        cas: async (from, to, s) => {
          this.seq++;
          const outcome = await this.send("POST", `${key}/cas`, { from, to }, s);
          // A 409 from our node names the current value: the next cas can start from it.
          const current =
            "reply" in outcome && outcome.reply.status === 409
              ? outcome.reply.body?.value
              : undefined;
          return {
            completion: casCompletion(outcome),
            ...(current !== undefined ? { current } : {}),
          };
        },
      },
      element,
      signal,
    );
  }

  private send(
    method: string,
    path: string,
    body: { [field: string]: Value } | undefined,
    signal: AbortSignal,
  ): Promise<Outcome> {
    if (signal.aborted) return Promise.resolve({ error: "timeout" });
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const target = new URL(`/kv/${encodeKey(path)}`, this.url);
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const done = (o: Outcome) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        resolve(o);
      };
      const headers: http.OutgoingHttpHeaders = {
        "x-client-id": this.clientId,
        "x-seq": String(this.seq),
      };
      if (payload !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = Buffer.byteLength(payload);
      }
      const req = http.request(target, { method, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", () => done({ error: "connection dropped while reading the reply" }));
        res.on("aborted", () => done({ error: "connection dropped while reading the reply" }));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          done({ reply: { status: res.statusCode ?? 0, ...parseBody(text) } });
        });
      });
      const onAbort = () => {
        done({ error: "timeout" });
        req.destroy();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      req.on("error", (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message }));
      req.end(payload);
    });
  }
}

/** Keys are percent-encoded; the `/cas` suffix is kept as a path segment. */
function encodeKey(path: string): string {
  const cas = path.endsWith("/cas");
  const key = cas ? path.slice(0, -4) : path;
  return `${encodeURIComponent(key)}${cas ? "/cas" : ""}`;
}

function parseBody(text: string): Pick<Reply, "body" | "unreadable"> {
  if (text === "") return { body: undefined };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { body: undefined, unreadable: `a body that is not JSON (${quote(text)})` };
  }
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? { body: v as { [field: string]: Value } }
    : { body: undefined, unreadable: `a body that is not a JSON object (${quote(text)})` };
}

function quote(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(line.length > 40 ? `${line.slice(0, 40)}...` : line);
}

/** A reply outside the protocol: indeterminate, and counted as a protocol error. */
function protocolError(why: string): Completion {
  return { type: "info", error: `protocol error: ${why}`, protocolError: true };
}

/** What a reply other than the operation's own successes means. */
function otherwise(outcome: Outcome): Completion {
  // A refused connection never carried the request: definitely not applied. Any other
  // connection error may have come after the request left (a reset of a reused socket).
  if ("error" in outcome) {
    return { type: outcome.error === "ECONNREFUSED" ? "fail" : "info", error: outcome.error };
  }
  const { status, body } = outcome.reply;
  const why = typeof body?.error === "string" ? `${status} ${body.error}` : `HTTP ${status}`;
  if (status === 503 && body?.definite === true) return { type: "fail", error: why };
  if (status >= 400 && status < 500) return { type: "fail", error: why };
  if (status >= 500 && status < 600) return { type: "info", error: why };
  return protocolError(`HTTP ${status}, which the protocol does not have here`);
}

function readCompletion(outcome: Outcome): Completion {
  if ("reply" in outcome) {
    const { status, body, unreadable } = outcome.reply;
    if (status === 200) {
      if (unreadable !== undefined) return protocolError(`200 with ${unreadable}`);
      if (body === undefined || !("value" in body)) {
        return protocolError('200 without {"value": ...}');
      }
      return { type: "ok", value: body.value ?? null };
    }
    if (status === 404) return { type: "ok", value: null };
  }
  return otherwise(outcome);
}

/** A 200 to a write or a cas: ok, unless its body is there and cannot be understood. */
function applied(reply: Reply): Completion {
  return reply.unreadable === undefined
    ? { type: "ok" }
    : protocolError(`200 with ${reply.unreadable}`);
}

function writeCompletion(outcome: Outcome): Completion {
  if ("reply" in outcome && outcome.reply.status === 200) return applied(outcome.reply);
  return otherwise(outcome);
}

function casCompletion(outcome: Outcome): Completion {
  if ("reply" in outcome) {
    if (outcome.reply.status === 200) return applied(outcome.reply);
    if (outcome.reply.status === 409) return { type: "fail", error: "409 cas mismatch" };
  }
  return otherwise(outcome);
}
