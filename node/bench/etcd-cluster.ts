// A 3-member etcd cluster (Debian's etcd-server, /usr/bin/etcd, 3.4.x) on 127.0.0.1 for the
// bench, to compare ours with: free ports, data dirs in one temp folder, etcd's default timings
// (unlike examples/etcd/etcd.yaml, which slows them for fault tests; a bench measures the
// defaults). Its v3 JSON gateway serves on each client URL. `stop` ends the members by PID and
// removes the folder.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpCall, keepOutput, sleep } from "../test/procs.js";

export const ETCD_BIN = "/usr/bin/etcd";

export interface EtcdMember {
  name: string;
  host: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  proc?: ChildProcess;
  /** The last of what it wrote (zap JSON lines on stderr), for failure messages and warnings. */
  output: string[];
  spawnError?: string;
}

/** Why the bench cannot run etcd here, or undefined when it can. */
export function etcdMissing(binary = ETCD_BIN): string | undefined {
  return existsSync(binary) ? undefined : `${binary} not found (Debian's etcd-server)`;
}

/** Ports the kernel just handed out on `host`, all held at once so that they differ. */
async function freePorts(host: string, count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((done, fail) => {
          const server = createServer();
          server.once("error", fail);
          server.listen(0, host, () => done(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((done) => s.close(() => done()))));
  return ports;
}

export class EtcdCluster {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });

  private constructor(
    readonly root: string,
    readonly members: EtcdMember[],
    private readonly binary: string,
  ) {}

  /** Spawns the members (returns at once: `waitReady` waits for them). */
  static async start(options: { members?: number; binary?: string } = {}): Promise<EtcdCluster> {
    const count = options.members ?? 3;
    const host = "127.0.0.1";
    const root = await mkdtemp(join(tmpdir(), "etcd-bench-"));
    const ports = await freePorts(host, 2 * count);
    const members = Array.from({ length: count }, (_, i) => ({
      name: `e${i + 1}`,
      host,
      clientPort: ports[2 * i]!,
      peerPort: ports[2 * i + 1]!,
      dataDir: join(root, `e${i + 1}`),
      output: [] as string[],
    }));
    const cluster = new EtcdCluster(root, members, options.binary ?? ETCD_BIN);
    for (const m of members) cluster.spawn(m);
    return cluster;
  }

  private spawn(m: EtcdMember): void {
    const initial = this.members.map((x) => `${x.name}=http://${x.host}:${x.peerPort}`).join(",");
    const args = [
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--listen-client-urls=http://${m.host}:${m.clientPort}`,
      `--advertise-client-urls=http://${m.host}:${m.clientPort}`,
      `--listen-peer-urls=http://${m.host}:${m.peerPort}`,
      `--initial-advertise-peer-urls=http://${m.host}:${m.peerPort}`,
      `--initial-cluster=${initial}`,
      "--initial-cluster-state=new",
      "--initial-cluster-token=paxos-bench",
      "--logger=zap",
      "--log-outputs=stderr",
    ];
    const proc = spawn(this.binary, args, { cwd: this.root, stdio: ["ignore", "pipe", "pipe"] });
    m.proc = proc;
    keepOutput(proc, m.output, 4000);
    // A spawn failure (ENOENT, EACCES) must not crash the bench: waitReady reports it.
    proc.on("error", (error) => {
      m.spawnError = error.message;
    });
  }

  /** POST to a member's v3 JSON gateway. */
  call(
    m: EtcdMember,
    path: string,
    body: unknown,
    timeoutMs = 1000,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    return httpCall(m.host, m.clientPort, "POST", path, body, { agent: this.agent, timeoutMs });
  }

  /**
   * Waits until every member answers /v3/maintenance/status and all name the same leader, one
   * of them; returns the leader's name.
   */
  async waitReady(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      const exited = this.members.find(
        (m) => !m.proc || m.proc.exitCode !== null || m.proc.signalCode !== null || m.spawnError,
      );
      if (exited) {
        const why =
          exited.spawnError ?? `exited (${exited.proc?.exitCode ?? exited.proc?.signalCode})`;
        throw new Error(`etcd ${exited.name}: ${why}\n${this.tail()}`);
      }
      const answers = await Promise.all(
        this.members.map(async (m) => {
          try {
            const r = await this.call(m, "/v3/maintenance/status", {});
            const header = r.body.header as { member_id?: string } | undefined;
            const leader = r.body.leader;
            return r.status === 200 && typeof leader === "string" && header?.member_id
              ? { id: header.member_id, leader }
              : undefined;
          } catch {
            return undefined;
          }
        }),
      );
      last = JSON.stringify(answers);
      const leaders = new Set(answers.map((a) => a?.leader));
      const leader = answers[0]?.leader;
      if (answers.every((a) => a !== undefined) && leaders.size === 1 && leader !== "0") {
        const index = answers.findIndex((a) => a?.id === leader);
        if (index >= 0) return this.members[index]!.name;
      }
      await sleep(100);
    }
    throw new Error(`etcd: no agreed leader after ${timeoutMs} ms: ${last}\n${this.tail()}`);
  }

  member(name: string): EtcdMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no etcd member ${name}`);
    return m;
  }

  /** Warnings and errors the members logged, by message, with counts. */
  warnings(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.members) {
      for (const line of m.output.join("").split("\n")) {
        if (!line.startsWith("{")) continue;
        try {
          const entry = JSON.parse(line) as { level?: string; msg?: string };
          if (entry.level === "warn" || entry.level === "error" || entry.level === "fatal") {
            const key = `${entry.level}: ${entry.msg ?? "?"}`;
            counts.set(key, (counts.get(key) ?? 0) + 1);
          }
        } catch {
          // A line split across chunks: not a whole entry, skip it.
        }
      }
    }
    return counts;
  }

  tail(lines = 10): string {
    return this.members
      .map((m) => `--- ${m.name}\n${m.output.join("").split("\n").slice(-lines).join("\n")}`)
      .join("\n");
  }

  /** SIGTERM each member by PID (SIGKILL after 5 s), then removes the data dirs. */
  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        const proc = m.proc;
        if (!proc || proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) {
          return;
        }
        const gone = new Promise<void>((done) => proc.once("exit", () => done()));
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
        await gone;
        clearTimeout(timer);
      }),
    );
    this.agent.destroy();
    await rm(this.root, { recursive: true, force: true });
  }
}
