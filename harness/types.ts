// The roles of a test, one small interface each, as Jepsen's protocols: a Backend says how to
// run a node, a Runtime runs nodes (local processes, Docker containers) and offers optional
// fault capabilities, a Nemesis injects one kind of fault through those capabilities, a Client
// talks to one node, a Workload says what clients do and which model checks it.
// Operations are plain data, as in Jepsen.

import type { Stream } from "../contracts/random.js";
import type { Value } from "../contracts/value.js";
import type { Invocation } from "../contracts/workload.js";

export type { Invocation, Workload, WorkloadOptions } from "../contracts/workload.js";

export type NodeId = string; // "n1", "n2", ...

/** Where one node of the cluster lives. */
export interface NodeSpec {
  id: NodeId;
  /** Its own address: its network namespace's 10.214.S.i (or 127.0.x.y) locally, the container's IP for Docker. */
  host: string;
  httpPort: number;
  peerPort: number;
  /** Its data directory, as the node sees it. */
  dataDir: string;
}

/** A system under test: how to start one of its nodes, and how to talk to them. */
export interface Backend {
  name: string;
  /** The client protocol it speaks, through its adapter (harness/protocols/). */
  protocol: Protocol;
  /** The command line of one node as a local process. */
  localCommand(node: NodeSpec, cluster: readonly NodeSpec[]): ProcessCommand;
  /**
   * The command line of one node in a container of its image: `nodeImage`, or by default the
   * project's image (Node.js at its host path, the compiled project at /app/dist). Absent: the
   * backend cannot run in Docker.
   */
  containerCommand?(node: NodeSpec, cluster: readonly NodeSpec[]): ProcessCommand;
  /** What its nodes' containers run from under Docker. Absent: the project's image. */
  nodeImage?: NodeImage;
  /** How long a node may take to get ready (a JVM takes long). Absent: the runtime's default. */
  startTimeoutMs?: number;
}

/** The image of a backend's nodes (see docker/backend-image.ts). */
export type NodeImage =
  /**
   * Absolute host paths (executables, libraries, data folders) copied at the same paths into
   * an image built FROM scratch; each executable's shared libraries (ldd) come along.
   */
  | { kind: "files"; files: string[] }
  /** An image already in the local engine, used as is (never pulled). */
  | { kind: "image"; image: string };

export interface ProcessCommand {
  command: string;
  args: string[];
  env?: Record<string, string>;
  /**
   * Files the runtime writes (replacing them, folders made) before each start of the command,
   * e.g. a config file and an id file in the node's data dir. Absolute paths as the node sees
   * them. The local runtime writes them; the Docker runtime does not (yet).
   */
  files?: FileToWrite[];
}

/** One file written before a node starts (ProcessCommand.files). */
export interface FileToWrite {
  path: string;
  text: string;
}

/** What the harness knows of a running node. */
export interface NodeHandle {
  spec: NodeSpec;
  /** Base URL of its client API, e.g. http://127.0.0.11:8000 */
  url: string;
}

/** What a runtime needs from the run: where to put things, and how to say what it does. */
export interface RunContext {
  /** The run's folder (store/<test>/<timestamp>/); node logs go to nodes/<id>.log in it. */
  dir: string;
  log(message: string, fields?: Record<string, unknown>): void;
  /** Aborted on Ctrl-C: long waits should give up. */
  signal: AbortSignal;
  /** The kinds of fault the run will inject: a runtime prepares for them (power: lazyfs). */
  faults?: readonly NemesisKind[];
}

/** Runs a cluster. Optional fault capabilities are separate, so nemeses can ask for them. */
export interface Runtime {
  readonly name: "local" | "docker";
  /** Starts every node and resolves once every node is ready (its protocol says so). */
  start(nodes: readonly NodeSpec[], backend: Backend, run: RunContext): Promise<NodeHandle[]>;
  /** Heals every fault, stops every node, collects logs, removes what it created. Idempotent. */
  stop(): Promise<void>;
  /** What this runtime can do on this machine, and why not where it cannot. */
  capabilities(): Promise<Capabilities>;
  readonly killer?: Killer;
  readonly pauser?: Pauser;
  readonly network?: NetworkFaults;
  readonly clock?: ClockFaults;
  /** Measures whether a fault took (nemesis/verify.ts); absent: faults are recorded unverified. */
  readonly probe?: FaultProbe;
}

export type NemesisKind =
  | "partition"
  | "kill"
  | "pause"
  | "clock"
  | "loss"
  | "delay"
  | "power"
  | "reset";
export const NEMESIS_KINDS: readonly NemesisKind[] = [
  "partition",
  "kill",
  "pause",
  "clock",
  "loss",
  "delay",
  "power",
  "reset",
];

export type Capabilities = Record<NemesisKind, { ok: true } | { ok: false; why: string }>;

