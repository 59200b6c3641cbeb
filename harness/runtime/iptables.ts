// Network faults between nodes as iptables rules in a chain of ours, in one of two layouts:
//
// - "one-chain" (the Docker runtime; the local runtime without namespaces): one chain, every
//   rule keyed by source and destination address. On loopback it is jumped to from OUTPUT for
//   packets leaving through `lo`; it bites only when a node dials its peers from its own
//   address (`localAddress`), which is why the local runtime now uses the other layout.
// - "each-node" (the local runtime, one network namespace per node): a chain of ours in each
//   node's namespace, jumped to from that namespace's OUTPUT, with rules keyed by the peer's
//   address only, so they bite whatever address or socket options the node's program uses.
//
// Either way the rules are kept by owner ("partition", "loss n1"), so a nemesis's stop removes
// exactly its own. We never touch a rule that is not ours: we add rules to our chains only, add
// and delete only our jumps, and remove the chains at the end of a run and, for leftovers of a
// crashed run, at the start of the next.

import { execFile, execFileSync } from "node:child_process";
import { access, constants, readFile } from "node:fs/promises";
import { release } from "node:os";
import type { NetworkFaults, NodeId, NodeSpec } from "../types.js";
import { dialedConnections, rejectedPackets, resetRules, type TcpSocket } from "./conn-reset.js";

export const DEFAULT_CHAIN = "PAXOS-HARNESS";
const SEARCH_PATH = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

export const NO_NETEM = "delay needs the kernel's sch_netem, which this kernel lacks";

export interface IptablesOptions {
  /** The chain of ours (at most 28 characters). Default PAXOS-HARNESS. */
  chain?: string;
  /** The iptables binary. Default: found on the usual sbin paths. */
  binary?: string;
  /**
   * Runs `iptables -w ARGS` somewhere else (e.g. in a helper container) and resolves to its
   * stdout. Default: execFile of the local binary, which needs root.
   */
  exec?: (args: readonly string[]) => Promise<string>;
  /** The built-in chains that jump to ours. Default ["OUTPUT"] (only for packets out of `lo`). */
  hook?: readonly string[];
  /**
   * The "each-node" layout: runs `iptables -w ARGS` in that node's network namespace and
   * resolves to its stdout. Without it: one chain, rules keyed by source and destination.
   */
  execIn?: (node: NodeId, args: readonly string[]) => Promise<string>;
  /** The node's TCP sockets (its own, in its network namespace): what reset() resets. Without it, no reset. */
  socketsOf?: (node: NodeId) => Promise<TcpSocket[]>;
}

/** A rule: the arguments after `-A CHAIN`, and the node whose chain holds it (each-node). */
interface Rule {
  at?: NodeId;
  args: readonly string[];
}

const ruleKey = (r: Rule) => `${r.at ?? ""}|${r.args.join(" ")}`;

export class IptablesNetwork implements NetworkFaults {
  readonly chain: string;
  /** The links the partition in force cuts, "a b" both ways. */
  private cutLinks = new Set<string>();
  private readonly binary: string | undefined;
  private readonly exec: ((args: readonly string[]) => Promise<string>) | undefined;
  private readonly hook: readonly string[];
  private readonly execIn: IptablesOptions["execIn"];
  private readonly socketsOf: IptablesOptions["socketsOf"];
  private nodes: readonly NodeSpec[] = [];
  /** The rules in force, by what put them there ("partition", "loss n1"), so each is undone alone. */
  private readonly rules = new Map<string, Rule[]>();
  private created = false;
  /** What serves delay() instead of netem (the relays), when the runtime has one. */
  private delayer: Pick<NetworkFaults, "delay"> | undefined;
  /** Measures a delay in force, and its heal (the delay nemesis's verification), with the delayer. */
  verifyDelay: NetworkFaults["verifyDelay"];
  verifyDelayHealed: NetworkFaults["verifyDelayHealed"];

  constructor(options: IptablesOptions = {}) {
    this.chain = options.chain ?? DEFAULT_CHAIN;
    if (!/^[A-Za-z0-9_-]{1,28}$/.test(this.chain)) {
      throw new Error(`iptables chain name "${this.chain}" is not 1-28 letters, digits, - or _`);
    }
    this.binary = options.binary;
    this.exec = options.exec;
    this.hook = options.hook ?? ["OUTPUT"];
    this.execIn = options.execIn;
    this.socketsOf = options.socketsOf;
  }

