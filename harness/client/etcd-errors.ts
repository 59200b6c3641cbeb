// What an error of an etcd v3 call means for the history: `fail` only where the request is known
// not to have been applied and never to be, `info` otherwise (doc/protocol.md, "etcd").
//
// etcd3 turns gRPC errors into its own classes (GRPCUnavailableError, EtcdError, ...) but keeps
// grpc-js's message, "<code> <NAME>: <details>", where the details are etcd's own error text
// (etcdserver/api/v3rpc/rpctypes) or grpc-js's. We read the details, not the class: the same
// code (UNAVAILABLE) is definite for "no connection" and indefinite for "request timed out".

import type { Completion } from "../types.js";

/**
 * Errors that say the request was rejected before it was proposed to raft (or, for the
 * client's side, before it left): never applied.
 */
const DEFINITE: readonly { text: string; why: string }[] = [
  // grpc-js's load balancer had no connection to give the call (the node is down, refusing or
  // not reachable yet): the request was never written to any socket.
  { text: "No connection established", why: "the call never left the client" },
  // etcd3 refuses calls on a closed client before sending anything.
  { text: "client was already closed", why: "the call never left the client" },
  // EtcdServer.processInternalRaftRequestOnce: the applied index lags the committed one by
  // more than 5000 entries; checked before raft.Propose.
  { text: "etcdserver: too many requests", why: "rejected before it was proposed" },
  // The quota (NOSPACE alarm) is checked by the KV server's quota wrapper before the request
  // reaches raft.
  { text: "etcdserver: mvcc: database space exceeded", why: "rejected before it was proposed" },
  // The size of the marshalled request is checked before raft.Propose.
  { text: "etcdserver: request is too large", why: "rejected before it was proposed" },
  // The gRPC interceptor's answer when the member knows no leader and the call asked for one;
  // it runs before any handler.
  { text: "etcdserver: no leader", why: "rejected before any handler ran" },
  // raft.Step refused the proposal (a follower with no leader, a leader transferring its
  // leadership): it never entered the log.
  { text: "raft proposal dropped", why: "raft dropped the proposal" },
];

/**
 * gRPC codes etcd uses only for requests it refused outright: INVALID_ARGUMENT (3: the
 * request's checks in v3rpc, before proposing: empty key, too many operations, duplicate keys
 * in a txn), PERMISSION_DENIED (7) and UNAUTHENTICATED (16) (auth, before proposing or at apply,
 * where an entry that fails auth changes nothing), FAILED_PRECONDITION (9) and OUT_OF_RANGE (11)
 * (a compacted or future revision: reads only).
 */
const DEFINITE_CODES = new Set([3, 7, 9, 11, 16]);

/**
 * The completion of an etcd call that threw. Everything not known to be definite is `info`:
 * DEADLINE_EXCEEDED, "etcdserver: request timed out" (and its "possibly due to ..." forms: the
 * proposal may commit later), "etcdserver: leader changed", "etcdserver: server stopped", a
 * connection dropped or reset while the call was in flight, CANCELLED, UNKNOWN, INTERNAL.
 */
export function etcdErrorCompletion(err: unknown): Completion {
  const message = err instanceof Error ? err.message : String(err);
  const error = oneLine(message);
  for (const d of DEFINITE) {
    if (message.includes(d.text)) return { type: "fail", error: `${error} (${d.why})` };
  }
  const code = grpcCode(message);
  if (code !== undefined && DEFINITE_CODES.has(code)) return { type: "fail", error };
  return { type: "info", error };
}

/** The gRPC status code at the start of grpc-js's message ("14 UNAVAILABLE: ..."), if any. */
export function grpcCode(message: string): number | undefined {
  const m = /^(?:\w+: )?(\d{1,2}) [A-Z_]+:/.exec(message);
  return m ? Number(m[1]) : undefined;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}
