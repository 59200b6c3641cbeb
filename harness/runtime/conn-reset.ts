// The reset fault's pieces that are plain data: which TCP connections a node dialed to the other
// nodes (from `ss -tanH` in its namespace: its listening ports tell the connections it accepted
// from those it dialed), the iptables rule that resets exactly those, and how many packets that
// rule has reset (from `iptables -L -v -x`).
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

/** multiport's limit: ports in one rule. */
const PORTS_PER_RULE = 15;

/** "10.214.5.1:43210", "[::ffff:10.214.5.1]:43210" -> host and port; undefined if not one. */
export function parseEndpoint(text: string): Endpoint | undefined {
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) return undefined;
  const host = text
    .slice(0, colon)
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/^::ffff:/, "");
  return { host, port };
}

/**
 * The established connections of `ss -tanH` (State Recv-Q Send-Q Local Peer) to one of `peers`
 * whose local port is not one the node listens on: the ones it dialed.
 */
export function dialedConnections(listing: string, peers: readonly string[]): OpenConnection[] {
  const listening = new Set<number>();
  const established: OpenConnection[] = [];
  for (const line of listing.split("\n")) {
    const words = line.trim().split(/\s+/);
    if (words.length < 5) continue;
    const local = parseEndpoint(words[3] as string);
    if (local === undefined) continue;
    if (words[0] === "LISTEN") listening.add(local.port);
    const remote = parseEndpoint(words[4] as string);
    if (words[0] === "ESTAB" && remote) established.push({ local, remote });
  }
  return established.filter((c) => peers.includes(c.remote.host) && !listening.has(c.local.port));
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

/** The packets the chain's tcp-reset rules have rejected, from `iptables -L CHAIN -n -v -x`. */
export function rejectedPackets(listing: string): number {
  let total = 0;
  for (const line of listing.split("\n")) {
    if (!/\bREJECT\b/.test(line) || !/tcp-reset/.test(line)) continue;
    const packets = Number(line.trim().split(/\s+/)[0]);
    if (Number.isFinite(packets)) total += packets;
  }
  return total;
}