  /** Whether the rules live in each node's namespace (keyed by peer address only). */
  get eachNode(): boolean {
    return this.execIn !== undefined;
  }

  /** The nodes the rules are about; addresses come from their specs. */
  setNodes(nodes: readonly NodeSpec[]): void {
    this.nodes = nodes;
  }

  /** Why partitions and loss cannot work here, or undefined when they can. */
  async unavailable(): Promise<string | undefined> {
    return this.exec || this.execIn ? undefined : iptablesUnavailable(this.binary);
  }

  /**
   * Removes any leftover of our chain, then creates it empty and jumps to it: from OUTPUT for
   * packets out of `lo` (one chain), or from OUTPUT in every node's namespace (each node).
   */
  async createChain(): Promise<void> {
    await this.removeChain();
    await this.everywhere(async (at) => {
      await this.run(["-N", this.chain], at);
      for (const hook of this.hook) {
        const lo = hook === "OUTPUT" && at === undefined ? ["-o", "lo"] : [];
        await this.run(["-I", hook, "1", ...lo, "-j", this.chain], at);
      }
    });
    this.created = true;
  }

  /** Deletes every jump to our chain and the chain itself. Idempotent; no-op without iptables. */
  async removeChain(): Promise<void> {
    this.rules.clear();
    this.created = false;
    if ((await this.unavailable()) !== undefined) return;
    await this.everywhere(async (at) => {
      for (const args of chainRemoval(await this.run(["-S"], at), this.chain)) {
        await this.run(args, at);
      }
    });
  }

  /** Whether createChain() ran and removeChain() did not since. */
  get active(): boolean {
    return this.created;
  }

  async partition(groups: readonly (readonly NodeId[])[]): Promise<void> {
    const groupOf = new Map<NodeId, number>();
    groups.forEach((group, i) => {
      for (const id of group) {
        this.address(id);
        if (groupOf.has(id)) throw new Error(`partition: node ${id} is in two groups`);
        groupOf.set(id, i);
      }
    });
    const links: [NodeId, NodeId][] = [];
    const ids = [...groupOf.keys()];
    for (const a of ids) {
      for (const b of ids) if (a < b && groupOf.get(a) !== groupOf.get(b)) links.push([a, b]);
    }
    await this.cut(links);
  }

  /**
   * Cuts exactly these links, both ways; replaces any partition or cut. Expresses shapes that
   * groups cannot (a bridge, a ring of majorities). An empty list heals the partition.
   */
  async cut(links: readonly (readonly [NodeId, NodeId])[]): Promise<void> {
    const rules: Rule[] = [];
    for (const [a, b] of links) {
      rules.push(this.drop(a, b, []), this.drop(b, a, []));
    }
    await this.setRules("partition", rules);
    this.cutLinks = new Set(links.flatMap(([a, b]) => [`${a} ${b}`, `${b} ${a}`]));
  }

  /** Whether the partition in force cuts a from b (a delay's check measures another link). */
  isCut(a: NodeId, b: NodeId): boolean {
    return this.cutLinks.has(`${a} ${b}`);
  }

  /** Drops this share of the packets each node sends to the other nodes; 0 removes the loss. */
  async loss(nodes: readonly NodeId[], probability: number): Promise<void> {
    if (!(probability >= 0 && probability <= 1)) {
      throw new Error(`loss: probability ${probability} is not between 0 and 1`);
    }
    const statistic = ["-m", "statistic", "--mode", "random", "--probability", String(probability)];
    for (const id of nodes) {
      this.address(id);
      const rules: Rule[] =
        probability === 0
          ? []
          : this.nodes.filter((n) => n.id !== id).map((n) => this.drop(id, n.id, statistic));
      await this.setRules(`loss ${id}`, rules);
    }
  }

  /** A DROP of (some of) what `from` sends to `to`, in from's chain or keyed by source. */
  private drop(from: NodeId, to: NodeId, match: readonly string[]): Rule {
    return this.from(from, ["-d", this.address(to), ...match, "-j", "DROP"]);
  }

  /** A rule about what `from` sends: in from's chain (each node), or keyed by its source address. */
  private from(node: NodeId, args: readonly string[]): Rule {
    return this.eachNode ? { at: node, args } : { args: ["-s", this.address(node), ...args] };
  }

