// Helpers (tests and the bench) for clusters of REAL node processes on loopback: each node on its own address
// (127.0.S.i, S random per cluster so that parallel test files and runs do not collide), its own
// ports and its own temp data dir. Children are killed by PID, temp dirs removed, in `destroy`.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");

export interface ProcNode {
  id: string;
  host: string;
  peerPort: number;
  httpPort: number;
  dataDir: string;
  proc?: ChildProcess;
  /** Everything the process wrote (stdout and stderr), for failure messages. */
  output: string[];
  exits: { code: number | null; signal: string | null }[];
}

export interface Status {
  id: string;
  role: string;
  leader: string | null;
  promised: { round: number; node: string } | null;
  commitIndex: number;
  appliedIndex: number;
  snapshotIndex: number;
  log: { fsyncs: number; appends: number; records: number; rewrites: number };
  http: { requests: { read: number; write: number; cas: number }; timeouts: number };
  [key: string]: unknown;
}

export interface HttpResult {
  status: number;
  body: Record<string, unknown>;
}

export interface ClusterOptions {
  nodes: number;
  /** Extra flags for every node. */
  args?: string[];
  /** Use the compiled dist/node/main.js instead of tsx on node/main.ts. */
  compiled?: boolean;
  /** Flags for the node runtime itself (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export class ProcCluster {
  readonly nodes: ProcNode[] = [];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  private constructor(
    readonly root: string,
    private readonly options: ClusterOptions,
  ) {
    const subnet = 10 + Math.floor(Math.random() * 240);
    const portBase = 20_000 + Math.floor(Math.random() * 400) * 100;
    for (let i = 1; i <= options.nodes; i++) {
      this.nodes.push({
        id: `n${i}`,
        host: `127.0.${subnet}.${i}`,
        peerPort: portBase + i,
        httpPort: portBase + 50 + i,
        dataDir: join(root, `n${i}`),
        output: [],
        exits: [],
      });
    }
  }

  static async create(options: ClusterOptions): Promise<ProcCluster> {
    const root = await mkdtemp(join(tmpdir(), "paxos-cluster-"));
    return new ProcCluster(root, options);
  }

  node(id: string): ProcNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  get peersFlag(): string {
    return this.nodes.map((n) => `${n.id}=${n.host}:${n.peerPort}`).join(",");
  }

  startAll(): void {
    for (const n of this.nodes) this.start(n.id);
  }

  start(id: string): void {
    const n = this.node(id);
    if (n.proc && n.proc.exitCode === null && n.proc.signalCode === null) {
      throw new Error(`${id} is running`);
    }
    const entry = this.options.compiled
      ? [join(ROOT, "dist/node/main.js")]
      : ["--import", "tsx", join(ROOT, "node/main.ts")];
    const args = [
      ...(this.options.nodeArgs ?? []),
      ...entry,
      "--id",
      n.id,
      "--peers",
      this.peersFlag,
      "--http-port",
      String(n.httpPort),
      "--data-dir",
      n.dataDir,
      ...(this.options.args ?? []),
    ];
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    n.proc = proc;
    keepOutput(proc, n.output, 2000);
    proc.on("exit", (code, signal) => n.exits.push({ code, signal }));
  }

  /** Kills one node by PID and waits for it to be gone. */
  async kill(id: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const proc = this.node(id).proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((done) => proc.once("exit", () => done()));
    proc.kill(signal);
    await gone;
  }

  running(id: string): boolean {
    const proc = this.node(id).proc;
    return proc !== undefined && proc.exitCode === null && proc.signalCode === null;
  }

  /** Kills every child by PID, then removes the data dirs. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.kill(n.id)));
    this.agent.destroy();
    await rm(this.root, { recursive: true, force: true });
  }

  async status(id: string, timeoutMs = 1000): Promise<Status | undefined> {
    try {
      const r = await this.http(id, "GET", "/status", undefined, { timeoutMs });
      return r.status === 200 ? (r.body as unknown as Status) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Waits until every running node answers /status and all agree on one leader. */
  async waitForLeader(timeoutMs = 20_000, among?: string[]): Promise<string> {
    const ids = among ?? this.nodes.filter((n) => this.running(n.id)).map((n) => n.id);
    const deadline = Date.now() + timeoutMs;
    let last: (Status | undefined)[] = [];
    while (Date.now() < deadline) {
      last = await Promise.all(ids.map((id) => this.status(id)));
      const leaders = new Set(last.map((s) => s?.leader));
      const leader = last[0]?.leader;
      if (last.every((s) => s !== undefined) && leaders.size === 1 && leader) {
        const ls = last.find((s) => s?.id === leader);
        if (ls?.role === "leader") return leader;
      }
      await sleep(100);
    }
    throw new Error(
      `no agreed leader among ${ids.join(",")} after ${timeoutMs} ms: ${JSON.stringify(
        last.map((s) => s && { id: s.id, role: s.role, leader: s.leader }),
      )}\n${this.tail()}`,
    );
  }

  /** The last lines each node wrote (for failure messages). */
  tail(lines = 15): string {
    return this.nodes
      .map((n) => `--- ${n.id}\n${n.output.join("").split("\n").slice(-lines).join("\n")}`)
      .join("\n");
  }

  http(
    id: string,
    method: string,
    path: string,
    body?: unknown,
    opts: { timeoutMs?: number; headers?: Record<string, string>; agent?: Agent } = {},
  ): Promise<HttpResult> {
    const n = this.node(id);
    return httpCall(n.host, n.httpPort, method, path, body, {
      agent: opts.agent ?? this.agent,
      timeoutMs: opts.timeoutMs ?? 5000,
      headers: opts.headers,
    });
  }
}

export function httpCall(
  host: string,
  port: number,
  method: string,
  path: string,
  body: unknown,
  opts: { agent: Agent; timeoutMs: number; headers?: Record<string, string> | undefined },
): Promise<HttpResult> {
  return new Promise((resolvePromise, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      {
        host,
        port,
        method,
        path,
        agent: opts.agent,
        headers: {
          ...(opts.headers ?? {}),
          ...(payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            parsed = { raw: text };
          }
          resolvePromise({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error("client timeout")), opts.timeoutMs);
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(payload);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Keeps the last of what a process writes (stdout and stderr), at most about `max` chunks. */
export function keepOutput(proc: ChildProcess, output: string[], max: number): void {
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString("utf8"));
    if (output.length > max) output.splice(0, max / 2);
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
}
