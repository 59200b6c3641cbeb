// The local runtime's network: one network namespace per node, each joined by a veth pair to a
// bridge of ours in the root namespace, on a private /24 used only there (10.214.S.0/24: node
// i on .i, the bridge on .254). The harness reaches the nodes through the bridge; the nodes
// have no route anywhere else, and may not open connections to the host (below).
//
// Names carry our prefix and the owner (the harness's pid and start time, /proc/<pid>/stat):
// - namespaces  paxos-<pid>-<start>-<S>-<id>  (a file name: the whole owner fits)
// - bridge      pxb<S>,  veths pxv<S>-<i>     (at most 15 characters: the subnet is the short
//               id; the owner is in the interface's alias, `ip link set ... alias`)
// - root chain  PXNS-<S>-<pid>-<start>         (at most 28 characters)
// so a later run tells a dead harness's objects from a live one's without any file.
//
// The root chain: the Docker engine loads br_netfilter and sets FORWARD's policy to DROP, so
// packets bridged between our veths would be dropped; our chain, jumped to first from FORWARD,
// accepts what goes from our bridge to our bridge. From INPUT it lets the nodes answer the
// host and drops anything else they start towards it. Nothing else is touched; the chain goes
// with the bridge.

import { execFile, execFileSync } from "node:child_process";
import { chainRemoval, iptables, iptablesUnavailable } from "./iptables.js";

export const NAMESPACE_PREFIX = "paxos-";
export const BRIDGE_PREFIX = "pxb";
export const VETH_PREFIX = "pxv";
export const ROOT_CHAIN_PREFIX = "PXNS-";
/** Our interfaces' alias starts with this, then the owner: "paxos-harness owner=<pid>:<start>". */
export const ALIAS_PREFIX = "paxos-harness owner=";

/** The owner of a namespace fabric: a harness process, as pid and start time. */
export interface Owner {
  pid: number;
  startTime: string;
}

export interface NodePlace {
  id: string;
  namespace: string;
  /** The root namespace's end of the veth pair (the other end is eth0 in the namespace). */
  veth: string;
  address: string;
}

/** Where every object of one fabric goes: what is created, recorded and removed. */
export interface Fabric {
  owner: Owner;
  subnet: number;
  bridge: string;
  /** The bridge's address: where the harness's traffic to the nodes comes from. */
  bridgeAddress: string;
  chain: string;
  nodes: NodePlace[];
}

/** The names and addresses of a fabric for these nodes on 10.214.<subnet>.0/24. */
export function fabricOf(owner: Owner, subnet: number, ids: readonly string[]): Fabric {
  if (!Number.isInteger(subnet) || subnet < 1 || subnet > 254) {
    throw new Error(`network namespaces: subnet ${subnet} (want 1 to 254)`);
  }
  if (ids.length < 1 || ids.length > 253) {
    throw new Error(`network namespaces: ${ids.length} nodes (want 1 to 253)`);
  }
  const tag = `${owner.pid}-${owner.startTime}`;
  return {
    owner,
    subnet,
    bridge: `${BRIDGE_PREFIX}${subnet}`,
    bridgeAddress: `10.214.${subnet}.254`,
    chain: `${ROOT_CHAIN_PREFIX}${subnet}-${tag}`,
    nodes: ids.map((id, i) => ({
      id,
      namespace: `${NAMESPACE_PREFIX}${tag}-${subnet}-${id}`,
      veth: `${VETH_PREFIX}${subnet}-${i + 1}`,
      address: `10.214.${subnet}.${i + 1}`,
    })),
  };
}

/** The owner a name of ours carries (namespace, root chain or alias), or undefined. */
export function ownerInName(name: string): Owner | undefined {
  const m =
    /^paxos-(\d+)-(\d+)-\d+-/.exec(name) ??
    /^PXNS-\d+-(\d+)-(\d+)$/.exec(name) ??
    /^paxos-harness owner=(\d+):(\d+)/.exec(name);
  return m ? { pid: Number(m[1]), startTime: m[2] as string } : undefined;
}

/** A subnet another run (or anything else on this machine) already uses. */
export class SubnetTaken extends Error {}

/**
 * Creates the bridge (which claims the subnet: a second `ip link add` of the same name fails),
 * the namespaces, the veths, the addresses and the root chain. Rejects with SubnetTaken when
 * the subnet is in use; on any other failure what was made is removed again.
 */
export async function createFabric(f: Fabric): Promise<void> {
  const used = await ip(["-4", "-o", "addr", "show"]);
  if (used.includes(` 10.214.${f.subnet}.`)) {
    throw new SubnetTaken(`10.214.${f.subnet}.0/24 is in use on this machine`);
  }
  try {
    await ip(["link", "add", f.bridge, "type", "bridge"]);
  } catch (error) {
    if (/exists/i.test((error as Error).message)) {
      throw new SubnetTaken(`bridge ${f.bridge} exists (another run's)`);
    }
    throw error;
  }
  try {
    const alias = `${ALIAS_PREFIX}${f.owner.pid}:${f.owner.startTime}`;
    const root = [
      `link set ${f.bridge} alias "${alias}"`,
      `link set ${f.bridge} addrgenmode none`,
      `addr add ${f.bridgeAddress}/24 dev ${f.bridge}`,
      `link set ${f.bridge} up`,
    ];
    for (const n of f.nodes) {
      root.push(
        `netns add ${n.namespace}`,
        `link add ${n.veth} type veth peer name eth0 netns ${n.namespace}`,
        `link set ${n.veth} alias "${alias}"`,
        `link set ${n.veth} addrgenmode none`,
        `link set ${n.veth} master ${f.bridge} up`,
      );
    }
    await ip(["-batch", "-"], root.join("\n"));
    await Promise.all(
      f.nodes.map((n) =>
        ip(
          ["-n", n.namespace, "-batch", "-"],
          [
            `addr add ${n.address}/24 dev eth0`,
            "link set eth0 addrgenmode none",
            "link set eth0 up",
            "link set lo up",
          ].join("\n"),
        ),
      ),
    );
    await createRootChain(f);
  } catch (error) {
    await removeFabric(f);
    throw error;
  }
}

