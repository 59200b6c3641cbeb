// The key-value state machine with client sessions (dedup): a request whose (clientId, seq) was
// already applied is not applied again; the last result of each client is kept and returned to a
// retry of the same seq. A request older than the client's last is stale: it gets no result.
//
// Sessions expire, so memory stays bounded however many clients come and go. Expiry must be the
// same on every replica, so it never reads a clock of its own: each slot carries its leader's
// wall clock (`at`), the session clock is the highest `at` applied so far (a leader whose clock
// is behind cannot turn it back), and a session expires when that clock has moved `ttlMs` past
// its last use, or when there are more than `limit` sessions (the least recently used go
// first). Anonymous requests (the node made up their client id: ANONYMOUS_CLIENT_PREFIX) are
// never retried by their client, only forwarded again by a follower for a few seconds, so they
// have a shorter life and a limit of their own. The guarantee: a retry of a request within
// `ttlMs` of its last use (less the forward jump of a leader's clock) and before `limit` other
// clients were used after it is applied once; a later one may apply twice.

import {
  ANONYMOUS_CLIENT_PREFIX,
  type ClientRequest,
  type CommandResult,
  type KvValue,
} from "../command.js";
import type { Session, Snapshot } from "./types.js";

/** How long and how many sessions are kept, of named and of anonymous clients. */
export interface SessionLimits {
  named: { ttlMs: number; limit: number };
  anonymous: { ttlMs: number; limit: number };
}

/**
 * Named: 10 minutes (the harness retries within its op timeout, seconds), 100,000 clients.
 * Anonymous: 2 minutes (more than a clock skew of 60 s plus the shell's 2 s of forwarding) and
 * 20,000 (at 5,000 requests/s, 4 s: still more than those 2 s).
 */
export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  named: { ttlMs: 10 * 60_000, limit: 100_000 },
  anonymous: { ttlMs: 2 * 60_000, limit: 20_000 },
};

function jsonEqual(a: KvValue, b: KvValue): boolean {
  if (a === b) return true;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: KvValue): KvValue {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(canonical);
  const out: { [k: string]: KvValue } = {};
  for (const k of Object.keys(v).sort()) out[k] = canonical(v[k] as KvValue);
  return out;
}

export class KvStateMachine {
  private readonly kv = new Map<string, KvValue>();
  /** Named and anonymous sessions, each least recently used first (Map order). */
  private readonly named = new Map<string, Session>();
  private readonly anonymous = new Map<string, Session>();
  /** The session clock: the highest slot `at` applied. */
  private clock = 0;

  constructor(
    snapshot?: Snapshot | null,
    private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
  ) {
    if (snapshot) {
      for (const [k, v] of snapshot.kv) this.kv.set(k, v);
      for (const [c, s] of snapshot.sessions) this.sessionsOf(c).set(c, s);
      this.clock = snapshot.clock ?? 0;
    }
  }

  private sessionsOf(clientId: string): Map<string, Session> {
    return clientId.startsWith(ANONYMOUS_CLIENT_PREFIX) ? this.anonymous : this.named;
  }

  /** The result a request already has (a duplicate), "stale", or undefined if not yet applied. */
  lookup(req: ClientRequest): CommandResult | "stale" | undefined {
    const s = this.sessionsOf(req.clientId).get(req.clientId);
    if (!s || req.seq > s.seq) return undefined;
    return req.seq === s.seq ? s.result : "stale";
  }

  /** Applies a request at most once; returns its result (the first one, for a duplicate). */
  apply(req: ClientRequest): CommandResult | "stale" {
    const known = this.lookup(req);
    if (known !== undefined) return known;
    const result = this.execute(req);
    const sessions = this.sessionsOf(req.clientId);
    // Deleted first, so that the Map's order stays least recently used first.
    sessions.delete(req.clientId);
    sessions.set(req.clientId, { seq: req.seq, result, at: this.clock });
    return result;
  }

  /**
   * A slot's clock (its leader's `at`), before its requests are applied: the session clock moves
   * up to it, and the sessions it or the limits leave behind expire.
   */
  advance(at: number | undefined): void {
    if (at !== undefined && at > this.clock) {
      // Sessions from before any clock (an older snapshot, slots without one) start their
      // life at the first clock seen, not at 0, which would expire them all at once.
      if (this.clock === 0) {
        for (const s of [...this.named.values(), ...this.anonymous.values()]) s.at = at;
      }
      this.clock = at;
    }
    this.expire(this.named, this.limits.named);
    this.expire(this.anonymous, this.limits.anonymous);
  }

  private expire(sessions: Map<string, Session>, { ttlMs, limit }: SessionLimits["named"]): void {
    for (const [id, s] of sessions) {
      if (sessions.size <= limit && (s.at ?? 0) >= this.clock - ttlMs) return;
      sessions.delete(id);
    }
  }

  /** How many sessions are kept, named and anonymous. */
  sessionCounts(): { named: number; anonymous: number } {
    return { named: this.named.size, anonymous: this.anonymous.size };
  }

  /** A read of the current state, outside the log (only a mutant answers clients with it). */
  read(key: string): CommandResult {
    const current = this.kv.get(key);
    return current === undefined ? { status: "not-found" } : { status: "ok", value: current };
  }

  private execute({ command }: ClientRequest): CommandResult {
    const current = this.kv.get(command.key);
    switch (command.op) {
      case "read":
        return current === undefined ? { status: "not-found" } : { status: "ok", value: current };
      case "write":
        this.kv.set(command.key, command.value);
        return { status: "ok" };
      case "cas":
        if (current === undefined || !jsonEqual(current, command.from)) {
          return current === undefined
            ? { status: "cas-mismatch" }
            : { status: "cas-mismatch", value: current };
        }
        this.kv.set(command.key, command.to);
        return { status: "ok" };
    }
  }

  snapshot(index: number): Snapshot {
    const sessions = [...this.named.entries(), ...this.anonymous.entries()];
    return { index, kv: [...this.kv.entries()], sessions, clock: this.clock };
  }

  /** A canonical text of the key-value contents (for checks that replicas agree). */
  digest(): string {
    return JSON.stringify([...this.kv.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  }
}
