// The reset fault's pieces: which TCP connections a node dialed to the other nodes (from its
// sockets, /proc/<pid>/net/tcp{,6} of its process or container: its listening ports tell the
// connections it accepted from those it dialed), the
// iptables rule that resets exactly those, and how many packets that rule has reset (from
// `iptables -L -v -x`).
//
// A dialed connection is matched by its source port, which is the node's own for that connection
// alone: a connection the node dials after the rule has another one and passes, so a node that
// reconnects at once is not cut off, which is what makes this a reset rather than a partition.
// The connections the node accepted are the other nodes' outbound ones, and are left alone: the
// messages the others send it keep coming, as behind an egress proxy or a NAT that lost its
// table. The rule is one iptables command (-d with every peer, multiport with up to 15 ports), so
// every connection of one node is reset by the same commit: a message the node broadcasts next
// is lost on all of them, not on some.

export interface Endpoint {
  host: string;
  port: number;
}

export interface OpenConnection {
  local: Endpoint;
  remote: Endpoint;
}

/** One TCP socket of a node: listening, established, or another state. */
export interface TcpSocket extends OpenConnection {
  state: "listen" | "established" | "other";
}

import { readFile } from "node:fs/promises";

/** multiport's limit: ports in one rule. */
const PORTS_PER_RULE = 15;

/** "0504D60A:1F40" (/proc/net/tcp: the address in the kernel's byte order) -> 10.214.4.5:8000. */
function procEndpoint(text: string): Endpoint | undefined {
  const [hex, portHex] = text.split(":");
  if (hex === undefined || portHex === undefined) return undefined;
  // tcp6: an IPv4-mapped address (::ffff:a.b.c.d) is the last 32 bits after 0000FFFF.
  const v4 = hex.length === 8 ? hex : /^0{16}FFFF0000/i.test(hex) ? hex.slice(24) : undefined;
  if (v4 === undefined) return { host: hex.toLowerCase(), port: Number.parseInt(portHex, 16) };
  const bytes = [6, 4, 2, 0].map((i) => Number.parseInt(v4.slice(i, i + 2), 16));
  return { host: bytes.join("."), port: Number.parseInt(portHex, 16) };
}

/** The sockets of /proc/<pid>/net/tcp or tcp6 (st 01: established, 0A: listening). */
export function parseProcNetTcp(text: string): TcpSocket[] {
  const out: TcpSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const words = line.trim().split(/\s+/);
    if (words.length < 4) continue;
    const local = procEndpoint(words[1] as string);
    const remote = procEndpoint(words[2] as string);
    if (local === undefined || remote === undefined) continue;
    const st = (words[3] as string).toUpperCase();
    out.push({
      state: st === "0A" ? "listen" : st === "01" ? "established" : "other",
      local,
      remote,
    });
  }
  return out;
}

/**
 * A process's TCP sockets: those of its network namespace, from /proc/<pid>/net/tcp and tcp6
 * (readable by any user; no program to start, which under load takes tens of ms).
 */
export async function procSockets(pid: number): Promise<TcpSocket[]> {
  const [v4, v6] = await Promise.all([
    readFile(`/proc/${pid}/net/tcp`, "utf8"),
    readFile(`/proc/${pid}/net/tcp6`, "utf8").catch(() => ""), // no IPv6 in the namespace
  ]);
  return [...parseProcNetTcp(v4), ...parseProcNetTcp(v6)];
}

/** The established connections to one of `peers` whose local port is not one the node listens on: the ones it dialed. */
export function dialedConnections(
  sockets: readonly TcpSocket[],
  peers: readonly string[],
): OpenConnection[] {
  const listening = new Set(sockets.filter((s) => s.state === "listen").map((s) => s.local.port));
  return sockets
    .filter((s) => s.state === "established" && peers.includes(s.remote.host))
    .filter((s) => !listening.has(s.local.port))
    .map(({ local, remote }) => ({ local, remote }));
}

/**
 * The rules (arguments after `-A CHAIN`) that reset these connections at their next packet out:
 * TCP to the peers' addresses from one of their source ports.
 */
export function resetRules(peers: readonly string[], open: readonly OpenConnection[]): string[][] {
  const ports = [...new Set(open.map((c) => c.local.port))].sort((a, b) => a - b);
  const rules: string[][] = [];
  for (let i = 0; i < ports.length; i += PORTS_PER_RULE) {
    const chunk = ports.slice(i, i + PORTS_PER_RULE);
    rules.push([
      "-p",
      "tcp",
      "-d",
      peers.join(","),
      "-m",
      "multiport",
      "--sports",
      chunk.join(","),
      "-j",
      "REJECT",
      "--reject-with",
      "tcp-reset",
    ]);
  }
  return rules;
}

/**
 * The packets the chain's tcp-reset rules have rejected, from `iptables -L CHAIN -n -v -x`; in
 * a chain shared by every node, those of the rules with this source address.
 */
export function rejectedPackets(listing: string, source?: string): number {
  let total = 0;
  for (const line of listing.split("\n")) {
    if (!/\bREJECT\b/.test(line) || !/tcp-reset/.test(line)) continue;
    if (source !== undefined && line.trim().split(/\s+/)[7] !== source) continue;
    const packets = Number(line.trim().split(/\s+/)[0]);
    if (Number.isFinite(packets)) total += packets;
  }
  return total;
}
