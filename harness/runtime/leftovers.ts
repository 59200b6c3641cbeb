// What the local runtime leaves if its harness dies without stopping (SIGKILL, a crash), and
// how the next run, whatever its --store, removes it.
//
// While nodes run, a state file in a fixed machine-wide place (/run/paxos-harness/ as root)
// records the harness (PID and start time), every process it started (nodes and probe agents,
// by PID and start time) and the network objects it made (namespaces, bridge, veths, chain).
// It is written before each object is made, so a crash in between still leaves a record; and
// since our namespaces, interfaces and chains carry their owner in their names or aliases
// (netns.ts), a sweep also finds objects whose record is lost.
//
// We end only processes we started: recorded ones that are still the very same process (same
// PID and start time), and processes inside a namespace of ours whose owner is dead (only our
// own nodes and their children can be there). Never by name.

import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { NodeId } from "../types.js";
import { chainRemoval, iptables, iptablesUnavailable } from "./iptables.js";
import {
  type Fabric,
  ip,
  listNamespaces,
  listOurInterfaces,
  NAMESPACE_PREFIX,
  namespacePids,
  ownerInName,
  ROOT_CHAIN_PREFIX,
  removeFabric,
} from "./netns.js";
import {
  isRunning,
  isSameProcess,
  type ProcessIdentity,
  processIdentity,
  waitGone,
} from "./procfs.js";

/** The machine-wide folder of state files: /run/paxos-harness as root, else one per user in tmp. */
export function defaultStateDir(): string {
  const uid = process.getuid?.();
  return uid === 0
    ? "/run/paxos-harness"
    : path.join(os.tmpdir(), `paxos-harness-${uid ?? "user"}`);
}

export interface RecordedProcess extends ProcessIdentity {
  id: NodeId;
  role: "node" | "probe";
}

/** One local runtime's record: its harness, what it started, what it made. */
export interface LocalState {
  harness: ProcessIdentity;
  /** The namespaces, bridge, veths and root chain (absent without namespaces). */
  fabric?: Fabric;
  processes: RecordedProcess[];
}

/** A state file, rewritten (write then rename) on every change; writes are serialized. */
export class StateFile {
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  save(state: LocalState): Promise<void> {
    this.writing = this.writing.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      await writeFile(`${this.file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
      await rename(`${this.file}.tmp`, this.file);
    });
    return this.writing;
  }

  async remove(): Promise<void> {
    await this.writing.catch(() => {});
    await rm(this.file, { force: true });
  }
}

export interface Leftovers {
  /** PIDs of leftover processes ended (recorded ones verified by start time first). */
  killed: number[];
  namespaces: string[];
  interfaces: string[];
  /** Chains of ours removed (root chains of fabrics, old loopback chains). */
  chains: string[];
}

const ownerAlive = (o: { pid: number; startTime: string }) =>
  processIdentity(o.pid)?.startTime === o.startTime;

/**
 * Ends what dead harnesses left behind: the processes recorded in their state files that are
 * still the same processes, the processes left in their namespaces, and their namespaces,
 * interfaces and chains. A live harness's objects (another run side by side) are left alone.
 */
export async function cleanupLeftovers(options: { dir?: string } = {}): Promise<Leftovers> {
  const out: Leftovers = { killed: [], namespaces: [], interfaces: [], chains: [] };
  const dir = options.dir ?? defaultStateDir();
  const fabrics: Fabric[] = [];
  const files: string[] = [];
  for (const name of (await readdir(dir).catch(() => [] as string[])).filter((f) =>
    f.endsWith(".json"),
  )) {
    const file = path.join(dir, name);
    let state: LocalState;
    try {
      state = JSON.parse(await readFile(file, "utf8")) as LocalState;
    } catch {
      continue; // being written by a live run, or garbage: the sweep below still applies
    }
    if (isSameProcess(state.harness)) continue;
    for (const p of state.processes ?? []) if (isSameProcess(p)) kill(p.pid, out);
    if (state.fabric) fabrics.push(state.fabric);
    files.push(file);
  }
  for (const pid of out.killed) await waitGone(pid, 5000);
  // The sweep, by the owner in each name: processes in dead owners' namespaces first.
  const deadNamespaces = (await listNamespaces()).filter((n) => {
    const owner = n.startsWith(NAMESPACE_PREFIX) ? ownerInName(n) : undefined;
    return owner !== undefined && !ownerAlive(owner);
  });
  const swept: number[] = [];
  for (const ns of deadNamespaces) {
    for (const pid of await namespacePids(ns)) if (!out.killed.includes(pid)) swept.push(pid);
  }
  for (const pid of swept) kill(pid, out);
  for (const pid of swept) await waitGone(pid, 5000);

  // What exists before the recorded fabrics go, to report what was really removed.
  const before = {
    namespaces: new Set(await listNamespaces()),
    interfaces: new Set((await listOurInterfaces()).map((i) => i.name)),
    chains: (await iptablesUnavailable()) === undefined ? await iptables(["-S"]) : "",
  };
  for (const f of fabrics) {
    await removeFabric(f).catch(() => {});
    out.namespaces.push(...f.nodes.map((n) => n.namespace).filter((n) => before.namespaces.has(n)));
    out.interfaces.push(
      ...[f.bridge, ...f.nodes.map((n) => n.veth)].filter((i) => before.interfaces.has(i)),
    );
    if (before.chains.split("\n").includes(`-N ${f.chain}`)) out.chains.push(f.chain);
  }
  for (const ns of deadNamespaces) {
    await ip(["netns", "del", ns]).then(
      () => out.namespaces.push(ns),
      () => {},
    );
  }
  for (const i of await listOurInterfaces()) {
    const owner = ownerInName(i.alias);
    if (owner !== undefined && !ownerAlive(owner)) {
      await ip(["link", "del", i.name]).then(
        () => out.interfaces.push(i.name),
        () => {},
      );
    }
  }
  if ((await iptablesUnavailable()) === undefined) out.chains.push(...(await deadChains()));
  for (const file of files) await rm(file, { force: true });
  out.namespaces = [...new Set(out.namespaces)];
  out.interfaces = [...new Set(out.interfaces)];
  out.chains = [...new Set(out.chains)];
  return out;
}

function kill(pid: number, out: Leftovers): void {
  try {
    process.kill(pid, "SIGCONT");
    process.kill(pid, "SIGKILL");
    out.killed.push(pid);
  } catch {}
}

/**
 * Removes chains of ours whose owner is gone: root chains PXNS-<S>-<pid>-<start>, and the old
 * loopback layout's PAXOS-HARNESS-<pid>-<n>.
 */
async function deadChains(): Promise<string[]> {
  const listing = await iptables(["-S"]);
  const removed: string[] = [];
  for (const line of listing.split("\n")) {
    const chain = /^-N (\S+)$/.exec(line)?.[1];
    if (chain === undefined) continue;
    const owner = chain.startsWith(ROOT_CHAIN_PREFIX) ? ownerInName(chain) : undefined;
    const oldPid = /^PAXOS-HARNESS-(\d+)-\d+$/.exec(chain)?.[1];
    const dead =
      (owner !== undefined && !ownerAlive(owner)) ||
      (oldPid !== undefined && !isRunning(Number(oldPid)));
    if (!dead) continue;
    for (const args of chainRemoval(await iptables(["-S"]), chain)) {
      await iptables(args).catch(() => "");
    }
    removed.push(chain);
  }
  return removed;
}
