// etcd v3 as an adapter: clients from client/etcd.ts (each connected to its one member), a
// member is ready once it answers a maintenance status naming a leader, and the leader is the
// status's leader member id, mapped to our node id by the member list (members are named by
// our ids: `etcd --name {id}`).
//
// Options: `reads: linearizable` (default) or `serializable` (member-local ranges, which may
// be stale: the harness should catch it).
//
// delay is refused: the delay nemesis gives each node its peers at relay addresses of ours, but
// etcd derives each member's id from its peer URLs (with the cluster token) and checks peers
// against its membership, so nodes given different URLs for the same member compute different
// members and the cluster never forms (tried: every member logs "request cluster ID mismatch"
// for its peers' messages, and none ever knows a leader).

import { Etcd3 } from "etcd3";
import { EtcdClient, type EtcdReads, memberOptions } from "../client/etcd.js";
import type { Client, NemesisKind, NodeHandle, NodeId, Protocol } from "../types.js";

export interface EtcdOptions {
  reads: EtcdReads;
}

const READS: readonly EtcdReads[] = ["linearizable", "serializable"];

/** A descriptor's options for etcd; throws one line naming the option at fault. */
export function etcdOptions(options: Readonly<Record<string, unknown>>): EtcdOptions {
  for (const name of Object.keys(options)) {
    if (name !== "reads") throw new Error(`options.${name}: etcd takes only options.reads`);
  }
  const reads = options.reads ?? "linearizable";
  if (!READS.includes(reads as EtcdReads)) {
    throw new Error(`options.reads must be ${READS.join(" or ")} (not ${JSON.stringify(reads)})`);
  }
  return { reads: reads as EtcdReads };
}

export const ETCD_REFUSES: Partial<Record<NemesisKind, string>> = {
  delay:
    "etcd derives member ids from peer URLs and checks peers against its membership, so the relay addresses delay gives each node's peers would keep the cluster from forming",
};

interface Status {
  /** The member that answered. */
  member: string;
  /** The leader it knows ("0": none). */
  leader: string;
  term: bigint;
}

/** How long a leader look may take per member. */
const LEADER_LOOK_MS = 1000;

export function etcdProtocol(options: EtcdOptions = { reads: "linearizable" }): Protocol {
  const clients = new Set<Client>();
  // One connection per member for readiness and leader looks, apart from the workers'.
  const probes = new Map<string, Etcd3>();
  const probe = (node: NodeHandle): Etcd3 => {
    let etcd = probes.get(node.url);
    if (!etcd) {
      etcd = new Etcd3(memberOptions(node.url));
      probes.set(node.url, etcd);
    }
    return etcd;
  };
  const status = async (node: NodeHandle, timeoutMs: number): Promise<Status | undefined> => {
    try {
      const s = await probe(node).maintenance.status({ deadline: Date.now() + timeoutMs });
      return { member: s.header.member_id, leader: s.leader, term: BigInt(s.raftTerm) };
    } catch {
      return undefined;
    }
  };
  return {
    name: "etcd",
    unsupportedFaults: ETCD_REFUSES,
    client(node) {
      const client = new EtcdClient(node.url, options.reads);
      clients.add(client);
      return {
        invoke: (op, signal) => client.invoke(op, signal),
        close: async () => {
          clients.delete(client);
          await client.close();
        },
      };
    },
    async close() {
      await Promise.all([...clients].map((c) => c.close()));
      clients.clear();
      for (const etcd of probes.values()) etcd.close();
      probes.clear();
    },
    async ready(node, timeoutMs) {
      const s = await status(node, timeoutMs);
      return s !== undefined && s.leader !== "0";
    },
    readiness: (node) => `answer a maintenance status at ${node.url} naming a leader`,
    async leader(nodes, timeoutMs = LEADER_LOOK_MS) {
      const seen = await Promise.all(nodes.map((n) => status(n, timeoutMs)));
      // The newest term's view: a member cut off from the others may still name an old leader.
      let best: { node: NodeHandle; status: Status } | undefined;
      seen.forEach((s, i) => {
        if (s === undefined || s.leader === "0") return;
        if (best === undefined || s.term > best.status.term) {
          best = { node: nodes[i] as NodeHandle, status: s };
        }
      });
      if (best === undefined) return undefined;
      return memberName(probe(best.node), best.status.leader, nodes);
    },
  };
}

/** The node whose etcd member has this id (members are named by node ids). */
async function memberName(
  etcd: Etcd3,
  memberId: string,
  nodes: readonly NodeHandle[],
): Promise<NodeId | undefined> {
  try {
    const list = await etcd.cluster.memberList({}, { deadline: Date.now() + LEADER_LOOK_MS });
    const name = list.members.find((m) => m.ID === memberId)?.name;
    return nodes.some((n) => n.spec.id === name) ? name : undefined;
  } catch {
    return undefined;
  }
}
