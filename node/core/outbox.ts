// The ordering rule, kept in one place.
//
// Writes are handed out in ready() batches numbered by a token; the shell reports durability with
// persisted(token), meaning every write of that batch and of all earlier batches is on stable
// storage. An acceptor's answers, `promise` and `accepted`, depend on its writes: each is tagged
// with the token of the latest write made before it and released only once that token is
// durable. So an acceptor never answers before its promise/accept is durable, and a proposer
// (which hears its own acceptor the same way) never counts an answer that a crash could undo.
//
// A candidate's `prepare` depends on its own promise of the same ballot: if the prepares left
// first and the node crashed before that promise was durable, it would come back with a lower
// promise and campaign with the very same ballot again, so two different values could be
// proposed under one ballot (a lost acknowledged write). So a prepare waits too, and the node
// makes its own promise before sending any (node.ts, campaign).
//
// Nothing else depends on the local disk, so it leaves at once: accepts (the leader's ballot was
// promised durably before its prepares left), heartbeats, chosen values (facts, learned from
// durable quorums), rejects (a lost promise behind a reject only makes a proposer step down
// needlessly), and client replies (results of chosen slots).

import type { CommandResult } from "../command.js";
import type { NodeId, PeerMessage, ReqId, StorageWrite } from "./types.js";

type Held =
  | { dep: number; kind: "msg"; to: NodeId; msg: PeerMessage }
  | { dep: number; kind: "reply"; reqId: ReqId; result: CommandResult };

export class Outbox {
  /** Either false only in a mutant: prepares, or an acceptor's answers, leave at once. */
  constructor(
    private readonly preparesWait = true,
    private readonly answersWait = true,
  ) {}

  /** The messages that must wait for the writes made before them. */
  private dependsOnWrites(msg: PeerMessage): boolean {
    if (msg.type === "promise" || msg.type === "accepted") return this.answersWait;
    return msg.type === "prepare" && this.preparesWait;
  }

  private unissued: StorageWrite[] = [];
  private issued = 0;
  private synced = 0;
  private held: Held[] = [];

  write(w: StorageWrite): void {
    this.unissued.push(w);
  }

  /** The token whose durability everything produced now would wait for. */
  private latest(): number {
    return this.unissued.length > 0 ? this.issued + 1 : this.issued;
  }

  send(to: NodeId, msg: PeerMessage): void {
    this.held.push({ dep: this.dependsOnWrites(msg) ? this.latest() : 0, kind: "msg", to, msg });
  }

  reply(reqId: ReqId, result: CommandResult): void {
    this.held.push({ dep: 0, kind: "reply", reqId, result });
  }

  /** Hands out the writes not yet given to the shell, with their token. */
  takeWrites(): { writes: StorageWrite[]; token?: number } {
    if (this.unissued.length === 0) return { writes: [] };
    const writes = this.unissued;
    this.unissued = [];
    this.issued++;
    return { writes, token: this.issued };
  }

  persisted(token: number): void {
    if (token > this.synced) this.synced = Math.min(token, this.issued);
  }

  /** Removes and returns, in order, what is safe to release now. */
  release(): Held[] {
    if (this.held.length === 0) return [];
    const out: Held[] = [];
    const keep: Held[] = [];
    for (const h of this.held) (h.dep <= this.synced ? out : keep).push(h);
    this.held = keep;
    return out;
  }

  hasWork(): boolean {
    return this.unissued.length > 0 || this.held.some((h) => h.dep <= this.synced);
  }
}