  /**
   * Resets every TCP connection each of `nodes` has open now to the other nodes (those it
   * dialed): a rule in the node's own chain, or keyed by its address (conn-reset.ts), in force
   * when this resolves, with how many connections each node had.
   */
  async reset(nodes: readonly NodeId[]): Promise<{ [node: NodeId]: number }> {
    const list = this.socketsOf;
    if (list === undefined) throw new Error("reset: this runtime cannot list a node's sockets");
    const connections: { [node: NodeId]: number } = {};
    await Promise.all(
      nodes.map(async (id) => {
        this.address(id);
        const peers = this.nodes.filter((n) => n.id !== id).map((n) => n.host);
        const open = dialedConnections(await list(id), peers);
        connections[id] = open.length;
        const rules = resetRules(peers, open).map((args) => this.from(id, args));
        await this.setRules(`reset ${id}`, rules);
      }),
    );
    return connections;
  }

  /** Removes reset()'s rules for these nodes; resolves with the packets each one reset. */
  async endReset(nodes: readonly NodeId[]): Promise<{ [node: NodeId]: number }> {
    const packets: { [node: NodeId]: number } = {};
    await Promise.all(
      nodes.map(async (id) => {
        const at = this.eachNode ? id : undefined;
        const listing = await this.run(["-L", this.chain, "-n", "-v", "-x"], at);
        packets[id] = rejectedPackets(listing, this.eachNode ? undefined : this.address(id));
        await this.setRules(`reset ${id}`, []);
      }),
    );
    return packets;
  }

  /** Delay (and its check) served by something other than netem: the relays. */
  setDelayer(
    delayer: Pick<NetworkFaults, "delay"> | undefined,
    verify?: Pick<NetworkFaults, "verifyDelay" | "verifyDelayHealed">,
  ): void {
    this.delayer = delayer;
    this.verifyDelay = delayer ? verify?.verifyDelay : undefined;
    this.verifyDelayHealed = delayer ? verify?.verifyDelayHealed : undefined;
  }

  /** Through the delayer when there is one; else rejects saying why. Delay 0 without one: no-op. */
  async delay(nodes: readonly NodeId[], ms: number, jitterMs?: number): Promise<void> {
    for (const id of nodes) this.address(id);
    if (this.delayer) return this.delayer.delay(nodes, ms, jitterMs);
    if (ms === 0) return;
    throw new Error(await delayUnavailable());
  }

  /** Removes every rule of ours (the chain stays, empty). */
  async heal(): Promise<void> {
    this.rules.clear();
    this.cutLinks = new Set();
    if (this.created) await this.everywhere((at) => this.run(["-F", this.chain], at));
  }

  /**
   * Replaces the rules of one owner: deletes those no longer wanted, adds the new ones; in the
   * each-node layout the namespaces are changed in parallel, each one's rules in order.
   */
  private async setRules(key: string, next: Rule[]): Promise<void> {
    if (!this.created) {
      throw new Error(`iptables chain ${this.chain} does not exist: the runtime is not started`);
    }
    const before = this.rules.get(key) ?? [];
    const has = (list: Rule[], rule: Rule) => list.some((r) => ruleKey(r) === ruleKey(rule));
    const changes: { at?: NodeId; args: string[] }[] = [
      ...before
        .filter((r) => !has(next, r))
        .map((r) => ({ at: r.at, args: ["-D", this.chain, ...r.args] })),
      ...next
        .filter((r) => !has(before, r))
        .map((r) => ({ at: r.at, args: ["-A", this.chain, ...r.args] })),
    ];
    const places = [...new Set(changes.map((c) => c.at))];
    await Promise.all(
      places.map(async (at) => {
        for (const c of changes.filter((c) => c.at === at)) {
          await this.run(c.args, at).catch((error: Error) => {
            // A rule to delete that is not there is already what we want.
            if (!(c.args[0] === "-D" && /Bad rule|matching rule exist/.test(error.message))) {
              throw error;
            }
            return "";
          });
        }
      }),
    );
    if (next.length === 0) this.rules.delete(key);
    else this.rules.set(key, next);
  }

  /** Runs `f` for the one chain, or for every node's chain in parallel. */
  private async everywhere(f: (at: NodeId | undefined) => Promise<unknown>): Promise<void> {
    if (!this.eachNode) await f(undefined);
    else await Promise.all(this.nodes.map((n) => f(n.id)));
  }

