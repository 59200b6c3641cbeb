import { describe, expect, it } from "vitest";
import {
  dialedConnections,
  parseProcNetTcp,
  rejectedPackets,
  resetRules,
  type TcpSocket,
} from "../runtime/conn-reset.js";

// n1's sockets (10.214.9.1): it listens on 7000 (peers) and 8000 (clients), dialed n2 and n3,
// accepted n2's connection, and the harness (.254) is a client; one connection is closing.
const at = (host: string, port: number) => ({ host, port });
const SOCKETS: TcpSocket[] = [
  { state: "listen", local: at("10.214.9.1", 7000), remote: at("0.0.0.0", 0) },
  { state: "listen", local: at("10.214.9.1", 8000), remote: at("0.0.0.0", 0) },
  { state: "established", local: at("10.214.9.1", 41822), remote: at("10.214.9.2", 7000) },
  { state: "established", local: at("10.214.9.1", 41830), remote: at("10.214.9.3", 7000) },
  { state: "established", local: at("10.214.9.1", 7000), remote: at("10.214.9.2", 52114) },
  { state: "established", local: at("10.214.9.1", 8000), remote: at("10.214.9.254", 39000) },
  { state: "other", local: at("10.214.9.1", 41700), remote: at("10.214.9.3", 7000) },
];
const PEERS = ["10.214.9.2", "10.214.9.3"];

describe("reset: the connections a node dialed, and the rule that resets them", () => {
  it("keeps the established connections it dialed to peers: not those it accepted, not clients", () => {
    expect(dialedConnections(SOCKETS, PEERS)).toEqual([
      { local: { host: "10.214.9.1", port: 41822 }, remote: { host: "10.214.9.2", port: 7000 } },
      { local: { host: "10.214.9.1", port: 41830 }, remote: { host: "10.214.9.3", port: 7000 } },
    ]);
  });

  it("resets them by their source ports in one rule, so connections dialed later pass", () => {
    expect(resetRules(PEERS, dialedConnections(SOCKETS, PEERS))).toEqual([
      "-p tcp -d 10.214.9.2,10.214.9.3 -m multiport --sports 41822,41830 -j REJECT --reject-with tcp-reset".split(
        " ",
      ),
    ]);
    expect(resetRules(PEERS, [])).toEqual([]);
  });

  it("reads a container's sockets from /proc/<pid>/net/tcp and tcp6 the same way", () => {
    // n1 at 10.214.4.1: listening on 7000, dialed n2 (10.214.4.2:7000) from 45000 (0xAFC8), and
    // accepted n2's connection from 51000 (0xC738); tcp6 holds the IPv4-mapped listener 8000.
    const tcp = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0104D60A:1B58 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1",
      "   1: 0104D60A:AFC8 0204D60A:1B58 01 00000000:00000000 00:00000000 00000000     0        0 2 1",
      "   2: 0104D60A:1B58 0204D60A:C738 01 00000000:00000000 00:00000000 00000000     0        0 3 1",
    ].join("\n");
    const tcp6 = [
      "  sl  local_address                         remote_address                        st",
      "   0: 0000000000000000FFFF00000104D60A:1F40 00000000000000000000000000000000:0000 0A",
    ].join("\n");
    const sockets = [...parseProcNetTcp(tcp), ...parseProcNetTcp(tcp6)];
    expect(sockets.map((s) => [s.state, `${s.local.host}:${s.local.port}`])).toEqual([
      ["listen", "10.214.4.1:7000"],
      ["established", "10.214.4.1:45000"],
      ["established", "10.214.4.1:7000"],
      ["listen", "10.214.4.1:8000"],
    ]);
    expect(dialedConnections(sockets, ["10.214.4.2"])).toEqual([
      { local: { host: "10.214.4.1", port: 45000 }, remote: { host: "10.214.4.2", port: 7000 } },
    ]);
  });

  it("splits past multiport's 15 ports", () => {
    const many = Array.from({ length: 20 }, (_, i) => ({
      local: { host: "a", port: 40000 + i },
      remote: { host: "b", port: 7000 },
    }));
    const rules = resetRules(["b"], many);
    expect(rules.map((r) => r[r.indexOf("--sports") + 1]?.split(",").length)).toEqual([15, 5]);
  });

  it("counts the packets the tcp-reset rules rejected, and nothing else", () => {
    const listing = [
      "Chain PAXOS-NEMESIS (1 references)",
      "    pkts      bytes target     prot opt in     out     source               destination",
      "       3      180 REJECT     6    --  *      *       0.0.0.0/0            10.214.9.2           multiport sports 41822 reject-with tcp-reset",
      "       2      120 REJECT     6    --  *      *       0.0.0.0/0            10.214.9.3           multiport sports 41822 reject-with tcp-reset",
      "      40     2400 DROP       0    --  *      *       0.0.0.0/0            10.214.9.3",
    ].join("\n");
    expect(rejectedPackets(listing)).toBe(5);
    // In a chain every node shares (Docker), the rules are told apart by their source address.
    const shared = [
      "       3      180 REJECT     6    --  *      *       10.214.4.1           10.214.4.2           multiport sports 41822 reject-with tcp-reset",
      "       7      420 REJECT     6    --  *      *       10.214.4.3           10.214.4.2           multiport sports 41900 reject-with tcp-reset",
    ].join("\n");
    expect(rejectedPackets(shared, "10.214.4.1")).toBe(3);
  });
});
