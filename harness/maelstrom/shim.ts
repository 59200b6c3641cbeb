// The Maelstrom shim: one per node, run by the runtime as the node's command. It starts the
// user's Maelstrom program, sends it `init`, answers the harness's clients over http-kv
// (translating to Maelstrom's read/write/cas RPCs, translate.ts), and carries node-to-node
// messages over TCP to the other nodes' shims (peers.ts). GET /status is 200 once the program
// answered init_ok.
//
// The program's output: a reply to one of our clients (dest "c<N>", matched by in_reply_to),
// a message to a node (to its shim; to ourselves, straight back to stdin), or something that
// is no message or goes nowhere: logged and counted (/status `unroutable`), never a crash.
// The program exiting ends the shim with its code, so the runtime sees the node die.

import http from "node:http";
import type { Value } from "../../checker/history.js";
import { type Message, route } from "./envelope.js";
import { listenForPeers, type PeerAddress, PeerLinks } from "./peers.js";
import { Program } from "./program.js";
import { answerOf, type Body, type HttpAnswer, type KvRequest, requestBody } from "./translate.js";

export interface ShimOptions {
  self: PeerAddress;
  httpPort: number;
  peers: readonly PeerAddress[];
  command: string;
  args: readonly string[];
  /** How long a client request waits for the program's reply before a 504 (info). */
  replyTimeoutMs: number;
  log(message: string, fields?: Record<string, unknown>): void;
  exit(code: number): void;
}

interface Pending {
  f: KvRequest["f"];
  answer(a: HttpAnswer): void;
}

/** The msg_id of our init; client requests count up from the next one. */
const INIT_MSG_ID = 1;

export class Shim {
  private readonly program: Program;
  private readonly links: PeerLinks;
  private readonly pending = new Map<number, Pending>();
  private readonly nodeIds: string[];
  private readonly clientNames = new Map<string, string>();
  private nextMsgId = INIT_MSG_ID + 1;
  private initialized = false;
  /** Set by stop(): the program's exit then ends us with 0 (we asked for it). */
  private stopping = false;
  private unroutable = 0;
  private lateReplies = 0;
  private readonly servers: { close(): void }[] = [];

  constructor(private readonly o: ShimOptions) {
    this.nodeIds = o.peers.map((p) => p.id);
    this.links = new PeerLinks(o.self, o.peers);
    this.program = new Program(o.command, o.args, {
      line: (text) => this.fromProgram(text),
      exit: (code, signal) => {
        o.log("program exited", { code, signal });
        o.exit(this.stopping ? 0 : (code ?? 1));
      },
      error: (error) => {
        o.log(`program could not start: ${error.message}`, { command: o.command });
        o.exit(127);
      },
    });
    o.log("program started", { pid: this.program.pid, command: o.command, args: o.args });
    this.servers.push(
      listenForPeers(
        o.self,
        (line) => this.fromPeer(line),
        (e) => this.fatal(`peer port: ${e.message}`),
      ),
    );
    const server = http.createServer((req, res) => this.serve(req, res));
    server.on("error", (e) => this.fatal(`http port: ${e.message}`));
    server.listen(o.httpPort, o.self.host);
    this.servers.push(server);
    this.toProgram({
      src: "c0",
      dest: o.self.id,
      body: { type: "init", msg_id: INIT_MSG_ID, node_id: o.self.id, node_ids: this.nodeIds },
    });
  }

  /** Stops the program (SIGTERM, then SIGKILL) and closes our sockets. */
  stop(graceMs: number): void {
    this.stopping = true;
    this.program.stop(graceMs);
    this.links.close();
    for (const s of this.servers) s.close();
  }

  private fatal(why: string): void {
    this.o.log(why);
    this.program.stop(0);
    this.o.exit(1);
  }

  private toProgram(message: Message): void {
    this.program.send(JSON.stringify(message));
  }

  private fromPeer(line: string): void {
    const routed = route(line, this.nodeIds);
    if (routed.to === "node" && routed.message.dest === this.o.self.id) {
      this.toProgram(routed.message);
      return;
    }
    this.unroutable++;
    this.o.log("dropped a peer message not for this node", {
      why: routed.to === "nowhere" ? routed.why : `dest ${routed.message.dest}`,
    });
  }

