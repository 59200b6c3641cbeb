// The node's HTTP client API (http-kv: doc/protocol.md).
//
// What a status code promises matters more than the code itself: a 503 with definite: true
// tells the harness the command was NOT applied (a `fail`); a 500 without it is indeterminate
// (an `info`). So only the handler's explicit "unavailable" answer is ever reported definite,
// and a route this server does not know is a 400, never a 404 (a 404 reads as "key absent").
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ANONYMOUS_CLIENT_PREFIX,
  type ClientRequest,
  type Command,
  type CommandResult,
  type KvValue,
} from "../command.js";

export interface HttpApiOptions {
  host: string;
  /** 0 picks a free port; read it back from `port`. */
  port: number;
  handler: (request: ClientRequest) => Promise<CommandResult>;
  /** `digest`: the request asked for `?digest=1` (the replica's state, which costs a pass over it). */
  status: (digest: boolean) => Record<string, unknown> | Promise<Record<string, unknown>>;
  maxBodyBytes?: number;
  /** Client id for requests that bring none; each such request is its own client. */
  newClientId?: () => string;
}

export interface HttpApi {
  readonly port: number;
  close(): Promise<void>;
}

class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const server = createServer({ keepAlive: true }, (req, res) => {
    serve(options, req, res).catch((error: unknown) => {
      // Reached only if writing the response failed (socket gone); nothing left to tell the client.
      res.destroy(error instanceof Error ? error : undefined);
    });
  });
  // Longer than client agents' idle timeouts, so a reused connection is rarely closed under a
  // request (which the harness would have to count as indeterminate).
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => closeServer(server),
  };
}

async function serve(options: HttpApiOptions, req: IncomingMessage, res: ServerResponse) {
  let request: ClientRequest | undefined;
  try {
    const url = new URL(req.url ?? "/", "http://node");
    if (url.pathname === "/status") {
      allow(req, ["GET"]);
      return reply(res, 200, await options.status(url.searchParams.get("digest") === "1"));
    }
    const command = await parseCommand(req, url.pathname, options.maxBodyBytes ?? 1024 * 1024);
    request = {
      ...clientIdentity(
        req,
        options.newClientId ?? (() => `${ANONYMOUS_CLIENT_PREFIX}${randomUUID()}`),
      ),
      command,
    };
  } catch (error) {
    if (error instanceof BadRequest) {
      return reply(res, error.status, { error: error.message, definite: true }, error.headers);
    }
    return reply(res, 500, { error: error instanceof Error ? error.message : String(error) });
  }
  let result: CommandResult;
  try {
    result = await options.handler(request);
  } catch (error) {
    // The command may have been proposed before the failure: indeterminate, so no `definite`.
    return reply(res, 500, { error: error instanceof Error ? error.message : String(error) });
  }
  return replyResult(res, request.command, result);
}

function replyResult(res: ServerResponse, command: Command, result: CommandResult) {
  switch (result.status) {
    case "ok":
      return reply(res, 200, command.op === "read" ? { value: result.value ?? null } : {});
    case "not-found":
      return reply(res, 404, { error: "not found", key: command.key });
    case "cas-mismatch":
      return reply(res, 409, {
        error: "current value is not `from`",
        ...(result.value === undefined ? {} : { value: result.value }),
      });
    case "unavailable":
      return reply(res, 503, {
        error: result.reason,
        definite: true,
        ...(result.leader === undefined ? {} : { leader: result.leader }),
      });
  }
}

async function parseCommand(req: IncomingMessage, path: string, limit: number): Promise<Command> {
  const match = /^\/kv\/([^/]+)(\/cas)?$/.exec(path);
  if (match === null) {
    throw new BadRequest(400, `unknown route ${req.method} ${path}`);
  }
  const key = decodeKey(match[1]!);
  if (match[2] !== undefined) {
    allow(req, ["POST"]);
    const body = await readJson(req, limit);
    return { op: "cas", key, from: field(body, "from"), to: field(body, "to") };
  }
  allow(req, ["GET", "PUT"]);
  if (req.method === "GET") return { op: "read", key };
  return { op: "write", key, value: field(await readJson(req, limit), "value") };
}

function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequest(400, `key is not valid percent-encoding: ${raw}`);
  }
}

function allow(req: IncomingMessage, methods: string[]): void {
  if (!methods.includes(req.method ?? "")) {
    throw new BadRequest(405, `method ${req.method} not allowed; use ${methods.join(" or ")}`, {
      allow: methods.join(", "),
    });
  }
}

function clientIdentity(req: IncomingMessage, newId: () => string) {
  const id = req.headers["x-client-id"];
  const seq = req.headers["x-seq"];
  if (id === undefined && seq === undefined) return { clientId: newId(), seq: 0 };
  // One without the other would make unrelated requests look like retries of each other.
  if (typeof id !== "string" || id === "" || typeof seq !== "string") {
    throw new BadRequest(400, "headers x-client-id and x-seq must be sent together");
  }
  if (!/^\d+$/.test(seq) || !Number.isSafeInteger(Number(seq))) {
    throw new BadRequest(400, `header x-seq must be a non-negative integer, got "${seq}"`);
  }
  return { clientId: id, seq: Number(seq) };
}

function field(body: unknown, name: string): KvValue {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequest(400, "body must be a JSON object");
  }
  if (!(name in body)) throw new BadRequest(400, `body is missing the "${name}" field`);
  return (body as Record<string, KvValue>)[name]!;
}

function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // The body is drained, not destroyed, past the limit, so the 413 still reaches the client.
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("error", reject);
    req.on("end", () => {
      if (size > limit) {
        reject(new BadRequest(413, `body exceeds ${limit} bytes`));
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (error) {
        reject(new BadRequest(400, `body is not valid JSON: ${(error as Error).message}`));
      }
    });
  });
}

function reply(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
