// The fault record of a run: per kind of nemesis, how many faults were started, how many of those
// were verified to have taken (the nemesis event's value says `"verified": true`), and the
// seconds the cluster spent under them. A fault whose start failed, or was skipped (a `when`
// fault whose moment never came), is not counted as started; skipped ones are counted apart.

import type { Value } from "../checker/history.js";
import type { NemesisKind } from "./types.js";

export interface FaultCounts {
  started: number;
  verified: number;
  seconds: number;
  /** Starts that waited for a moment (`when:`) that did not come; absent when none. */
  skipped?: number;
}

export type FaultRecord = Partial<Record<NemesisKind, FaultCounts>>;

function isVerified(value: Value): boolean {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && value.verified === true
  );
}

function failed(value: Value): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "error" in value;
}

function skipped(value: Value): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "skipped" in value;
}

export class FaultTally {
  private readonly counts = new Map<NemesisKind, FaultCounts>();
  /** Kind -> when (seconds) each fault of that kind in force started. */
  private readonly open = new Map<NemesisKind, number[]>();

  /** Every kind asked for appears in the record, with zeros if none of it happened. */
  constructor(kinds: readonly NemesisKind[]) {
    for (const k of kinds) this.counts.set(k, { started: 0, verified: 0, seconds: 0 });
  }

  start(kind: NemesisKind, value: Value, atSeconds: number): void {
    if (failed(value)) return;
    const c = this.entry(kind);
    if (skipped(value)) {
      c.skipped = (c.skipped ?? 0) + 1;
      return;
    }
    c.started++;
    if (isVerified(value)) c.verified++;
    this.open.set(kind, [...(this.open.get(kind) ?? []), atSeconds]);
  }

  stop(kind: NemesisKind, atSeconds: number): void {
    const since = this.open.get(kind)?.shift();
    if (since !== undefined) this.entry(kind).seconds += atSeconds - since;
  }

  /** The record as of `atSeconds` (faults still in force count up to then). */
  record(atSeconds: number): FaultRecord {
    const out: FaultRecord = {};
    for (const [kind, c] of this.counts) {
      const open = (this.open.get(kind) ?? []).reduce((s, t) => s + (atSeconds - t), 0);
      out[kind] = { ...c, seconds: Math.round((c.seconds + open) * 100) / 100 };
    }
    return out;
  }

  get started(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c.started;
    return n;
  }

  private entry(kind: NemesisKind): FaultCounts {
    let c = this.counts.get(kind);
    if (!c) {
      c = { started: 0, verified: 0, seconds: 0 };
      this.counts.set(kind, c);
    }
    return c;
  }
}

/** `partition 2 started, 2 verified, 9.8 s; kill 1 started, 0 verified, 5 s` */
export function describeFaults(record: FaultRecord): string {
  const parts = Object.entries(record).map(
    ([kind, c]) =>
      `${kind} ${c.started} started, ${c.verified} verified, ${c.seconds} s` +
      (c.skipped ? ` (${c.skipped} skipped: no leader change)` : ""),
  );
  return parts.join("; ");
}
