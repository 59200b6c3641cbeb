// The local runtime: every node is a child process on its own loopback address (n1 on
// 127.0.1.1, n2 on 127.0.1.2, ...), with its data in <run dir>/data/<id> and its output
// appended to <run dir>/nodes/<id>.log.
//
// Faults: kill = SIGKILL by PID, restart = the same command from the same data dir; pause =
// SIGSTOP/SIGCONT; partitions and loss = iptables rules in a chain of ours (iptables.ts); clock
// skew = libfaketime (faketime.ts). Nodes run in their own process group, so a Ctrl-C in the
// terminal reaches only the harness, which heals and stops them itself.
//
// Processes: we end only those we started, by PID. Their identities (PID, start time, command
// line) are recorded in <store>/.local-runtime/<harness pid>-<n>.json while they run, so that
// if the harness is killed outright the next run's cleanupLeftovers() ends exactly them.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type {
  Backend,
  Capabilities,
  ClockFaults,
  Killer,
  NodeHandle,
  NodeId,
  NodeSpec,
  Pauser,
  ProcessCommand,
  RunContext,
  Runtime,
} from "../types.js";
import { FaketimeClock, findFaketime, NO_FAKETIME } from "./faketime.js";
import {
  DEFAULT_CHAIN,
  delayUnavailable,
  IptablesNetwork,
  iptablesUnavailable,
  listOurChains,
  removeIptablesChain,
  removeIptablesChainSync,
} from "./iptables.js";
import {
  isRunning,
  isSameProcess,
  type ProcessIdentity,
  processIdentity,
  waitGone,
} from "./procfs.js";
import { nodeHandle, waitForStatus } from "./ready.js";

export interface LocalRuntimeOptions {
  /** Where the state file goes. Default: the store, two levels above the run dir. */
  storeDir?: string;
  /**
   * The iptables chain of ours. Default PAXOS-HARNESS-<pid>-<n>: one per runtime, so runs side
   * by side (on different 127.0.X subnets) keep their own rules.
   */
  chain?: string;
  /** How long a node may take to answer /status. Default 20 s. */
  startTimeoutMs?: number;
  /** SIGTERM, then SIGKILL after this long. Default 3 s. */
  stopGraceMs?: number;
  /** The libfaketime library; null: no clock faults. Default: found on the machine. */
  faketimeLibrary?: string | null;
}

/** One node's address and ports. */
export interface LocalSpecOptions {
  /** Nodes live on 127.0.<subnet>.<i>. Default 1. */
  subnet?: number;
  /** The first ports tried on each address. Default http 8000, peer 7000. */
  basePorts?: { http: number; peer: number };
}

/**
 * n1 → 127.0.<subnet>.1, n2 → 127.0.<subnet>.2, ...; on each address the first free ports from
 * basePorts (checked by binding them). Data dirs are <runDir>/data/<id>.
 */
export async function localNodeSpecs(
  count: number,
  runDir: string,
  options: LocalSpecOptions = {},
): Promise<NodeSpec[]> {
  const subnet = options.subnet ?? 1;
  const base = options.basePorts ?? { http: 8000, peer: 7000 };
  if (!Number.isInteger(count) || count < 1 || count > 254) {
    throw new Error(`local runtime: ${count} nodes (want 1 to 254)`);
  }
  if (!Number.isInteger(subnet) || subnet < 1 || subnet > 254) {
    throw new Error(`local runtime: subnet ${subnet} (want 1 to 254)`);
  }
  const specs: NodeSpec[] = [];
  for (let i = 1; i <= count; i++) {
    const host = `127.0.${subnet}.${i}`;
    const httpPort = await freePort(host, base.http, []);
    const peerPort = await freePort(host, base.peer, [httpPort]);
    const id = `n${i}`;
    specs.push({ id, host, httpPort, peerPort, dataDir: path.resolve(runDir, "data", id) });
  }
  return specs;
}

