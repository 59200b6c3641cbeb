// The data of the consensus core: configuration, peer messages, storage writes, recovery state
// and status. Everything here is plain JSON-serializable data, so the transport can send a
// PeerMessage as one JSON frame and the disk can store a StorageWrite as one JSON record.

import type { ClientRequest, CommandResult, KvValue } from "../command.js";
import type { Mutant } from "./mutants.js";

export type NodeId = string;

/** A ballot: (round, node id), ordered by round, then by node id. */
export interface Ballot {
  round: number;
  node: NodeId;
}

/** The value of one log slot: a batch of client requests. An empty batch is a no-op. */
export interface SlotValue {
  requests: ClientRequest[];
  /**
   * The proposing leader's wall clock (ms) when it filled the slot: the clock client sessions
   * age by (statemachine.ts), the same on every replica. Absent in no-ops and older logs.
   */
  at?: number;
}

/** What an acceptor accepted for a slot. */
export interface AcceptedEntry {
  slot: number;
  ballot: Ballot;
  value: SlotValue;
}

/** A slot whose value is known to be chosen. */
export interface ChosenEntry {
  slot: number;
  value: SlotValue;
}

/** The last request applied for one client: its seq and its result (for retries). */
export interface Session {
  seq: number;
  result: CommandResult;
  /** The session clock when the session was last used (absent in older snapshots: 0). */
  at?: number;
}

/** The state machine after applying every slot up to and including `index`. */
export interface Snapshot {
  index: number;
  kv: [string, KvValue][];
  /** Oldest use first (the order sessions expire in). */
  sessions: [string, Session][];
  /** The session clock at `index`: the highest slot `at` applied (absent: 0). */
  clock?: number;
  /** The log digest at `index` (log-digest.ts); absent in a snapshot that does not know it. */
  logDigest?: string;
}

/**
 * Messages between nodes. `prepare`/`promise`/`accept`/`accepted`/`reject` are Paxos phases 1
 * and 2; `heartbeat`/`heartbeatAck` carry leadership and the commit point; `chosen` delivers
 * chosen values (and a snapshot to a far-behind node); `catchup` asks for them; `forward` hands a
 * client request to the leader; `readIndex`/`readIndexReply` give a follower's reads a confirmed
 * read index (reads.ts).
 */
export type PeerMessage =
  /** Phase 1a: promise `ballot` and report what you accepted at slots >= `from`. */
  | { type: "prepare"; ballot: Ballot; from: number }
  /** Phase 1b. `chosen`/`snapshot` report what the acceptor already knows is chosen (>= from). */
  | {
      type: "promise";
      ballot: Ballot;
      accepted: AcceptedEntry[];
      chosen: ChosenEntry[];
      snapshot?: Snapshot;
    }
  /** Phase 2a. */
  | { type: "accept"; ballot: Ballot; slot: number; value: SlotValue }
  /** Phase 2b. */
  | { type: "accepted"; ballot: Ballot; slot: number }
  /** A refusal of `ballot` (a prepare, accept or heartbeat): the acceptor's highest promise. */
  | { type: "reject"; ballot: Ballot; promised: Ballot }
  /**
   * `at`: the leader's tick when sent, echoed by the ack (the leader measures round trips).
   * `read`: the read round out when sent (reads.ts), echoed by the ack.
   */
  | { type: "heartbeat"; ballot: Ballot; commit: number; at?: number; read?: number }
  /** `commit`: the follower's own commit point, so the leader knows what to send it. */
  | { type: "heartbeatAck"; ballot: Ballot; commit: number; at?: number; read?: number }
  /** A follower asks the leader for a read index for the reads it holds (`id`: its own tag). */
  | { type: "readIndex"; id: number }
  /** The leader's confirmed read index for the follower's request `id`. */
  | { type: "readIndexReply"; id: number; index: number }
  | { type: "chosen"; entries: ChosenEntry[]; snapshot?: Snapshot }
  | { type: "catchup"; from: number }
  /**
   * Pre-vote: would you promise a ballot of `round` from me now? Changes nothing on the receiver;
   * a node campaigns (and raises its round) only once a quorum said yes.
   */
  | { type: "prevote"; round: number }
  | { type: "prevoteReply"; round: number; granted: boolean }
  | { type: "forward"; requests: ClientRequest[] };

/**
 * What the shell must write to stable storage, in order, before calling `persisted(token)`.
 * Recovery replays them with `recoverDurableState`. A `snapshot` write makes every `accept`
 * record at or below its index obsolete (the shell may compact them away).
 */
