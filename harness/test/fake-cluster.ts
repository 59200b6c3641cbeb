// An in-process fake cluster for the runner's tests: http-kv servers on 127.0.0.1 in the test
// process, implementing Runtime. Linearizable (one Map, each request applied at once) or
// broken (reads sometimes answer a stale value). A paused node holds its requests until
// resumed, so that operations to it time out (info).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Value } from "../../checker/history.js";
import { valueEqual } from "../../checker/history.js";
import { httpKvProtocol } from "../protocols/http-kv.js";
import type {
  Backend,
  Capabilities,
  ClusterView,
  Nemesis,
  NodeHandle,
  NodeSpec,
  Runtime,
} from "../types.js";

export interface FakeOptions {
  /** Reads answer the value before the last write to the key, a third of the time. */
  stale?: boolean;
  /** Every request answers this status (a dead backend). */
  failStart?: boolean;
}

export class FakeRuntime implements Runtime {
  readonly name = "local" as const;
  readonly data = new Map<string, Value>();
  private readonly previous = new Map<string, Value>();
  private readonly servers: Server[] = [];
  readonly paused = new Set<string>();
  private held: (() => void)[] = [];
  stopped = 0;
  requests = 0;
  readonly pauser = {
    pause: async (node: string) => {
      this.paused.add(node);
    },
    resume: async (node: string) => {
      this.paused.delete(node);
      const held = this.held;
      this.held = [];
      for (const release of held) release();
    },
  };

  constructor(private readonly options: FakeOptions = {}) {}

  async start(nodes: readonly NodeSpec[]): Promise<NodeHandle[]> {
    if (this.options.failStart) throw new Error("fake: nodes did not start");
    const handles: NodeHandle[] = [];
    for (const spec of nodes) {
      const server = createServer({ keepAlive: true }, (req, res) => this.serve(spec.id, req, res));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      this.servers.push(server);
      const port = (server.address() as AddressInfo).port;
      handles.push({ spec, url: `http://127.0.0.1:${port}` });
    }
    return handles;
  }

  async stop(): Promise<void> {
    this.stopped++;
    await this.pauser.resume("");
    for (const s of this.servers.splice(0)) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  async capabilities(): Promise<Capabilities> {
    const no = { ok: false as const, why: "fake" };
    return {
      partition: no,
      kill: no,
      pause: { ok: true },
      clock: no,
      loss: no,
      delay: no,
      power: no,
      reset: no,
    };
  }

  private serve(node: string, req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const run = () => this.answer(node, req, Buffer.concat(chunks).toString("utf8"), res);
      if (this.paused.has(node)) this.held.push(run);
      else run();
    });
  }

  private answer(node: string, req: IncomingMessage, body: string, res: ServerResponse): undefined {
    this.requests++;
    const reply = (status: number, payload: Record<string, Value> = {}): undefined => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/status") return reply(200, { id: node, role: "leader", leader: node });
    const m = /^\/kv\/([^/]+)(\/cas)?$/.exec(url.pathname);
    if (!m) return reply(400, { error: "no route", definite: true });
    const key = decodeURIComponent(m[1] as string);
    const parsed = body === "" ? {} : (JSON.parse(body) as Record<string, Value>);
    if (m[2]) {
      const current = this.data.get(key);
      if (current === undefined || !valueEqual(current, parsed.from ?? null)) {
        return reply(409, current === undefined ? {} : { value: current });
      }
      this.set(key, parsed.to ?? null);
      return reply(200);
    }
    if (req.method === "GET") {
      let value = this.data.get(key);
      if (this.options.stale && this.previous.has(key) && Math.random() < 1 / 3) {
        value = this.previous.get(key);
      }
      return value === undefined ? reply(404) : reply(200, { value });
    }
    this.set(key, parsed.value ?? null);
    return reply(200);
  }

  private set(key: string, value: Value): void {
    if (this.data.has(key)) this.previous.set(key, this.data.get(key) as Value);
    this.data.set(key, value);
  }
}

export const fakeBackend: Backend = {
  name: "fake",
  protocol: httpKvProtocol(),
  localCommand: () => ({ command: "true", args: [] }),
};

/** A pause nemesis over the fake runtime: freezes the first node. */
export function fakePauseNemesis(
  runtime: FakeRuntime,
): Nemesis & { starts: number; stops: number } {
  const n = {
    kind: "pause" as const,
    starts: 0,
    stops: 0,
    async start(cluster: ClusterView): Promise<Value> {
      n.starts++;
      const node = cluster.nodes[0]?.spec.id ?? "n1";
      await runtime.pauser.pause(node);
      return { nodes: [node] };
    },
    async stop(cluster: ClusterView): Promise<Value> {
      n.stops++;
      const node = cluster.nodes[0]?.spec.id ?? "n1";
      await runtime.pauser.resume(node);
      return { nodes: [node] };
    },
  };
  return n;
}