/** SIGKILL (or docker kill) a node, then start it again from its data. */
export interface Killer {
  kill(node: NodeId): Promise<void>;
  restart(node: NodeId): Promise<void>;
  /**
   * A power failure: SIGKILL the node, then drop what it wrote and did not fsync (its data
   * folder is a lazyfs mount); resolves with what was lost. Restart with restart().
   */
  powerOff?(node: NodeId): Promise<LostWrites>;
}

/** What a power failure dropped: files with unsynced data, and their unsynced bytes. */
export interface LostWrites {
  files: number;
  bytes: number;
}

/** Freeze a node (SIGSTOP, docker pause) and thaw it. */
export interface Pauser {
  pause(node: NodeId): Promise<void>;
  resume(node: NodeId): Promise<void>;
}

/** Faults between nodes. Rules are the runtime's own (a chain of ours), removed by heal/stop. */
export interface NetworkFaults {
  /** Nodes in different groups cannot reach each other (both ways); replaces any partition. */
  partition(groups: readonly (readonly NodeId[])[]): Promise<void>;
  /**
   * Exactly these links are cut (both ways); replaces any partition. For shapes groups cannot
   * express (a bridge, a ring of majorities). Optional: without it those shapes are not offered.
   */
  cut?(links: readonly (readonly [NodeId, NodeId])[]): Promise<void>;
  /** Drop this share (0..1) of the packets sent by these nodes to the other nodes. */
  loss(nodes: readonly NodeId[], probability: number): Promise<void>;
  /**
   * Delay packets between nodes by ms, each by up to jitterMs more or less (default 0; never
   * reordered within a connection), where the machine can; rejects saying why if not.
   */
  delay(nodes: readonly NodeId[], ms: number, jitterMs?: number): Promise<void>;
  /**
   * Measures that a delay of `ms` on these nodes' links is in force (round trips through a
   * delayed link): what the delay nemesis records, `verified` true or false, and `not_taken`
   * (what was seen) when the delay is measured not to be in force: the run's error. Optional.
   */
  verifyDelay?(nodes: readonly NodeId[], ms: number): Promise<{ [key: string]: Value }>;
  /** The same after a heal: round trips now under what a delay of `ms` made them take. */
  verifyDelayHealed?(nodes: readonly NodeId[], ms: number): Promise<{ [key: string]: Value }>;
  /**
   * Resets the TCP connections these nodes have open now to the other nodes (those they dialed:
   * their outbound ones): each is reset (RST) at its next packet, and what was in flight on it is
   * lost; a connection dialed later passes. Resolves, once that is in force, with how many
   * connections each node had.
   * Optional: without it the reset nemesis is not offered.
   */
  reset?(nodes: readonly NodeId[]): Promise<{ [node: NodeId]: number }>;
  /** Removes reset()'s rules (they match only connections now gone); the packets they reset. */
  endReset?(nodes: readonly NodeId[]): Promise<{ [node: NodeId]: number }>;
  heal(): Promise<void>;
}

/** Shift a node's wall clock (libfaketime); monotonic clocks are left alone. */
export interface ClockFaults {
  skew(node: NodeId, offsetMs: number): Promise<void>;
  reset(): Promise<void>;
}

/**
 * Looks at the cluster from the faults' side: whether the nodes' network positions reach each
 * other, whether datagrams between them arrive, what state a node's process is in. Probes run
 * between endpoints of the runtime's own (not the node programs), so they answer whether the
 * node is alive, paused or dead. Runtime-neutral: nemesis/verify.ts decides what they mean.
 */
export interface FaultProbe {
  /** A TCP connect from each pair's first node's position to the second's, all in parallel. */
  reach(pairs: readonly NodePair[], timeoutMs: number): Promise<ReachProbe[]>;
  /** `count` UDP datagrams from each pair's first node to the second, each echoed back. */
  datagrams(pairs: readonly NodePair[], count: number, timeoutMs: number): Promise<DatagramProbe[]>;
  /** The state of the node's process (or container) now. */
  processState(node: NodeId): Promise<ProcessState>;
  /** The files mapped into the node's process (is libfaketime loaded?); absent where unknown. */
  mappedFiles?(node: NodeId): Promise<string[]>;
}

export type NodePair = readonly [NodeId, NodeId];

export interface ReachProbe {
  from: NodeId;
  to: NodeId;
  /** connected; refused (something answered with a reset); timeout; or the socket error. */
  outcome: "connected" | "refused" | "timeout" | "error";
  ms: number;
  error?: string;
}

export interface DatagramProbe {
  from: NodeId;
  to: NodeId;
  sent: number;
  /** Echoes that came back within the timeout. */
  received: number;
}

/** running (or sleeping), stopped (SIGSTOP, frozen), gone (exited, killed; a zombie is gone). */
export type ProcessState = "running" | "stopped" | "gone";