export type StorageWrite =
  | { type: "promise"; ballot: Ballot }
  | { type: "accept"; slot: number; ballot: Ballot; value: SlotValue }
  | { type: "snapshot"; snapshot: Snapshot };

/** What recovery hands back to a restarting node: the replay of every durable write. */
export interface DurableState {
  /** The highest ballot promised (or accepted), null if none. */
  promised: Ballot | null;
  /** The highest-ballot accepted value of every slot above the snapshot's index. */
  accepted: AcceptedEntry[];
  snapshot: Snapshot | null;
}

export interface NodeConfig {
  id: NodeId;
  /** Every other member of the cluster (fixed membership). */
  peers: NodeId[];
  /** A follower with no word from a leader for this many ticks (plus a random 0..this) runs. */
  electionTicks: number;
  /** The leader sends heartbeats (with the commit point) every this many ticks. */
  heartbeatTicks: number;
  /** Re-send unanswered prepares/accepts and forwarded requests after this many ticks. */
  retryTicks: number;
  /** A request not yet sent anywhere after this many ticks is answered `unavailable`. */
  unavailableTicks: number;
  /** A pending request is forgotten (no answer; the shell times out) after this many ticks. */
  requestTimeoutTicks: number;
  /** Take a snapshot (and drop older log entries) every this many applied slots. */
  snapshotEvery: number;
  /** At most this many client requests in one slot. */
  maxBatch: number;
  /** At most this many slots proposed but not yet chosen (beyond the ones phase 1 re-proposes). */
  maxInflight: number;
  /** At most this many chosen entries in one `chosen` message (catch-up). */
  maxCatchup: number;
  /**
   * Applied entries kept after a snapshot (default: snapshotEvery), so a follower that many
   * slots behind gets entries instead of the snapshot.
   */
  catchupMargin?: number;
  /** A deliberate bug (mutants.ts), for tests of the tests only. Absent in every normal run. */
  mutant?: Mutant;
  /**
   * The wall-clock-lease mutant's lease, in wall-clock ms (the shell sets it to electionTicks - 2
   * of its ticks). No other core reads the wall clock.
   */
  leaseMs?: number;
}

export const defaultTiming = {
  electionTicks: 10,
  heartbeatTicks: 2,
  retryTicks: 4,
  unavailableTicks: 10,
  requestTimeoutTicks: 100,
  snapshotEvery: 100,
  maxBatch: 64,
  maxInflight: 8,
  maxCatchup: 256,
} as const;

/** An opaque handle the shell gives with a client request and gets back with its reply. */
export type ReqId = number | string;

export interface Outbound {
  to: NodeId;
  msg: PeerMessage;
}

export interface Reply {
  reqId: ReqId;
  result: CommandResult;
}

/**
 * What the node wants done. The shell: (1) writes `persist` in order to stable storage and, once
 * it is durable (fsync), calls `persisted(token)`; (2) sends `messages`; (3) answers `replies`.
 * Everything in `messages` and `replies` is already safe to release: whatever depends on a write
 * is held inside the node until that write's completion comes back (the ordering rule).
 */
export interface Ready {
  persist: StorageWrite[];
  /** Present iff `persist` is non-empty. */
  token?: number;
  messages: Outbound[];
  replies: Reply[];
  /** The slots applied to the state machine since the last ready(), in order (for checks). */
  applied: ChosenEntry[];
  /** The index of a snapshot installed from another node since the last ready(), if any. */
  snapshotInstalled?: number;
  /**
   * Protocol violations seen since the last ready(): messages no correct peer sends (two values
   * for one slot and ballot). The core refuses them; the shell logs them as errors.
   */
  violations?: string[];
}

export type Role = "leader" | "follower" | "candidate";

/** The node's status, for `/status`. */
export interface NodeStatus {
  id: NodeId;
  role: Role;
  /** The leader this node believes in, null if none. */
  leader: NodeId | null;
  /** This node's own ballot as candidate or leader, else the leader's ballot it follows. */
  ballot: Ballot | null;
  /** The highest ballot promised by this node's acceptor. */
  promised: Ballot | null;
  /** Every slot up to here is chosen and known here. */
  commitIndex: number;
  /** Every slot up to here is applied to the state machine (equal to commitIndex here). */
  appliedIndex: number;
  snapshotIndex: number;
  /** Client requests waiting for an answer on this node. */
  pendingRequests: number;
}
