import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADD_ATTEMPTS, HttpKvPool } from "../client/http-kv.js";
import type { Invocation } from "../types.js";

interface Seen {
  method: string;
  url: string;
  id: string | undefined;
  seq: string | undefined;
  body: string;
}

/** Answers with whatever `answer` says for the request; records what it saw. */
let answer: (req: Seen) => { status: number; body?: unknown; raw?: string } | "hang" | "drop" =
  () => ({
    status: 200,
  });
const seen: Seen[] = [];
let server: Server;
let url: string;
const pool = new HttpKvPool();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const s: Seen = {
        method: req.method ?? "",
        url: req.url ?? "",
        id: req.headers["x-client-id"] as string | undefined,
        seq: req.headers["x-seq"] as string | undefined,
        body,
      };
      seen.push(s);
      const a = answer(s);
      if (a === "hang") return;
      if (a === "drop") {
        req.socket.destroy();
        return;
      }
      res.writeHead(a.status, { "content-type": "application/json" });
      res.end(a.raw ?? (a.body === undefined ? "" : JSON.stringify(a.body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  pool.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const node = () => ({
  spec: { id: "n1", host: "127.0.0.1", httpPort: 0, peerPort: 0, dataDir: "" },
  url,
});
const signal = () => AbortSignal.timeout(500);

async function run(op: Invocation, status: number, body?: unknown) {
  answer = () => ({ status, body });
  return pool.client(node(), "c1").invoke(op, signal());
}

describe("HttpKvClient", () => {
  const read: Invocation = { f: "read", key: "k1" };
  const write: Invocation = { f: "write", key: "k1", value: 3 };
  const cas: Invocation = { f: "cas", key: "k1", value: [1, 2] };

  it("200 on a read: ok with the value; 404: ok, absent", async () => {
    expect(await run(read, 200, { value: 4 })).toEqual({ type: "ok", value: 4 });
    expect(await run(read, 404, { error: "not found" })).toEqual({ type: "ok", value: null });
  });

  it("200 on a write and a cas: ok; 409 on a cas: fail", async () => {
    expect((await run(write, 200, {})).type).toBe("ok");
    expect((await run(cas, 200, {})).type).toBe("ok");
    expect((await run(cas, 409, { error: "mismatch" })).type).toBe("fail");
  });

  it("503 definite: fail; 503 without definite, 500, 504: info", async () => {
    for (const op of [read, write, cas]) {
      expect((await run(op, 503, { error: "no leader", definite: true })).type).toBe("fail");
      expect((await run(op, 503, { error: "hmm" })).type).toBe("info");
      expect((await run(op, 500, { error: "boom" })).type).toBe("info");
      expect((await run(op, 504)).type).toBe("info");
    }
  });

  it("a reply the client cannot understand: info, marked as a protocol error", async () => {
    const raw = async (op: Invocation, status: number, text: string) => {
      answer = () => ({ status, raw: text });
      return pool.client(node(), "c1").invoke(op, signal());
    };
    // A 200 whose body is not JSON was an ok read of null: a false "not linearizable".
    expect(await raw(read, 200, "<html>OK</html>")).toEqual({
      type: "info",
      error: 'protocol error: 200 with a body that is not JSON ("<html>OK</html>")',
      protocolError: true,
    });
    expect(await raw(read, 200, "[1]")).toMatchObject({ type: "info", protocolError: true });
    expect(await run(read, 200, { val: 1 })).toMatchObject({
      type: "info",
      error: 'protocol error: 200 without {"value": ...}',
      protocolError: true,
    });
    expect(await raw(write, 200, "done")).toMatchObject({ type: "info", protocolError: true });
    expect(await raw(cas, 200, "yes")).toMatchObject({ type: "info", protocolError: true });
    expect(await run(write, 302)).toMatchObject({
      type: "info",
      error: "protocol error: HTTP 302, which the protocol does not have here",
      protocolError: true,
    });
    // Still understood: an empty 200 to a write, a read of null, a 5xx whose body is text.
    expect(await raw(write, 200, "")).toEqual({ type: "ok" });
    expect(await run(read, 200, { value: null })).toEqual({ type: "ok", value: null });
    expect(await raw(read, 503, "Service Unavailable")).toEqual({
      type: "info",
      error: "HTTP 503",
    });
  });

  it("a timeout and a dropped connection: info", async () => {
    answer = () => "hang";
    const c = await pool.client(node(), "c1").invoke(read, AbortSignal.timeout(100));
    expect(c).toMatchObject({ type: "info", error: "timeout" });
    answer = () => "drop";
    expect((await pool.client(node(), "c1").invoke(write, signal())).type).toBe("info");
  });

  it("a refused connection never carried the request: fail", async () => {
    // A port nothing listens on: bind one, note it, close it.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const gone = { ...node(), url: `http://127.0.0.1:${port}` };
    const c = await pool.client(gone, "c1").invoke(write, signal());
    expect(c).toMatchObject({ type: "fail", error: "ECONNREFUSED" });
  });

  it("sends x-client-id and an increasing x-seq, and the protocol's paths and bodies", async () => {
    seen.length = 0;
    answer = () => ({ status: 200, body: {} });
    const client = pool.client(node(), "run-p7");
    await client.invoke(write, signal());
    await client.invoke(cas, signal());
    await client.invoke({ f: "read", key: "a/b" }, signal());
    expect(seen.map((s) => [s.method, s.url, s.id, s.seq])).toEqual([
      ["PUT", "/kv/k1", "run-p7", "1"],
      ["POST", "/kv/k1/cas", "run-p7", "2"],
      ["GET", "/kv/a%2Fb", "run-p7", "3"],
    ]);
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({ value: 3 });
    expect(JSON.parse(seen[1]?.body ?? "")).toEqual({ from: 1, to: 2 });
  });

  it("set add: read then cas [old, old + e]; after a 409 from the value it names", async () => {
    seen.length = 0;
    let cases = 0;
    answer = (s) => {
      if (s.method === "GET") return { status: 200, body: { value: [1] } };
      cases++;
      return cases === 1 ? { status: 409, body: { value: [1, 2] } } : { status: 200, body: {} };
    };
    const c = await pool.client(node(), "c2").invoke({ f: "add", key: "set", value: 5 }, signal());
    expect(c.type).toBe("ok");
    expect(seen.map((s) => s.method)).toEqual(["GET", "POST", "POST"]);
    expect(JSON.parse(seen[1]?.body ?? "")).toEqual({ from: [1], to: [1, 5] });
    expect(JSON.parse(seen[2]?.body ?? "")).toEqual({ from: [1, 2], to: [1, 2, 5] });
  });

  it("set add: fail when no cas can have applied, info once one is indeterminate", async () => {
    answer = (s) => (s.method === "GET" ? { status: 200, body: { value: [] } } : { status: 409 });
    const add: Invocation = { f: "add", key: "set", value: 9 };
    const failed = await pool.client(node(), "c3").invoke(add, signal());
    expect(failed.type).toBe("fail");
    expect(failed.error).toContain(`${ADD_ATTEMPTS} attempts`);
    answer = (s) => (s.method === "GET" ? { status: 200, body: { value: [] } } : { status: 500 });
    expect((await pool.client(node(), "c3").invoke(add, signal())).type).toBe("info");
    answer = () => ({ status: 503, body: { definite: true } });
    expect((await pool.client(node(), "c3").invoke(add, signal())).type).toBe("fail");
  });

  it("set add: its own element in the value after refusals ends it as fail (a refused cas that applied)", async () => {
    seen.length = 0;
    // The store refuses the cas, naming a value that holds the element: the refused cas applied.
    answer = (s) =>
      s.method === "GET"
        ? { status: 200, body: { value: [1] } }
        : { status: 409, body: { value: [1, 7] } };
    const refused = await pool
      .client(node(), "c4")
      .invoke({ f: "add", key: "set", value: 7 }, signal());
    expect(refused).toEqual({
      type: "fail",
      error: "the element is in the set though the store refused every cas of this add (1)",
    });
    // It does not add the element again on top (the cas loop used to: [1, 7, 7]).
    expect(seen.map((s) => s.method)).toEqual(["GET", "POST"]);
    answer = () => ({ status: 200, body: { value: [7] } });
    const before = await pool
      .client(node(), "c5")
      .invoke({ f: "add", key: "set", value: 7 }, signal());
    expect(before.error).toBe("the element is in the set before this add's first cas");
  });

  it("read-all: the array read; absent: the empty set", async () => {
    const all: Invocation = { f: "read-all", key: "set" };
    expect(await run(all, 200, { value: [1, 2] })).toEqual({ type: "ok", value: [1, 2] });
    expect(await run(all, 404)).toEqual({ type: "ok", value: [] });
  });
});