/**
 * A nemesis: one kind of fault. It does what the operation says: the generator draws the
 * parameters of each `start-<kind>` (plan) and the nemesis starts that fault.
 */
export interface Nemesis {
  readonly kind: NemesisKind;
  /**
   * The parameters of a fault of this kind on `nodes` nodes (`{shape}`, `{target}`), drawn from
   * the stream: a pure function, so that a seed makes the same faults. Absent: no parameters.
   */
  plan?(stream: Stream, nodes: number): [Value, Stream];
  /**
   * Starts a fault as `params` says (what plan drew; absent: the nemesis draws them itself);
   * resolves to what the history records as its value.
   */
  start(cluster: ClusterView, params?: Value): Promise<Value>;
  /** Heals the fault it started. */
  stop(cluster: ClusterView): Promise<Value>;
  /**
   * The nodes its last fault hit (for a fault that follows it with `target: same`); absent for
   * a nemesis whose faults are not on nodes (a partition is on links).
   */
  lastTargets?(): NodeId[];
}

/** What nemeses see of the cluster: the nodes, who leads (from /status), and randomness. */
export interface ClusterView {
  nodes: readonly NodeHandle[];
  runtime: Runtime;
  /** The current leader's id, if any node reports one (a node silent for `timeoutMs` says nothing). */
  leader(timeoutMs?: number): Promise<NodeId | undefined>;
  /** The nodes that answer now (the protocol's readiness): a paused or killed node does not. */
  answering(): Promise<NodeId[]>;
  /**
   * The nemeses' own stream (run seed, name "nemesis/resolve"), for what a start resolves
   * against the live cluster (which node is "one"): nemesis operations run one at a time, so
   * the draws come in the same order for the same seed.
   */
  random(): number;
}

/** A replica's applied index and a digest of its state there (harness/convergence.ts). */
export interface ReplicaState {
  applied: number;
  digest: string;
  /** A digest of the commands applied, in order (optional: a backend may not keep one). */
  log?: string;
}

/** The kinds of client protocol a backend can speak (a descriptor's `protocol:`). */
export type ProtocolName = "http-kv" | "maelstrom" | "etcd" | "zookeeper";

/** Makes a client for one worker process on one node; `id` is its identity for deduplication. */
export interface ClientFactory {
  client(node: NodeHandle, id: string): Client;
  /** Closes every client's connections; the factory may still make new clients after. */
  close(): void | Promise<void>;
}

/**
 * How the harness speaks to one kind of backend (harness/protocols/): clients, and what the
 * runtimes and nemeses need to know of a node: whether it is ready, and who leads.
 */
export interface Protocol extends ClientFactory {
  readonly name: ProtocolName;
  /** One look at a node: true once it serves clients. Never throws; false when it cannot tell. */
  ready(node: NodeHandle, timeoutMs: number): Promise<boolean>;
  /** What ready() waits for, to finish "node n1 did not ...": "answer GET http://.../status". */
  readiness(node: NodeHandle): string;
  /**
   * The leader as the nodes report it; undefined when none says (or the system has none). A
   * node silent for `timeoutMs` (default: the adapter's own) says nothing.
   */
  leader(nodes: readonly NodeHandle[], timeoutMs?: number): Promise<NodeId | undefined>;
  /**
   * Optional: one node's replica state, for the convergence check at the end of a run;
   * undefined when the node does not say (or does not answer within timeoutMs).
   */
  replicaState?(node: NodeHandle, timeoutMs: number): Promise<ReplicaState | undefined>;
  /**
   * Optional: a descriptor's node command run under a program of the adapter's (maelstrom's
   * shim runs the user's program as its child); `place` is where (a local process, or a
   * container of the project's image). Absent: the command runs as written.
   */
  wrap?(
    program: ProcessCommand,
    node: NodeSpec,
    cluster: readonly NodeSpec[],
    place: "local" | "container",
  ): ProcessCommand;
  /**
   * Faults a system of this kind cannot be put under, each with why (etcd: delay, whose relay
   * addresses it refuses); a run refuses them as it does a kind the runtime cannot do.
   */
  readonly unsupportedFaults?: Partial<Record<NemesisKind, string>>;
}

/** How it ended: ok (happened), fail (definitely not), info (maybe). */
export interface Completion {
  type: "ok" | "fail" | "info";
  /** ok read: the value (null = absent); ok read-all: the elements. */
  value?: Value;
  /** fail or info: why, for the log. */
  error?: string;
  /** info: the reply did not follow the client protocol (counted in results.json's ops). */
  protocolError?: true;
}

/** Talks to one node. Must not throw: every outcome is a Completion. */
export interface Client {
  invoke(op: Invocation, signal: AbortSignal): Promise<Completion>;
  close(): Promise<void>;
}