async function createRootChain(f: Fabric): Promise<void> {
  const b = f.bridge;
  await iptables(["-N", f.chain]);
  await iptables(["-A", f.chain, "-i", b, "-o", b, "-j", "ACCEPT"]);
  await iptables([
    ...["-A", f.chain, "-i", b],
    ...["-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"],
  ]);
  await iptables(["-A", f.chain, "-i", b, "-j", "DROP"]);
  await iptables(["-I", "FORWARD", "1", "-j", f.chain]);
  await iptables(["-I", "INPUT", "1", "-i", b, "-j", f.chain]);
}

/** What removes a fabric: `ip -force -batch` lines (veths, namespaces, bridge). */
function removalLines(f: Pick<Fabric, "bridge" | "nodes">): string {
  return [
    ...f.nodes.map((n) => `link del ${n.veth}`),
    ...f.nodes.map((n) => `netns del ${n.namespace}`),
    `link del ${f.bridge}`,
  ].join("\n");
}

/**
 * Removes the veths, namespaces, bridge and root chain of a fabric, whichever exist. The
 * processes in the namespaces must be ended first (a namespace lives on while one is in it).
 */
export async function removeFabric(f: Pick<Fabric, "bridge" | "nodes" | "chain">): Promise<void> {
  await ip(["-force", "-batch", "-"], removalLines(f)).catch(() => "");
  if ((await iptablesUnavailable()) === undefined) {
    for (const args of chainRemoval(await iptables(["-S"]), f.chain)) await iptables(args);
  }
}

/** The same, synchronously: for a process exiting without having stopped. */
export function removeFabricSync(f: Pick<Fabric, "bridge" | "nodes" | "chain">): void {
  try {
    execFileSync("ip", ["-force", "-batch", "-"], {
      input: removalLines(f),
      stdio: ["pipe", "ignore", "ignore"],
    });
  } catch {}
  try {
    const run = (args: string[]) =>
      execFileSync("iptables", ["-w", ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
    for (const args of chainRemoval(run(["-S"]), f.chain)) run(args);
  } catch {}
}

/** Runs a command in a namespace (`ip netns exec NS ...`); resolves to its stdout. */
export function inNamespace(namespace: string, argv: readonly string[]): Promise<string> {
  return ip(["netns", "exec", namespace, ...argv]);
}

/** Namespaces present now (`ip netns list`), by name. */
export async function listNamespaces(): Promise<string[]> {
  const out = await ip(["netns", "list"]).catch(() => "");
  return out
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => n !== "");
}

/** Interfaces of ours present now: name and alias (the owner), from `ip -o link`. */
export async function listOurInterfaces(): Promise<{ name: string; alias: string }[]> {
  const out = await ip(["-o", "link", "show"]).catch(() => "");
  const found: { name: string; alias: string }[] = [];
  for (const line of out.split("\n")) {
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1];
    const alias = /\balias (.*?)(?:\\|$)/.exec(line)?.[1]?.trim() ?? "";
    if (name && alias.startsWith(ALIAS_PREFIX)) found.push({ name, alias });
  }
  return found;
}

/** The PIDs of the processes in a namespace (`ip netns pids`). */
export async function namespacePids(namespace: string): Promise<number[]> {
  const out = await ip(["netns", "pids", namespace]).catch(() => "");
  return out
    .split("\n")
    .filter((l) => /^\d+$/.test(l.trim()))
    .map(Number);
}

/** Runs `ip ARGS` (with `input` on stdin); rejects with its stderr. */
export function ip(args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile("ip", args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`ip ${args.join(" ")}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    // An ip that exits without reading (a command that takes no input) must not fail us.
    child.stdin?.on("error", () => {});
    child.stdin?.end(input ?? "");
  });
}

/**
 * Why this process cannot give each node a network namespace, or undefined when it can: it
 * needs root, the `ip` command (iproute2) and iptables. Read after "needs a network namespace
 * per node: ".
 */
export async function namespacesUnavailable(): Promise<string | undefined> {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return "this process is not root (ip netns, veths, a bridge and iptables need CAP_NET_ADMIN and CAP_SYS_ADMIN)";
  }
  try {
    await ip(["netns", "list"]);
  } catch (error) {
    const m = (error as Error).message;
    return /ENOENT/.test(m)
      ? "the ip command is not installed (apt-get install iproute2)"
      : `ip netns does not work here: ${m}`;
  }
  const why = await iptablesUnavailable();
  return why?.replace(/^partition needs the iptables binary, which/, "the iptables binary");
}
