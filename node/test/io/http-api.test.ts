import { Agent, request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { ClientRequest, CommandResult } from "../../command.js";
import { type HttpApi, startHttpApi } from "../../io/http-api.js";

let api: HttpApi | undefined;
const agent = new Agent({ keepAlive: true });

afterEach(async () => {
  agent.destroy();
  await api?.close();
  api = undefined;
});

type Handler = (r: ClientRequest) => Promise<CommandResult>;

async function serve(handler: Handler, status: Record<string, unknown> = {}) {
  const seen: ClientRequest[] = [];
  api = await startHttpApi({
    host: "127.0.0.1",
    port: 0,
    handler: (r) => {
      seen.push(r);
      return handler(r);
    },
    status: (digest) => (digest ? { ...status, digest_asked: true } : status),
  });
  return seen;
}

interface Response {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

function call(
  method: string,
  path: string,
  body?: string | object,
  headers: Record<string, string> = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: api!.port, method, path, headers, agent },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => {
          text += d.toString();
        });
        res.on("end", () =>
          resolve({ status: res.statusCode!, body: JSON.parse(text), headers: res.headers }),
        );
      },
    );
    req.on("error", reject);
    req.end(typeof body === "object" ? JSON.stringify(body) : body);
  });
}

const ok: Handler = async (r) =>
  r.command.op === "read" ? { status: "ok", value: [1, "x"] } : { status: "ok" };

describe("HTTP client API", () => {
  it("GET /kv/:key reads", async () => {
    const seen = await serve(ok);
    const res = await call("GET", "/kv/k1");
    expect(res).toMatchObject({ status: 200, body: { value: [1, "x"] } });
    expect(res.headers["content-type"]).toBe("application/json");
    expect(seen[0]!.command).toEqual({ op: "read", key: "k1" });
  });

  it("PUT /kv/:key writes, including a null value", async () => {
    const seen = await serve(ok);
    expect((await call("PUT", "/kv/k", { value: { a: [1] } })).status).toBe(200);
    expect((await call("PUT", "/kv/k", { value: null })).status).toBe(200);
    expect(seen.map((r) => r.command)).toEqual([
      { op: "write", key: "k", value: { a: [1] } },
      { op: "write", key: "k", value: null },
    ]);
  });

  it("POST /kv/:key/cas compares and sets", async () => {
    const seen = await serve(ok);
    expect((await call("POST", "/kv/k/cas", { from: 1, to: 2 })).status).toBe(200);
    expect(seen[0]!.command).toEqual({ op: "cas", key: "k", from: 1, to: 2 });
  });

  it("maps not-found to 404 and cas-mismatch to 409", async () => {
    await serve(async (r) =>
      r.command.op === "read" ? { status: "not-found" } : { status: "cas-mismatch", value: 7 },
    );
    expect((await call("GET", "/kv/nope")).status).toBe(404);
    expect(await call("POST", "/kv/k/cas", { from: 1, to: 2 })).toMatchObject({
      status: 409,
      body: { value: 7 },
    });
  });

  it("maps unavailable to 503 with definite: true", async () => {
    await serve(async () => ({ status: "unavailable", reason: "no leader", leader: "n2" }));
    expect(await call("PUT", "/kv/k", { value: 1 })).toMatchObject({
      status: 503,
      body: { error: "no leader", definite: true, leader: "n2" },
    });
  });

  it("answers 500 without definite when the handler rejects (indeterminate)", async () => {
    await serve(async () => {
      throw new Error("core crashed mid-proposal");
    });
    const res = await call("PUT", "/kv/k", { value: 1 });
    expect(res.status).toBe(500);
    expect(res.body.error).toMatch(/core crashed/);
    expect(res.body).not.toHaveProperty("definite");
  });

  it("URL-decodes keys", async () => {
    const seen = await serve(ok);
    await call("GET", "/kv/a%2Fb%20c%C3%A9");
    expect(seen[0]!.command).toMatchObject({ key: "a/b cé" });
    expect((await call("GET", "/kv/%E0%A4%A")).body.error).toMatch(/percent-encoding/);
  });

  it("passes x-client-id and x-seq through, else makes a fresh client per request", async () => {
    const seen = await serve(ok);
    await call("PUT", "/kv/k", { value: 1 }, { "x-client-id": "c7", "x-seq": "42" });
    await call("GET", "/kv/k");
    await call("GET", "/kv/k");
    expect(seen[0]).toMatchObject({ clientId: "c7", seq: 42 });
    expect(seen[1]!.seq).toBe(0);
    // Anonymous: statemachine.ts keeps these sessions a shorter time.
    expect(seen[1]!.clientId).toMatch(/^anon\/[0-9a-f-]{36}$/);
    expect(seen[2]!.clientId).not.toBe(seen[1]!.clientId);
  });

  it("rejects half or bad client identity headers with 400", async () => {
    const seen = await serve(ok);
    const half = await call("GET", "/kv/k", undefined, { "x-client-id": "c1" });
    expect(half.status).toBe(400);
    expect(half.body.error).toMatch(/x-client-id and x-seq/);
    const bad = await call("GET", "/kv/k", undefined, { "x-client-id": "c1", "x-seq": "-1" });
    expect(bad.body.error).toMatch(/x-seq/);
    expect(seen).toEqual([]);
  });

  it("answers 400 naming the problem with a bad body or route", async () => {
    const seen = await serve(ok);
    const cases: [string, string, string | object | undefined, RegExp][] = [
      ["PUT", "/kv/k", "{not json", /not valid JSON/],
      ["PUT", "/kv/k", { val: 1 }, /missing the "value" field/],
      ["PUT", "/kv/k", "[1]", /JSON object/],
      ["POST", "/kv/k/cas", { from: 1 }, /missing the "to" field/],
      ["GET", "/kv/", undefined, /unknown route/],
      ["GET", "/kv/a/b", undefined, /unknown route/],
      ["GET", "/nothing", undefined, /unknown route GET \/nothing/],
    ];
    for (const [method, path, body, error] of cases) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.body.error).toMatch(error);
    }
    expect(seen).toEqual([]);
  });

  it("answers 413 to an oversized body and still replies", async () => {
    const seen = await serve(ok);
    const res = await call("PUT", "/kv/k", `{"value":"${"x".repeat(2 * 1024 * 1024)}"}`);
    expect(res.status).toBe(413);
    expect(seen).toEqual([]);
  });

  it("answers 405 to a wrong method", async () => {
    await serve(ok);
    const res = await call("DELETE", "/kv/k");
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe("GET, PUT");
    expect((await call("GET", "/kv/k/cas")).status).toBe(405);
    expect((await call("POST", "/status")).status).toBe(405);
  });

  it("serves /status from its callback", async () => {
    await serve(ok, { id: "n1", role: "leader", leader: "n1" });
    expect(await call("GET", "/status")).toMatchObject({
      status: 200,
      body: { id: "n1", role: "leader", leader: "n1" },
    });
    // The replica's state is computed only when asked for (it is a pass over the whole state).
    expect((await call("GET", "/status")).body.digest_asked).toBeUndefined();
    expect((await call("GET", "/status?digest=1")).body.digest_asked).toBe(true);
  });

  it("keeps connections alive across requests", async () => {
    await serve(ok);
    const ports = new Set<number>();
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port: api!.port, path: "/kv/k", agent }, (res) => {
          ports.add(res.socket.localPort!);
          res.resume();
          res.on("end", resolve);
        });
        req.on("error", reject);
        req.end();
      });
    }
    expect(ports.size).toBe(1);
  });
});
