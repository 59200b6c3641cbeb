// The key-value state machine with client sessions (dedup): a request whose (clientId, seq) was
// already applied is not applied again; the last result of each client is kept and returned to a
// retry of the same seq. A request older than the client's last is stale: it gets no result.

import type { ClientRequest, CommandResult, KvValue } from "../command.js";
import type { Session, Snapshot } from "./types.js";

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
  private readonly sessions = new Map<string, Session>();

  constructor(snapshot?: Snapshot | null) {
    if (snapshot) {
      for (const [k, v] of snapshot.kv) this.kv.set(k, v);
      for (const [c, s] of snapshot.sessions) this.sessions.set(c, s);
    }
  }

  /** The result a request already has (a duplicate), "stale", or undefined if not yet applied. */
  lookup(req: ClientRequest): CommandResult | "stale" | undefined {
    const s = this.sessions.get(req.clientId);
    if (!s || req.seq > s.seq) return undefined;
    return req.seq === s.seq ? s.result : "stale";
  }

  /** Applies a request at most once; returns its result (the first one, for a duplicate). */
  apply(req: ClientRequest): CommandResult | "stale" {
    const known = this.lookup(req);
    if (known !== undefined) return known;
    const result = this.execute(req);
    this.sessions.set(req.clientId, { seq: req.seq, result });
    return result;
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
    return { index, kv: [...this.kv.entries()], sessions: [...this.sessions.entries()] };
  }

  /** A canonical text of the key-value contents (for checks that replicas agree). */
  digest(): string {
    return JSON.stringify([...this.kv.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  }
}