  private fromProgram(line: string): void {
    const routed = route(line, this.nodeIds);
    switch (routed.to) {
      case "node":
        if (routed.message.dest === this.o.self.id) this.toProgram(routed.message);
        else this.links.send(routed.message.dest, JSON.stringify(routed.message));
        return;
      case "client":
        this.reply(routed.message.body, routed.inReplyTo);
        return;
      case "nowhere":
        this.unroutable++;
        this.o.log("program output dropped", { why: routed.why });
    }
  }

  private reply(body: Body, inReplyTo: number | undefined): void {
    if (inReplyTo === INIT_MSG_ID) {
      if (body.type === "init_ok") {
        this.initialized = true;
        this.o.log("started", { init_ok: true });
      } else {
        this.fatal(`the program answered init with ${JSON.stringify(body)}`);
      }
      return;
    }
    const p = inReplyTo === undefined ? undefined : this.pending.get(inReplyTo);
    if (p === undefined) {
      // A reply after we gave up on the request, or to nothing we sent.
      this.lateReplies++;
      return;
    }
    if (inReplyTo !== undefined) this.pending.delete(inReplyTo);
    p.answer(answerOf(p.f, body));
  }

  private status(): HttpAnswer {
    return {
      status: this.initialized ? 200 : 503,
      body: {
        id: this.o.self.id,
        role: "maelstrom",
        leader: null,
        initialized: this.initialized,
        pending: this.pending.size,
        unroutable: this.unroutable,
        late_replies: this.lateReplies,
        peer_dropped: this.links.dropped,
      },
    };
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const send = (a: HttpAnswer) => {
      if (res.headersSent || res.destroyed) return;
      const text = JSON.stringify(a.body);
      res.writeHead(a.status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
      });
      res.end(text);
    };
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://shim");
      if (req.method === "GET" && url.pathname === "/status") return send(this.status());
      const parsed = kvRequest(req.method ?? "", url.pathname, Buffer.concat(chunks).toString());
      if (typeof parsed === "string") return send({ status: 400, body: { error: parsed } });
      if (!this.initialized) {
        return send({ status: 503, body: { error: "not initialized yet", definite: true } });
      }
      this.request(parsed, clientName(this.clientNames, req.headers["x-client-id"]), send, res);
    });
  }

  private request(
    kv: KvRequest,
    src: string,
    send: (a: HttpAnswer) => void,
    res: http.ServerResponse,
  ): void {
    const msgId = this.nextMsgId++;
    const timer = setTimeout(() => {
      this.pending.delete(msgId);
      send({ status: 504, body: { error: `no reply within ${this.o.replyTimeoutMs} ms` } });
    }, this.o.replyTimeoutMs);
    this.pending.set(msgId, {
      f: kv.f,
      answer: (a) => {
        clearTimeout(timer);
        send(a);
      },
    });
    // The client gave up (its timeout): forget the request; a later reply is only counted.
    res.on("close", () => {
      clearTimeout(timer);
      this.pending.delete(msgId);
    });
    this.toProgram({ src, dest: this.o.self.id, body: { ...requestBody(kv), msg_id: msgId } });
  }
}

/** The http-kv request (doc/protocol.md) of a method, path and body, or why it is not one. */
export function kvRequest(method: string, pathname: string, text: string): KvRequest | string {
  const m = /^\/kv\/([^/]+)(\/cas)?$/.exec(pathname);
  if (m === null) return `no such endpoint: ${method} ${pathname}`;
  let key: string;
  try {
    key = decodeURIComponent(m[1] as string);
  } catch {
    return `bad key encoding: ${m[1]}`;
  }
  const cas = m[2] !== undefined;
  if (method === "GET" && !cas) return { f: "read", key };
  let body: { [field: string]: Value };
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v))
      return "the body must be an object";
    body = v as { [field: string]: Value };
  } catch {
    return "the body is not JSON";
  }
  if (method === "PUT" && !cas && "value" in body) {
    return { f: "write", key, value: body.value ?? null };
  }
  if (method === "POST" && cas && "from" in body && "to" in body) {
    return { f: "cas", key, from: body.from ?? null, to: body.to ?? null };
  }
  return `no such request: ${method} ${pathname} with ${JSON.stringify(Object.keys(body))}`;
}

/** Maelstrom clients are "c1", "c2", ...: one name per harness client id, in order of arrival. */
function clientName(names: Map<string, string>, header: string | string[] | undefined): string {
  const id = typeof header === "string" ? header : "";
  let name = names.get(id);
  if (name === undefined) {
    name = `c${names.size + 1}`;
    names.set(id, name);
  }
  return name;
}
