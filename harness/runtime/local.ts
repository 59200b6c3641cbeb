// The local runtime: every node is a child process, with its data in <run dir>/data/<id> and
// its output appended to <run dir>/nodes/<id>.log.
//
// Where this process can (root, `ip`, iptables), each node runs in a network namespace of its
// own (netns.ts): `ip netns exec NS <command>`, which execs, so the child's PID is the node's;
// its address is 10.214.S.i, whatever the specs said. Partitions, exact cuts and loss are
// iptables rules inside the namespaces, keyed by the peer's address (iptables.ts, each-node
// layout), so they bite whatever the node's program binds. A probe agent of ours runs in each
// namespace (probe-agent.ts), so that every fault is checked from the node's network position
// (agent-probe.ts, nemesis/verify.ts).
// Where it cannot, nodes run on loopback addresses (127.0.X.i) and there are no network faults
// (capabilities() says why): only kill, pause and, with libfaketime, clock.
//
// Faults: kill = SIGKILL to the node's process group (a node and any program it runs, such as
// the Maelstrom shim's), restart = the same command from the same data dir; pause =
// SIGSTOP/SIGCONT to the group; clock skew = libfaketime (faketime.ts). Nodes run in their own process
// group, so a Ctrl-C in the terminal reaches only the harness, which heals and stops them.
//
// Leftovers: what we start and make is recorded in a machine-wide state file (leftovers.ts);
// every start first removes what dead harnesses left; an exit without stop() removes ours
// synchronously (exit hook).

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type { Value } from "../../checker/history.js";
import { scriptArgs } from "../backends/index.js";
import { ClusterRelays } from "../relay/cluster.js";
import { RelayDelay } from "../relay/delay.js";
import { HTTP_STATUS_REQUEST } from "../relay/probe.js";
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
import { AgentProbe, PROBE_PORT } from "./agent-probe.js";
import { procSockets } from "./conn-reset.js";
import { FaketimeClock, findFaketime, NO_FAKETIME } from "./faketime.js";
import { delayUnavailable, IptablesNetwork } from "./iptables.js";
import { LazyData, powerOffThrough, powerUnavailable, sweepDeadLazyMounts } from "./lazy-data.js";
import { cleanupLeftovers, defaultStateDir, type RecordedProcess, StateFile } from "./leftovers.js";
import {
  createFabric,
  type Fabric,
  fabricOf,
  inNamespace,
  namespacesUnavailable,
  removeFabric,
  removeFabricSync,
  SubnetTaken,
} from "./netns.js";
import { isSameProcess, type ProcessIdentity, processIdentity, processState } from "./procfs.js";
import { nodeHandle, waitForReady } from "./ready.js";

export interface LocalRuntimeOptions {
  /** Where the machine-wide state file goes. Default /run/paxos-harness (root). */
  stateDir?: string;
  /** Network namespaces: "auto" (default) when this process can make them; false: never. */
  namespaces?: "auto" | false;
  /** The first 10.214.<subnet>.0/24 tried (then the next free one). Default: random. */
  subnet?: number;
  /**
   * Runs `iptables -w ARGS` in a namespace and resolves to its stdout: the seam through which
   * tests break the fault machinery. Default: `ip netns exec NS iptables -w ARGS`.
   */
  iptablesIn?: (namespace: string, args: readonly string[]) => Promise<string>;
  /** How long a node may take to get ready. Default: the backend's, else 20 s. */
  startTimeoutMs?: number;
  /** SIGTERM, then SIGKILL after this long. Default 3 s. */
  stopGraceMs?: number;
  /** The libfaketime library; null: no clock faults. Default: found on the machine. */
  faketimeLibrary?: string | null;
  /**
   * Start a relay per node (relay/) and give each node its peers at relay addresses, so delay
   * works on any kernel. Only runs that may delay pay for it. Default false.
   */
  relays?: boolean;
}

/** One node's address and ports. */
export interface LocalSpecOptions {
  /** Nodes live on 127.0.<subnet>.<i>. Default 1. */
  subnet?: number;
  /** The first ports tried on each address. Default http 8000, peer 7000. */
  basePorts?: { http: number; peer: number };
}

const NEEDS_NAMESPACES = (kind: string) => `${kind} needs a network namespace per node: `;

/** The chain of ours inside every node's namespace. */
export const NAMESPACE_CHAIN = "PAXOS-NEMESIS";
export { PROBE_PORT } from "./agent-probe.js";

