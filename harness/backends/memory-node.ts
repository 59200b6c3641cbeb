// A tiny http-kv node for testing the harness itself (doc/protocol.md).
//
// Default: the leader (--leader, else the first id of --peers) holds the data in memory; every
// other node proxies each request to it, so the cluster is linearizable. A follower that cannot
// connect to the leader answers 503 definite (the request never reached it); one that loses
// the leader after sending answers 504 indeterminate.
//
// --broken: each node keeps its own copy, answers reads from it, and replicates writes to the
// others asynchronously after --replication-delay-ms: deliberately NOT linearizable.
//
// Every request to a peer is dialed from this node's own address (localAddress), unless
// --unbound-dial, which dials from the default address as most programs do: the local
// runtime's namespaces cut such a node all the same (a test shows it). The leader writes its map to <data-dir>/kv.json
// (write, then rename) before it answers a write, and reads it back at start, so a killed and
// restarted leader keeps what it acknowledged (a SIGKILL does not lose the page cache). Broken
// nodes keep nothing.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";
import { type PeerAddress, parsePeerFlag } from "../peer-flag.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const { values } = parseArgs({
  options: {
    id: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    "http-port": { type: "string", default: "8000" },
    "peer-port": { type: "string" },
    peers: { type: "string", default: "" },
    "data-dir": { type: "string" },
    leader: { type: "string" },
    broken: { type: "boolean", default: false },
    "unbound-dial": { type: "boolean", default: false },
    "replication-delay-ms": { type: "string", default: "300" },
    "proxy-timeout-ms": { type: "string", default: "1000" },
  },
  strict: true,
});

const id = values.id ?? fail("--id is required");
const host = values.host;
const parsed = parsePeerFlag(values.peers);
const peers = "error" in parsed ? fail(parsed.error) : parsed;
const leaderId = values.leader ?? peers[0]?.id ?? id;
const broken = values.broken;
const replicationDelayMs = Number(values["replication-delay-ms"]);
const proxyTimeoutMs = Number(values["proxy-timeout-ms"]);
const dataDir = values["data-dir"];
if (dataDir) mkdirSync(dataDir, { recursive: true });
const dataFile = dataDir && !broken && leaderId === id ? path.join(dataDir, "kv.json") : undefined;

const data = new Map<string, Json>(load());

function load(): [string, Json][] {
  if (dataFile === undefined) return [];
  try {
    return Object.entries(JSON.parse(readFileSync(dataFile, "utf8")) as { [k: string]: Json });
  } catch {
    return [];
  }
}

function save(): void {
  if (dataFile === undefined) return;
  writeFileSync(`${dataFile}.tmp`, JSON.stringify(Object.fromEntries(data)));
  renameSync(`${dataFile}.tmp`, dataFile);
}

function fail(message: string): never {
  process.stderr.write(`memory-node: ${message}\n`);
  process.exit(2);
}

function log(message: string, fields: Record<string, Json> = {}): void {
  process.stdout.write(
    `${JSON.stringify({ t: new Date().toISOString(), id, message, ...fields })}\n`,
  );
}

function reply(res: http.ServerResponse, status: number, body?: Json): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", connection: "close" });
  res.end(text);
}

/** Applies a client request to this node's own copy. */
function apply(method: string, key: string, cas: boolean, body: Json): [number, Json?] {
  const obj = (body ?? {}) as { [k: string]: Json };
  if (method === "GET" && !cas) {
    return data.has(key)
      ? [200, { value: data.get(key) ?? null }]
      : [404, { error: "no such key" }];
  }
  if (method === "PUT" && !cas) {
    data.set(key, obj.value ?? null);
    save();
    return [200, {}];
  }
  if (method === "POST" && cas) {
    const current = data.has(key) ? JSON.stringify(data.get(key)) : undefined;
    if (current !== JSON.stringify(obj.from ?? null)) return [409, { error: "value differs" }];
    data.set(key, obj.to ?? null);
    save();
    return [200, {}];
  }
  return [405, { error: `${method} not allowed` }];
}

/** Sends one request to a peer from our own address; resolves to its status and body. */
function toPeer(
  peer: PeerAddress,
  method: string,
  path: string,
  body: string,
): Promise<{ status: number; body: string } | { error: string; connected: boolean }> {
  return new Promise((resolve) => {
    let connected = false;
    const req = http.request(
      {
        host: peer.host,
        port: peer.port,
        method,
        path,
        ...(values["unbound-dial"] ? {} : { localAddress: host }),
        agent: false,
        timeout: proxyTimeoutMs,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 500, body: Buffer.concat(chunks).toString() }),
        );
        res.on("error", (e) => resolve({ error: e.message, connected: true }));
      },
    );
    req.on("socket", (s) => s.on("connect", () => (connected = true)));
    req.on("timeout", () => req.destroy(new Error(`timed out after ${proxyTimeoutMs} ms`)));
    req.on("error", (e) => resolve({ error: e.message, connected }));
    req.end(body);
  });
}

function replicate(key: string): void {
  const value = data.get(key) ?? null;
  setTimeout(() => {
    for (const peer of peers.filter((p) => p.id !== id)) {
      void toPeer(peer, "PUT", `/replica/${encodeURIComponent(key)}`, JSON.stringify({ value }));
    }
  }, replicationDelayMs);
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, text: string) {
  const url = new URL(req.url ?? "/", "http://x");
  const method = req.method ?? "GET";
  if (url.pathname === "/status" && method === "GET") {
    const role = broken ? "replica" : leaderId === id ? "leader" : "follower";
    return reply(res, 200, { id, role, leader: broken ? null : leaderId, time: Date.now() });
  }
  const replica = /^\/replica\/([^/]+)$/.exec(url.pathname);
  if (replica && method === "PUT" && broken) {
    data.set(decodeURIComponent(replica[1] as string), (JSON.parse(text) as { value: Json }).value);
    return reply(res, 200, {});
  }
  const kv = /^\/kv\/([^/]+)(\/cas)?$/.exec(url.pathname);
  if (kv === null) return reply(res, 404, { error: `no route ${method} ${url.pathname}` });
  const key = decodeURIComponent(kv[1] as string);
  const cas = kv[2] !== undefined;
  let body: Json = null;
  if (text !== "") {
    try {
      body = JSON.parse(text) as Json;
    } catch {
      return reply(res, 400, { error: "body is not JSON" });
    }
  }
  if (broken || leaderId === id) {
    const [status, out] = apply(method, key, cas, body);
    if (broken && status === 200 && method !== "GET") replicate(key);
    return reply(res, status, out);
  }
  const leader = peers.find((p) => p.id === leaderId);
  if (leader === undefined) return reply(res, 503, { error: "no leader", definite: true });
  const r = await toPeer(leader, method, url.pathname, text);
  if ("error" in r) {
    // Never connected: the leader cannot have applied it.
    if (!r.connected) return reply(res, 503, { error: `leader: ${r.error}`, definite: true });
    return reply(res, 504, { error: `leader: ${r.error}`, definite: false });
  }
  res.writeHead(r.status, { "content-type": "application/json", connection: "close" });
  res.end(r.body);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    handle(req, res, Buffer.concat(chunks).toString()).catch((e: unknown) =>
      reply(res, 500, { error: String(e) }),
    );
  });
});

server.listen(Number(values["http-port"]), host, () => {
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  log("listening", { host, port, leader: leaderId, broken });
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    log("stopping", { signal });
    server.close();
    process.exit(0);
  });
}
