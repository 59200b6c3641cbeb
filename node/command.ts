// The commands of the node's key-value state machine and their results. Shared by the
// consensus core, the HTTP client API and the simulation; plain data, JSON-serializable.

/** A JSON value as stored under a key. */
export type KvValue = null | boolean | number | string | KvValue[] | { [key: string]: KvValue };

export type Command =
  | { op: "read"; key: string }
  | { op: "write"; key: string; value: KvValue }
  | { op: "cas"; key: string; from: KvValue; to: KvValue };

/**
 * A client request: a command with the identity that makes retries safe. A command with the
 * same (clientId, seq) as one already applied is not applied again; its first result is returned.
 */
/**
 * The client id a node gives a request that came without one (an anonymous HTTP request):
 * statemachine.ts keeps such sessions a shorter time.
 */
export const ANONYMOUS_CLIENT_PREFIX = "anon/";

export interface ClientRequest {
  clientId: string;
  seq: number;
  command: Command;
}

export type CommandResult =
  | { status: "ok"; value?: KvValue } // read: value (absent key -> "not-found" instead)
  | { status: "not-found" } // read of an absent key (HTTP 404)
  | { status: "cas-mismatch"; value?: KvValue } // cas whose `from` did not match (HTTP 409)
  // Definitely not applied (HTTP 503 with definite: true): no leader known, not the leader, ...
  | { status: "unavailable"; reason: string; leader?: string };