/**
 * Loopback specs: n1 → 127.0.<subnet>.1, n2 → 127.0.<subnet>.2, ...; on each address the first
 * free ports from basePorts (checked by binding them). Data dirs are <runDir>/data/<id>. In
 * namespaces the runtime moves nodes to their namespace addresses and keeps the ports.
 */
export async function localNodeSpecs(
  count: number,
  runDir: string,
  options: LocalSpecOptions = {},
): Promise<NodeSpec[]> {
  const subnet = options.subnet ?? 1;
  const base = options.basePorts ?? { http: 8000, peer: 7000 };
  if (!Number.isInteger(count) || count < 1 || count > 253) {
    throw new Error(`local runtime: ${count} nodes (want 1 to 253)`);
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

interface Proc {
  id: NodeId;
  role: "node" | "probe";
  /** The node's spec (a probe agent's: its node's). */
  spec: NodeSpec;
  command: ProcessCommand;
  env: NodeJS.ProcessEnv;
  logFile: string;
  child: ChildProcess | undefined;
  /** The process last started (still recorded after it exits, for processState). */
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
  readonly probe: AgentProbe;

  private readonly options: LocalRuntimeOptions;
  private readonly procs = new Map<NodeId, Proc>();
  private readonly agents = new Map<NodeId, Proc>();
  private caps: Promise<Capabilities> | undefined;
  private namespacesWhy: Promise<string | undefined> | undefined;
  private faketime: FaketimeClock | undefined;
  private state: StateFile | undefined;
  private fabricMade: Fabric | undefined;
  private relays: ClusterRelays | undefined;
  /** The nodes' data folders through lazyfs, when the run has power faults. */
  private lazy: LazyData | undefined;
  private probePort = PROBE_PORT;
  private run: RunContext | undefined;
  /** The backend of the run: its protocol says when a node is ready. */
  private backend: Backend | undefined;
  private stopping: Promise<void> | undefined;
  private readonly instance = ++instances;
  private readonly onExit = () => this.emergencyStop();

  constructor(options: LocalRuntimeOptions = {}) {
    this.options = options;
    const iptablesIn =
      options.iptablesIn ?? ((ns, args) => inNamespace(ns, ["iptables", "-w", ...args]));
    this.network = new IptablesNetwork({
      chain: NAMESPACE_CHAIN,
      execIn: (node, args) => iptablesIn(this.place(node).namespace, args),
      socketsOf: (node) => procSockets(this.running(node).child?.pid as number),
    });
    this.clock = {
      skew: (node, offsetMs) => this.clockOrThrow().skew(node, offsetMs),
      reset: async () => this.faketime?.reset(),
    };
    this.killer = {
      kill: (node) => this.kill(node),
      restart: (node) => this.restart(node),
      powerOff: (node) => powerOffThrough(this.lazy, node, () => this.kill(node)),
    };
    this.pauser = {
      pause: async (node) => this.pause(node),
      resume: async (node) => this.resumeProc(this.running(node)),
    };
    this.probe = new AgentProbe({
      address: (node) => this.place(node).address,
      port: () => this.probePort,
      processState: (node) => {
        const identity = this.proc(node).identity;
        return identity === undefined ? "gone" : processState(identity);
      },
      pid: (node) => this.procs.get(node)?.child?.pid,
    });
  }

  /** Why nodes cannot have network namespaces here, or undefined when they can. */
  namespacesUnavailable(): Promise<string | undefined> {
    this.namespacesWhy ??=
      this.options.namespaces === false
        ? Promise.resolve("namespaces are turned off for this runtime")
        : namespacesUnavailable();
    return this.namespacesWhy;
  }

  capabilities(): Promise<Capabilities> {
    this.caps ??= (async () => {
      const why = await this.namespacesUnavailable();
      const faketime = await this.faketimeLibrary();
      const no = (why: string) => ({ ok: false as const, why });
      return {
        partition: why === undefined ? { ok: true } : no(`${NEEDS_NAMESPACES("partition")}${why}`),
        loss: why === undefined ? { ok: true } : no(`${NEEDS_NAMESPACES("loss")}${why}`),
        reset: why === undefined ? { ok: true } : no(`${NEEDS_NAMESPACES("reset")}${why}`),
        delay: this.options.relays
          ? { ok: true }
          : no(`${await delayUnavailable()}; the relays of ours serve delay (not started here)`),
        kill: { ok: true },
        pause: { ok: true },
        clock: faketime === undefined ? no(NO_FAKETIME) : { ok: true },
        power: await powerUnavailable().then((why) => (why === undefined ? { ok: true } : no(why))),
      };
    })();
    return this.caps;
  }

  /**
   * Specs for `count` nodes: in namespaces 10.214.S.i with fixed ports (each namespace has its
   * own port space), S a subnet free now; else loopback addresses with free ports.
   */
  async nodeSpecs(count: number, runDir: string): Promise<NodeSpec[]> {
    if ((await this.namespacesUnavailable()) !== undefined) {
      return localNodeSpecs(count, runDir, { subnet: 1 + Math.floor(Math.random() * 250) });
    }
    const subnet = this.options.subnet ?? 1 + Math.floor(Math.random() * 250);
    return Array.from({ length: count }, (_, i) => ({
      id: `n${i + 1}`,
      host: `10.214.${subnet}.${i + 1}`,
      httpPort: 8000,
      peerPort: 7000,
      dataDir: path.resolve(runDir, "data", `n${i + 1}`),
    }));
  }

  /** The namespaces, bridge and chain of the running cluster, if it runs in namespaces. */
  get fabric(): Fabric | undefined {
    return this.fabricMade;
  }

  async start(
    specs: readonly NodeSpec[],
    backend: Backend,
    run: RunContext,
  ): Promise<NodeHandle[]> {
    if (this.run !== undefined) throw new Error("local runtime: already started");
    this.run = run;
    this.backend = backend;
    this.stopping = undefined;
    const stateDir = this.options.stateDir ?? defaultStateDir();
    const leftovers = await cleanupLeftovers({ dir: stateDir });
    if (Object.values(leftovers).some((list) => list.length > 0)) {
      run.log("removed leftovers of an earlier run", { ...leftovers });
    }
    await sweepDeadLazyMounts(run.log);
    process.on("exit", this.onExit);
    try {
      const owner = processIdentity(process.pid) as ProcessIdentity;
      this.state = new StateFile(
        path.join(stateDir, `local-${owner.pid}-${owner.startTime}-${this.instance}.json`),
      );
      const namespaces = (await this.namespacesUnavailable()) === undefined;
      const nodes = namespaces ? await this.makeFabric(specs, owner) : [...specs];
      if (namespaces) {
        this.network.setNodes(nodes);
        await this.network.createChain();
        const used = nodes.flatMap((n) => [n.httpPort, n.peerPort]);
        while (used.includes(this.probePort)) this.probePort--;
      }
      this.faketime = new FaketimeClock(await this.faketimeLibrary());
      await this.faketime.prepare(
        run.dir,
        nodes.map((n) => n.id),
      );
      await mkdir(path.join(run.dir, "nodes"), { recursive: true });
      if (this.options.relays) await this.startRelays(nodes, namespaces, run);
      if (run.faults?.includes("power")) this.lazy = new LazyData();
      for (const spec of nodes) {
        await mkdir(spec.dataDir, { recursive: true });
        // Under power faults the node writes through a lazy view of its data folder.
        const dataDir = this.lazy ? await this.lazy.mount(spec.id, spec.dataDir) : spec.dataDir;
        const command = backend.localCommand(
          { ...spec, dataDir },
          this.relays?.view(spec) ?? nodes,
        );
        this.procs.set(spec.id, {
          ...this.procBase(spec, "node", command),
          env: { ...process.env, ...command.env, ...this.faketime.env(spec.id) },
        });
        if (namespaces) {
          const agent = this.agentCommand(spec);
          this.agents.set(spec.id, { ...this.procBase(spec, "probe", agent), env: process.env });
        }
      }
      for (const proc of this.all()) this.spawn(proc);
      await this.saveState();
      const started = Date.now();
      await Promise.all([
        ...[...this.procs.values()].map((p) => this.waitReady(p)),
        ...[...this.agents.values()].map((a) =>
          // Our own agents get 20 s whatever the nodes' timeout: a node's short timeout (a
          // test's) must not fail the run for a probe agent starting on a loaded machine.
          this.probe.ready(a.id, Math.max(this.startTimeoutMs(), 20_000), run.signal),
        ),
      ]);
      run.log("local runtime: every node is ready", {
        nodes: nodes.length,
        ms: Date.now() - started,
        namespaces,
      });
      return nodes.map(nodeHandle);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /**
   * Makes the namespaces, veths, bridge and root chain on the specs' subnet or the next free
   * one; returns the specs moved to their namespace addresses (ports and data dirs kept).
   */
  private async makeFabric(
    specs: readonly NodeSpec[],
    owner: ProcessIdentity,
  ): Promise<NodeSpec[]> {
    const first =
      Number(/^10\.214\.(\d+)\./.exec(specs[0]?.host ?? "")?.[1]) ||
      (this.options.subnet ?? 1 + Math.floor(Math.random() * 250));
    const ids = specs.map((s) => s.id);
    for (let k = 0; k < 254; k++) {
      const subnet = ((first - 1 + k) % 254) + 1;
      const fabric = fabricOf(owner, subnet, ids);
      // Recorded before it is made: a crash half-way still leaves a record of what to remove.
      this.fabricMade = fabric;
      await this.saveState();
      try {
        await createFabric(fabric);
      } catch (error) {
        this.fabricMade = undefined;
        if (error instanceof SubnetTaken) continue;
        throw new Error(
          `local runtime: cannot make the network namespaces: ${(error as Error).message}`,
        );
      }
      if (subnet !== first)
        this.run?.log(
          `local runtime: 10.214.${first}.0/24 is taken; nodes on 10.214.${subnet}.0/24`,
        );
      return specs.map((s, i) => ({ ...s, host: fabric.nodes[i]?.address as string }));
    }
    throw new Error("local runtime: no free subnet in 10.214.1-254.0/24 for the namespaces");
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

  /** The PIDs of the probe agents running now. */
  agentPids(): Map<NodeId, number> {
    const out = new Map<NodeId, number>();
    for (const [id, p] of this.agents) if (p.child?.pid !== undefined) out.set(id, p.child.pid);
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
      if (proc.paused) await attempt(`resume ${proc.id}`, async () => this.resumeProc(proc));
    }
    if (this.network.active) {
      await attempt("heal network", () => this.network.heal());
      await attempt("remove iptables chains", () => this.network.removeChain());
    }
    await attempt("reset clocks", async () => this.faketime?.reset());
    if (this.relays) {
      const relays = this.relays;
      this.relays = undefined;
      this.network.setDelayer(undefined);
      await attempt("stop the relays", () => relays.stop());
    }
    const grace = this.options.stopGraceMs ?? 3000;
    await Promise.all([
      ...[...this.procs.values()].map((p) => attempt(`stop ${p.id}`, () => this.end(p, grace))),
      ...[...this.agents.values()].map((a) => attempt(`stop probe ${a.id}`, () => this.end(a, 0))),
    ]);
    const lazy = this.lazy;
    this.lazy = undefined;
    if (lazy) await attempt("unmount the lazy data folders", () => lazy.unmountAll());
    const fabric = this.fabricMade;
    if (fabric) await attempt("remove the namespaces", () => removeFabric(fabric));
    await attempt("state file", async () => this.state?.remove());
    process.off("exit", this.onExit);
    this.procs.clear();
    this.agents.clear();
    this.fabricMade = undefined;
    this.run = undefined;
    if (errors.length > 0) throw new Error(`local runtime: stop: ${errors.join("; ")}`);
  }

  private async end(proc: Proc, graceMs: number): Promise<void> {
    const child = proc.child;
    if (child?.pid === undefined) return;
    child.kill(graceMs > 0 ? "SIGTERM" : "SIGKILL");
    const timer = new Promise<"late">((r) => setTimeout(() => r("late"), graceMs).unref());
    if (graceMs > 0 && (await Promise.race([proc.exited, timer])) === "late") {
      this.run?.log(`local runtime: ${proc.id} ignored SIGTERM for ${graceMs} ms: SIGKILL`);
      child.kill("SIGKILL");
    }
    await proc.exited;
  }

  private async kill(id: NodeId): Promise<void> {
    const proc = this.proc(id);
    const child = proc.child;
    if (child?.pid === undefined) return;
    signalGroup(child, "SIGKILL");
    await proc.exited;
    proc.paused = false;
    await this.saveState();
  }

  private async restart(id: NodeId): Promise<void> {
    const proc = this.proc(id);
    if (proc.child !== undefined) return;
    this.spawn(proc);
    await this.saveState();
    // A restart heals a fault, and a heal must finish after Ctrl-C too (the run then stops
    // cleanly and its history is checked): not abortable, bounded by the start timeout.
    await this.waitReady(proc, false);
  }

  private pause(id: NodeId): void {
    const proc = this.running(id);
    if (proc.child) signalGroup(proc.child, "SIGSTOP");
    proc.paused = true;
  }

  private resumeProc(proc: Proc): void {
    if (proc.child) signalGroup(proc.child, "SIGCONT");
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

  /** A node's namespace and address; throws when the nodes do not run in namespaces. */
  /**
   * One relay per node, in the node's namespace, serving its outgoing links (relay/): the
   * nodes reach each other only through them, so delay works on any kernel; partitions and
   * loss still apply (a relay dials from its node's namespace). A relay ends with the harness.
   */
  private async startRelays(
    nodes: readonly NodeSpec[],
    namespaces: boolean,
    run: RunContext,
  ): Promise<void> {
    const relays = await ClusterRelays.start(nodes, {
      ...(namespaces
        ? { wrap: (n: NodeSpec) => ["ip", "netns", "exec", this.place(n.id).namespace] }
        : {}),
      logDir: path.join(run.dir, "nodes"),
    });
    this.relays = relays;
    const hosts = new Map(nodes.map((n) => [n.id, n.host]));
    const delay = new RelayDelay({
      relays: relays.relays,
      probe: (from, to) => ({
        host: hosts.get(from) as string,
        port: relays.ports.get(from)?.get(to)?.httpPort as number,
        payload: HTTP_STATUS_REQUEST,
        timeoutMs: 10_000,
      }),
    });
    // Round trips through a link from the first node to another that a partition in force does
    // not cut (a probe through a cut link would fail the delay for the partition's doing).
    const measure = async (ids: readonly NodeId[]) => {
      const from = ids[0];
      const to = nodes.find(
        (n) => n.id !== from && from !== undefined && !this.network.isCut(from, n.id),
      )?.id;
      if (from === undefined || to === undefined) return undefined;
      const started = performance.now();
      const check = await delay.verify(from, to, 1);
      return { check, from, to, probe_ms: Math.round(performance.now() - started) };
    };
    const NO_LINK = { verified: false, unverified: "no link to measure that no partition cuts" };
    this.network.setDelayer(delay, {
      verifyDelay: async (ids, ms): Promise<{ [key: string]: Value }> => {
        const m = await measure(ids);
        if (!m) return NO_LINK;
        const measured = { ...m.check, probe_ms: m.probe_ms };
        if (m.check.verified) return measured;
        const saw = `round trips ${m.from} -> ${m.to} took ${m.check.rtt_ms.min} ms`;
        return {
          ...measured,
          not_taken: `${saw}, under the ${m.check.expected_min_rtt_ms} ms a delay of ${ms} ms makes`,
        };
      },
      verifyDelayHealed: async (ids, ms): Promise<{ [key: string]: Value }> => {
        const m = await measure(ids);
        if (!m) return NO_LINK;
        const rtt = m.check.rtt_ms.min;
        const healed = rtt < 2 * ms;
        const measured = {
          link: m.check.link,
          rtt_ms: rtt,
          verified: healed,
          probe_ms: m.probe_ms,
        };
        if (healed) return measured;
        return {
          ...measured,
          not_taken: `round trips ${m.from} -> ${m.to} still take ${rtt} ms after healing a delay of ${ms} ms`,
        };
      },
    });
    run.log("local runtime: relays started", { nodes: nodes.length });
  }

  private place(id: NodeId): Fabric["nodes"][number] {
    const place = this.fabricMade?.nodes.find((n) => n.id === id);
    if (place === undefined) {
      throw new Error(
        this.fabricMade === undefined
          ? "local runtime: the nodes do not run in network namespaces"
          : `no node ${id} in this cluster`,
      );
    }
    return place;
  }

  private all(): Proc[] {
    return [...this.procs.values(), ...this.agents.values()];
  }

  private procBase(spec: NodeSpec, role: Proc["role"], command: ProcessCommand): Omit<Proc, "env"> {
    const dir = this.run?.dir as string;
    return {
      id: spec.id,
      role,
      spec,
      command,
      logFile: path.join(dir, "nodes", role === "node" ? `${spec.id}.log` : `${spec.id}.probe.log`),
      child: undefined,
      identity: undefined,
      exited: Promise.resolve(),
      paused: false,
    };
  }

  private agentCommand(spec: NodeSpec): ProcessCommand {
    return {
      command: process.execPath,
      args: [
        ...scriptArgs("harness/runtime/probe-agent"),
        ...["--host", spec.host, "--port", String(this.probePort)],
        ...["--control", this.fabricMade?.bridgeAddress as string],
      ],
    };
  }

  private spawn(proc: Proc): void {
    // Before every start, restarts too: a node's config files are as its command line, fixed.
    for (const f of proc.command.files ?? []) {
      mkdirSync(path.dirname(f.path), { recursive: true });
      writeFileSync(f.path, f.text);
    }
    const fd = openSync(proc.logFile, "a");
    const place = this.fabricMade?.nodes.find((n) => n.id === proc.id);
    const [file, args] = place
      ? ["ip", ["netns", "exec", place.namespace, proc.command.command, ...proc.command.args]]
      : [proc.command.command, proc.command.args];
    let child: ChildProcess;
    try {
      child = spawn(file, args, { env: proc.env, stdio: ["ignore", fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    proc.child = child;
    proc.paused = false;
    // The start time is fixed at fork: the exec of `ip netns exec` into the node keeps it.
    proc.identity = child.pid === undefined ? undefined : processIdentity(child.pid);
    const what = proc.role === "node" ? proc.id : `probe agent ${proc.id}`;
    proc.exited = new Promise<void>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        if (proc.child === child) proc.child = undefined;
        this.run?.log(`local runtime: ${what} exited`, { pid: child.pid, code, signal });
        resolve();
      };
      child.once("exit", done);
      child.once("error", (error) => {
        this.run?.log(`local runtime: ${what} did not start: ${error.message}`);
        done(null, null);
      });
    });
  }

  /** Waits until the protocol says ready; rejects naming the node and quoting its log if it exits or hangs. */
  private waitReady(proc: Proc, abortable = true): Promise<void> {
    const timeoutMs = this.startTimeoutMs();
    const { id } = proc.spec;
    const protocol = this.backend?.protocol;
    const handle = nodeHandle(proc.spec);
    return waitForReady({
      probe: async (ms) => (protocol ? protocol.ready(handle, ms) : false),
      timeoutMs,
      probeMs: 1000,
      signal: abortable ? this.run?.signal : undefined,
      abortedMessage: `node ${id}: start aborted`,
      check: async () => {
        if (proc.child === undefined) {
          throw new Error(`node ${id} exited before it was ready; ${await this.tail(proc)}`);
        }
      },
      late: async () =>
        new Error(
          `node ${id} did not ${protocol?.readiness(handle) ?? "get ready"} within ${timeoutMs} ms; ${await this.tail(proc)}`,
        ),
    });
  }

  /** The runtime's own option, else the backend's, else 20 s. */
  private startTimeoutMs(): number {
    return this.options.startTimeoutMs ?? this.backend?.startTimeoutMs ?? 20_000;
  }

  private async tail(proc: Proc): Promise<string> {
    const text = await readFile(proc.logFile, "utf8").catch(() => "");
    const lines = text.trimEnd().split("\n").slice(-15).join("\n");
    return lines === ""
      ? `its log ${proc.logFile} is empty`
      : `the end of ${proc.logFile}:\n${lines}`;
  }

  /** Records the harness, the processes running now and the fabric (serialized writes). */
  private saveState(): Promise<void> {
    const harness = processIdentity(process.pid);
    if (this.state === undefined || harness === undefined) return Promise.resolve();
    const processes: RecordedProcess[] = this.all().flatMap((p) =>
      p.child !== undefined && p.identity !== undefined
        ? [{ id: p.id, role: p.role, ...p.identity }]
        : [],
    );
    return this.state.save({ harness, fabric: this.fabricMade, processes });
  }

  private clockOrThrow(): FaketimeClock {
    if (this.faketime === undefined) throw new Error("local runtime: not started");
    return this.faketime;
  }

  private async faketimeLibrary(): Promise<string | undefined> {
    if (this.options.faketimeLibrary === null) return undefined;
    return this.options.faketimeLibrary ?? (await findFaketime());
  }

  /** On process exit without stop(): SIGKILL ours, remove the namespaces, synchronously. */
  private emergencyStop(): void {
    for (const proc of this.all()) {
      const pid = proc.child?.pid;
      if (pid !== undefined && proc.identity && isSameProcess(proc.identity)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    }
    if (this.fabricMade) removeFabricSync(this.fabricMade);
    if (this.state) rmSync(this.state.file, { force: true });
  }
}

export { cleanupLeftovers, type Leftovers } from "./leftovers.js";

/**
 * Signals the node's whole process group: a node started detached leads a group of its own,
 * and a node that runs a program of its own (the Maelstrom shim) must be paused or killed with
 * it, not alone. Falls back to the node's PID when the group is gone.
 */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
