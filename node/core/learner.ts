// The learner: the chosen log above the last snapshot and the state machine it feeds. Chosen
// values are facts, so they may come from anywhere (our own quorum, a promise, another node's
// catch-up). Slots are applied strictly in order, so commit index == applied index here.
// After a snapshot, the last `margin` applied entries are kept: a follower a few slots behind
// catches up with entries, not with the whole snapshot.

import type { ClientRequest, CommandResult } from "../command.js";
import { EMPTY_LOG_DIGEST, foldLogDigest } from "./log-digest.js";
import { requestKey } from "./requests.js";
import { KvStateMachine } from "./statemachine.js";
import type { ChosenEntry, SlotValue, Snapshot } from "./types.js";

export class Learner {
  sm: KvStateMachine;
  applied: number;
  /** The digest of the log applied so far (log-digest.ts); undefined after a snapshot without one. */
  logDigest: string | undefined;
  snapshot: Snapshot | null;
  /** Chosen values of slots above (snapshot index - margin); applied ones are kept for catch-up. */
  private readonly chosen = new Map<number, SlotValue>();
  /** Keys of the requests in chosen slots not yet applied (behind a gap). */
  private readonly unapplied = new Set<string>();

  constructor(
    snapshot: Snapshot | null,
    private readonly margin = 0,
  ) {
    this.snapshot = snapshot;
    this.sm = new KvStateMachine(snapshot);
    this.applied = snapshot?.index ?? 0;
    this.logDigest = snapshot ? snapshot.logDigest : EMPTY_LOG_DIGEST;
  }

  get snapshotIndex(): number {
    return this.snapshot?.index ?? 0;
  }

  isChosen(slot: number): boolean {
    return slot <= this.applied || this.chosen.has(slot);
  }

  /** The value chosen for a slot not yet applied, if known. */
  chosenValue(slot: number): SlotValue | undefined {
    return slot > this.applied ? this.chosen.get(slot) : undefined;
  }

  /** Whether a request is in a chosen slot that is not applied yet. */
  isChosenUnapplied(req: ClientRequest): boolean {
    return this.unapplied.has(requestKey(req));
  }

  /** The highest slot known chosen (maybe above a gap). */
  maxChosen(): number {
    let m = this.applied;
    for (const s of this.chosen.keys()) if (s > m) m = s;
    return m;
  }

  /** Records a chosen value; false if already known. */
  learn(slot: number, value: SlotValue): boolean {
    if (this.isChosen(slot)) return false;
    this.chosen.set(slot, value);
    for (const r of value.requests) this.unapplied.add(requestKey(r));
    return true;
  }

  /**
   * Applies every contiguous chosen slot; `onResult` gets each request's result (not for stale
   * ones). Returns the applied entries.
   */
  applyReady(onResult: (req: ClientRequest, result: CommandResult) => void): ChosenEntry[] {
    const out: ChosenEntry[] = [];
    for (;;) {
      const value = this.chosen.get(this.applied + 1);
      if (!value) return out;
      this.applied++;
      if (this.logDigest !== undefined) this.logDigest = foldLogDigest(this.logDigest, value);
      this.sm.advance(value.at);
      for (const req of value.requests) {
        this.unapplied.delete(requestKey(req));
        const result = this.sm.apply(req);
        if (result !== "stale") onResult(req, result);
      }
      out.push({ slot: this.applied, value });
    }
  }

  /**
   * What is known chosen from slot `from` on (at most `max` entries); if `from` is compacted
   * away, the snapshot and the entries after it instead.
   */
  chosenFrom(from: number, max: number): { entries: ChosenEntry[]; snapshot?: Snapshot } {
    const snap = this.snapshot;
    if (snap && from <= snap.index && !this.chosen.has(from)) {
      return { entries: this.run(snap.index + 1, max), snapshot: snap };
    }
    return { entries: this.run(from, max) };
  }

  /** The contiguous chosen entries from `from` on, at most `max`. */
  private run(from: number, max: number): ChosenEntry[] {
    const out: ChosenEntry[] = [];
    for (let s = from; out.length < max; s++) {
      const value = this.chosen.get(s);
      if (!value) break;
      out.push({ slot: s, value });
    }
    return out;
  }

  /** Takes a snapshot at the applied index and drops the log up to it. */
  takeSnapshot(): Snapshot {
    const snap = this.sm.snapshot(this.applied);
    if (this.logDigest !== undefined) snap.logDigest = this.logDigest;
    this.setSnapshot(snap);
    return snap;
  }

  /** Installs a snapshot from another node; false if it is not ahead of what we applied. */
  install(snap: Snapshot): boolean {
    if (snap.index <= this.applied) return false;
    this.sm = new KvStateMachine(snap);
    this.applied = snap.index;
    this.logDigest = snap.logDigest;
    this.unapplied.clear(); // what is chosen above the snapshot is re-learned
    for (const [slot, v] of this.chosen) {
      if (slot > snap.index) for (const r of v.requests) this.unapplied.add(requestKey(r));
    }
    this.setSnapshot(snap);
    return true;
  }

  private setSnapshot(snap: Snapshot): void {
    this.snapshot = snap;
    const keepFrom = snap.index - this.margin;
    for (const s of [...this.chosen.keys()]) if (s <= keepFrom) this.chosen.delete(s);
  }
}