  private address(id: NodeId): string {
    const node = this.nodes.find((n) => n.id === id);
    if (node === undefined) throw new Error(`no node ${id} in this cluster`);
    return node.host;
  }

  private async run(args: readonly string[], at?: NodeId): Promise<string> {
    if (at !== undefined && this.execIn) return this.execIn(at, args);
    return this.exec ? this.exec(args) : iptables(args, this.binary);
  }
}

/** Runs `iptables -w ARGS`; rejects with its stderr. */
export async function iptables(args: readonly string[], binary?: string): Promise<string> {
  const bin = binary ?? (await findBinary("iptables")) ?? "iptables";
  return new Promise((resolve, reject) => {
    execFile(bin, ["-w", ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`iptables ${args.join(" ")}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/** Deletes every jump to this chain (from any built-in chain of the filter table) and the chain. */
export async function removeIptablesChain(chain: string, binary?: string): Promise<boolean> {
  const commands = chainRemoval(await iptables(["-S"], binary), chain);
  for (const args of commands) await iptables(args, binary);
  return commands.length > 0;
}

/** The same, synchronously: for a process that is exiting without having stopped. */
export function removeIptablesChainSync(chain: string, binary = "iptables"): void {
  const run = (args: string[]) =>
    execFileSync(binary, ["-w", ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  for (const args of chainRemoval(run(["-S"]), chain)) run(args);
}

/** The commands that remove a chain and every jump to it, given `iptables -S`; [] if absent. */
export function chainRemoval(listing: string, chain: string): string[][] {
  const lines = listing.split("\n");
  if (!lines.includes(`-N ${chain}`)) return [];
  const commands: string[][] = [];
  for (const line of lines) {
    const words = line.trim().split(/\s+/);
    const j = words.indexOf("-j");
    if (words[0] === "-A" && words[1] !== chain && j > 0 && words[j + 1] === chain) {
      commands.push(["-D", ...words.slice(1)]);
    }
  }
  commands.push(["-F", chain], ["-X", chain]);
  return commands;
}

/** Chains of ours present now: the default one and any with its name as prefix. */
export async function listOurChains(prefix = DEFAULT_CHAIN, binary?: string): Promise<string[]> {
  const all = await iptables(["-S"], binary);
  return all
    .split("\n")
    .filter((l) => l.startsWith(`-N ${prefix}`))
    .map((l) => l.slice(3).trim());
}

/** Why iptables cannot be used by this process, or undefined. */
export async function iptablesUnavailable(binary?: string): Promise<string | undefined> {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return "partition needs root: iptables rules between node addresses need CAP_NET_ADMIN (run as root)";
  }
  const bin = binary ?? (await findBinary("iptables"));
  if (bin === undefined) {
    return "partition needs the iptables binary, which is not installed (apt-get install iptables)";
  }
  try {
    await iptables(["-S", "OUTPUT"], bin);
  } catch (error) {
    return `iptables does not work here: ${(error as Error).message}`;
  }
  return undefined;
}

/**
 * Why netem delays cannot be used, or undefined. Probes without side effects: the module is
 * loaded (/sys/module/sch_netem), or built in, or available to modprobe for this kernel.
 */
export async function netemUnavailable(): Promise<string | undefined> {
  if (await exists("/sys/module/sch_netem")) return undefined;
  const dir = `/lib/modules/${release()}`;
  for (const file of [`${dir}/modules.builtin`, `${dir}/modules.dep`]) {
    const text = await readFile(file, "utf8").catch(() => "");
    if (text.includes("sch_netem")) return undefined;
  }
  return NO_NETEM;
}

/**
 * Why the local runtime cannot delay packets. Without sch_netem nothing in the kernel can; with
 * it, per-pair delays on `lo` (a prio qdisc, netem bands, u32 filters) are not written yet.
 */
export async function delayUnavailable(): Promise<string> {
  return (
    (await netemUnavailable()) ??
    "delay between local processes is not implemented yet (this kernel has sch_netem)"
  );
}

async function findBinary(name: string): Promise<string | undefined> {
  for (const dir of SEARCH_PATH) {
    const file = `${dir}/${name}`;
    if (await exists(file, constants.X_OK)) return file;
  }
  return undefined;
}

async function exists(file: string, mode = constants.F_OK): Promise<boolean> {
  try {
    await access(file, mode);
    return true;
  } catch {
    return false;
  }
}