async function freePort(host: string, from: number, taken: number[]): Promise<number> {
  for (let port = from; port < from + 1000 && port < 65536; port++) {
    if (!taken.includes(port) && (await canBind(host, port))) return port;
  }
  throw new Error(`no free port on ${host} in ${from}-${from + 999}`);
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** What a state file says: the harness that wrote it and the nodes it runs. */
interface StateFile {
  harness: ProcessIdentity;
  chain: string | undefined;
  nodes: (ProcessIdentity & { id: NodeId })[];
}

const STATE_DIR = ".local-runtime";

interface Proc {
  spec: NodeSpec;
  command: ProcessCommand;
  env: NodeJS.ProcessEnv;
  logFile: string;
  child: ChildProcess | undefined;
  identity: ProcessIdentity | undefined;
  exited: Promise<void>;
  paused: boolean;
}

let instances = 0;

export class LocalRuntime implements Runtime {
  readonly name = "local" as const;
  readonly killer: Killer;
  readonly pauser: Pauser;
  readonly network: IptablesNetwork;
  readonly clock: ClockFaults;

  private readonly options: LocalRuntimeOptions;
  private readonly procs = new Map<NodeId, Proc>();
  private caps: Promise<Capabilities> | undefined;
  private faketime: FaketimeClock | undefined;
  private stateFile: string | undefined;
  private run: RunContext | undefined;
  private stopping: Promise<void> | undefined;
  private saving: Promise<void> = Promise.resolve();
  private readonly instance = ++instances;
  private readonly onExit = () => this.emergencyStop();

  constructor(options: LocalRuntimeOptions = {}) {
    this.options = options;
    this.network = new IptablesNetwork({
      chain: options.chain ?? `${DEFAULT_CHAIN}-${process.pid}-${this.instance}`,
    });
    this.clock = {
      skew: (node, offsetMs) => this.clockOrThrow().skew(node, offsetMs),
      reset: async () => this.faketime?.reset(),
    };
    this.killer = {
      kill: (node) => this.kill(node),
      restart: (node) => this.restart(node),
    };
    this.pauser = {
      pause: async (node) => this.pause(node),
      resume: async (node) => this.resumeProc(this.running(node)),
    };
  }

  capabilities(): Promise<Capabilities> {
    this.caps ??= (async () => {
      const net = await iptablesUnavailable();
      const faketime = await this.faketimeLibrary();
      const no = (why: string) => ({ ok: false as const, why });
      return {
        partition: net === undefined ? { ok: true } : no(net),
        loss: net === undefined ? { ok: true } : no(net.replace(/^partition/, "loss")),
        delay: no(await delayUnavailable()),
        kill: { ok: true },
        pause: { ok: true },
        clock: faketime === undefined ? no(NO_FAKETIME) : { ok: true },
      };
    })();
    return this.caps;
  }

  async start(
    nodes: readonly NodeSpec[],
    backend: Backend,
    run: RunContext,
  ): Promise<NodeHandle[]> {
    if (this.run !== undefined) throw new Error("local runtime: already started");
    this.run = run;
    this.stopping = undefined;
    const storeDir = this.options.storeDir ?? path.resolve(run.dir, "..", "..");
    const leftovers = await cleanupLeftovers(storeDir);
    if (leftovers.killed.length > 0 || leftovers.chains.length > 0) {
      run.log("ended leftovers of an earlier run", { ...leftovers });
    }
    process.on("exit", this.onExit);
    try {
      const caps = await this.capabilities();
      if (caps.partition.ok) {
        this.network.setNodes(nodes);
        await this.network.createChain();
      }
      this.faketime = new FaketimeClock(await this.faketimeLibrary());
      await this.faketime.prepare(
        run.dir,
        nodes.map((n) => n.id),
      );
      await mkdir(path.join(run.dir, "nodes"), { recursive: true });
      this.stateFile = path.join(storeDir, STATE_DIR, `${process.pid}-${this.instance}.json`);
      for (const spec of nodes) {
        await mkdir(spec.dataDir, { recursive: true });
        const command = backend.localCommand(spec, nodes);
        this.procs.set(spec.id, {
          spec,
          command,
          env: { ...process.env, ...command.env, ...this.faketime.env(spec.id) },
          logFile: path.join(run.dir, "nodes", `${spec.id}.log`),
          child: undefined,
          identity: undefined,
          exited: Promise.resolve(),
          paused: false,
        });
      }
      for (const proc of this.procs.values()) this.spawn(proc);
      await this.saveState();
      const started = Date.now();
      await Promise.all([...this.procs.values()].map((p) => this.waitReady(p)));
      run.log("local runtime: every node answers /status", {
        nodes: nodes.length,
        ms: Date.now() - started,
      });
      return nodes.map(nodeHandle);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Resumes paused nodes, heals every fault, ends every node (SIGTERM, then SIGKILL). */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  /** The PIDs of the nodes running now. */
  pids(): Map<NodeId, number> {
    const out = new Map<NodeId, number>();
    for (const [id, p] of this.procs) if (p.child?.pid !== undefined) out.set(id, p.child.pid);
    return out;
  }

  private async stopOnce(): Promise<void> {
    const errors: string[] = [];
    const attempt = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (error) {
        errors.push(`${what}: ${(error as Error).message}`);
      }
    };
    for (const proc of this.procs.values()) {
      if (proc.paused) await attempt(`resume ${proc.spec.id}`, async () => this.resumeProc(proc));
    }
    await attempt("heal network", () => this.network.heal());
    await attempt("remove iptables chain", () => this.network.removeChain());
    await attempt("reset clocks", async () => this.faketime?.reset());
    const grace = this.options.stopGraceMs ?? 3000;
    await Promise.all(
      [...this.procs.values()].map((proc) =>
        attempt(`stop ${proc.spec.id}`, () => this.end(proc, grace)),
      ),
    );
    if (this.stateFile)
      await attempt("state file", () => rm(this.stateFile as string, { force: true }));
    process.off("exit", this.onExit);
    this.procs.clear();
    this.run = undefined;
    if (errors.length > 0) throw new Error(`local runtime: stop: ${errors.join("; ")}`);
  }

  private async end(proc: Proc, graceMs: number): Promise<void> {
    const child = proc.child;
    if (child?.pid === undefined) return;
    child.kill("SIGTERM");
    const timer = new Promise<"late">((r) => setTimeout(() => r("late"), graceMs).unref());
    if ((await Promise.race([proc.exited, timer])) === "late") {
      this.run?.log(`local runtime: ${proc.spec.id} ignored SIGTERM for ${graceMs} ms: SIGKILL`);
      child.kill("SIGKILL");
      await proc.exited;
    }
  }

  private async kill(id: NodeId): Promise<void> {
    const proc = this.proc(id);
    const child = proc.child;
    if (child?.pid === undefined) return;
    child.kill("SIGKILL");
    await proc.exited;
    proc.paused = false;
    await this.saveState();
  }

  private async restart(id: NodeId): Promise<void> {
    const proc = this.proc(id);
    if (proc.child !== undefined) return;
    this.spawn(proc);
    await this.saveState();
    await this.waitReady(proc);
  }

  private pause(id: NodeId): void {
    const proc = this.running(id);
    proc.child?.kill("SIGSTOP");
    proc.paused = true;
  }

  private resumeProc(proc: Proc): void {
    proc.child?.kill("SIGCONT");
    proc.paused = false;
  }

  /** The node's process, which must be running. */
  private running(id: NodeId): Proc {
    const proc = this.proc(id);
    if (proc.child?.pid === undefined) throw new Error(`${id} is not running`);
    return proc;
  }

  private proc(id: NodeId): Proc {
    const proc = this.procs.get(id);
    if (proc === undefined) throw new Error(`local runtime: no node ${id}`);
    return proc;
  }

  private spawn(proc: Proc): void {
    const fd = openSync(proc.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(proc.command.command, proc.command.args, {
        env: proc.env,
        stdio: ["ignore", fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    proc.child = child;
    proc.paused = false;
    proc.identity = child.pid === undefined ? undefined : processIdentity(child.pid);
    proc.exited = new Promise<void>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        if (proc.child === child) proc.child = undefined;
        this.run?.log(`local runtime: ${proc.spec.id} exited`, { pid: child.pid, code, signal });
        resolve();
      };
      child.once("exit", done);
      child.once("error", (error) => {
        this.run?.log(`local runtime: ${proc.spec.id} did not start: ${error.message}`);
        done(null, null);
      });
    });
  }

  /** Polls /status until 200; rejects naming the node and quoting its log if it exits or hangs. */
  private waitReady(proc: Proc): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 20_000;
    const { id, host, httpPort } = proc.spec;
    return waitForStatus({
      host,
      port: httpPort,
      timeoutMs,
      probeMs: 1000,
      signal: this.run?.signal,
      abortedMessage: `node ${id}: start aborted`,
      check: async () => {
        if (proc.child === undefined) {
          throw new Error(`node ${id} exited before answering /status; ${await this.tail(proc)}`);
        }
      },
      late: async () =>
        new Error(
          `node ${id} did not answer GET http://${host}:${httpPort}/status within ${timeoutMs} ms; ${await this.tail(proc)}`,
        ),
    });
  }

  private async tail(proc: Proc): Promise<string> {
    const text = await readFile(proc.logFile, "utf8").catch(() => "");
    const lines = text.trimEnd().split("\n").slice(-15).join("\n");
    return lines === ""
      ? `its log ${proc.logFile} is empty`
      : `the end of ${proc.logFile}:\n${lines}`;
  }

  /** Writes the state file; calls are serialized (kills and restarts run in parallel). */
  private saveState(): Promise<void> {
    this.saving = this.saving.then(() => this.writeState());
    return this.saving;
  }

  private async writeState(): Promise<void> {
    if (this.stateFile === undefined) return;
    const harness = processIdentity(process.pid);
    if (harness === undefined) return;
    const state: StateFile = {
      harness,
      chain: this.network.active ? this.network.chain : undefined,
      nodes: [...this.procs.values()].flatMap((p) =>
        p.child !== undefined && p.identity !== undefined ? [{ id: p.spec.id, ...p.identity }] : [],
      ),
    };
    await mkdir(path.dirname(this.stateFile), { recursive: true });
    await writeFile(`${this.stateFile}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    await rename(`${this.stateFile}.tmp`, this.stateFile);
  }

  private clockOrThrow(): FaketimeClock {
    if (this.faketime === undefined) throw new Error("local runtime: not started");
    return this.faketime;
  }

  private async faketimeLibrary(): Promise<string | undefined> {
    if (this.options.faketimeLibrary === null) return undefined;
    return this.options.faketimeLibrary ?? (await findFaketime());
  }

  /** On process exit without stop(): SIGKILL our nodes and remove our chain, synchronously. */
  private emergencyStop(): void {
    for (const proc of this.procs.values()) {
      const pid = proc.child?.pid;
      if (pid !== undefined && proc.identity && isSameProcess(proc.identity)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    }
    if (this.network.active) {
      try {
        removeIptablesChainSync(this.network.chain);
      } catch {}
    }
  }
}

export interface Leftovers {
  /** PIDs of leftover nodes ended (verified by start time and command line first). */
  killed: number[];
  /** Chains of ours removed. */
  chains: string[];
}

/**
 * Ends what a harness killed outright left behind: for every state file in <store>/.local-runtime
 * whose harness is gone, SIGKILL each recorded node that is still the same process (PID, start
 * time and command line all match), and remove the iptables chain it recorded. Files of a live
 * harness are left alone. Also removes chains PAXOS-HARNESS-<pid>-<n> whose <pid> no longer
 * exists (a crashed run of another store), and `options.chains`.
 */
export async function cleanupLeftovers(
  storeDir: string,
  options: { chains?: readonly string[] } = {},
): Promise<Leftovers> {
  const out: Leftovers = { killed: [], chains: [] };
  const dir = path.join(storeDir, STATE_DIR);
  const files = await readdir(dir).catch(() => [] as string[]);
  const chains = new Set<string>(options.chains ?? []);
  const live = new Set<string>();
  for (const name of files.filter((f) => f.endsWith(".json"))) {
    const file = path.join(dir, name);
    let state: StateFile;
    try {
      state = JSON.parse(await readFile(file, "utf8")) as StateFile;
    } catch {
      await rm(file, { force: true });
      continue;
    }
    if (isSameProcess(state.harness)) {
      // A live run (maybe in this very process): its nodes and chain are not leftovers.
      if (state.chain) live.add(state.chain);
      continue;
    }
    for (const node of state.nodes) {
      if (!isSameProcess(node)) continue;
      try {
        process.kill(node.pid, "SIGCONT");
        process.kill(node.pid, "SIGKILL");
        out.killed.push(node.pid);
      } catch {}
    }
    if (state.chain) chains.add(state.chain);
    await rm(file, { force: true });
  }
  for (const pid of out.killed) await waitGone(pid, 5000);
  if ((await iptablesUnavailable()) === undefined) {
    for (const chain of await listOurChains()) {
      const pid = /^PAXOS-HARNESS-(\d+)-\d+$/.exec(chain)?.[1];
      if (pid !== undefined && !isRunning(Number(pid))) chains.add(chain);
    }
    for (const chain of chains) {
      if (!live.has(chain) && (await removeIptablesChain(chain))) out.chains.push(chain);
    }
  }
  return out;
}
