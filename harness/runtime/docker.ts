// The Docker runtime: one container per node on an internal bridge network of ours, built and
// driven through the engine's API (dockerode). Everything it creates carries the label
// io.paxos-harness.run=<run id>; leftovers of any earlier run are removed by label at start.
//
// Faults that need privileges happen inside containers started through the engine, so the
// harness itself needs no root, only access to the engine: partitions and loss are iptables
// rules run in a helper container on the host's network (see docker-network.ts); clock skew
// is libfaketime in the node image reading a file the harness writes; kill and pause are the
// engine's own.

import { execFile } from "node:child_process";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
  type WriteStream,
} from "node:fs";
import path from "node:path";
import Docker from "dockerode";
import { backendImage } from "../../docker/backend-image.js";
import { buildImage } from "../../docker/images.js";
import { FAKETIME_LIB, IPTABLES_BINARY, projectImageRecipe } from "../../docker/project-image.js";
import type {
  Backend,
  Capabilities,
  ClockFaults,
  Killer,
  LostWrites,
  NodeHandle,
  NodeId,
  NodeSpec,
  Pauser,
  RunContext,
  Runtime,
} from "../types.js";
import { procSockets, type TcpSocket } from "./conn-reset.js";
import { DockerNetworkFaults, dockerDelayUnavailable } from "./docker-network.js";
import { DockerProbe } from "./docker-probe.js";
import { FaketimeClock, faketimeEnv } from "./faketime.js";
import { LazyData, powerOffThrough, powerUnavailable, sweepDeadLazyMounts } from "./lazy-data.js";
import { ownerAlive, ownerTag } from "./procfs.js";
import { nodeHandle, waitForReady } from "./ready.js";

export const RUN_LABEL = "io.paxos-harness.run";
/** `<pid>:<start time>` of the harness process that created the object (see procfs.ts). */
export const OWNER_LABEL = "io.paxos-harness.owner";
const NODE_LABEL = "io.paxos-harness.node";
/**
 * The first subnet tried for our bridge; nodes get .11, .12, ... and the host is .1. A run
 * side by side with another (or with an unrelated network on it) takes the next free
 * 10.213.X.0/24 and moves its nodes there.
 */
export const SUBNET_PREFIX = "10.213.7";
const SUBNET_TRIES = 40;
const HTTP_PORT = 8000;
const PEER_PORT = 7000;

export interface DockerRuntimeOptions {
  /** The repository root (its dist/ goes into the image). */
  root: string;
  docker?: Docker;
  /** How long to wait for every node to answer /status. */
  readyTimeoutMs?: number;
}

/** Node specs for a Docker cluster: fixed IPs on our subnet, fixed ports, data in /data. */
export function dockerNodeSpecs(count: number): NodeSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `n${i + 1}`,
    host: `${SUBNET_PREFIX}.${11 + i}`,
    httpPort: HTTP_PORT,
    peerPort: PEER_PORT,
    dataDir: "/data",
  }));
}

export class DockerRuntime implements Runtime, Killer, Pauser, ClockFaults {
  readonly name = "docker";
  readonly killer = this;
  readonly pauser = this;
  readonly clock = this;
  readonly network: DockerNetworkFaults;
  /** Probe agents exec'ed in the containers, states from the engine (docker-probe.ts). */
  readonly probe: DockerProbe;
  readonly docker: Docker;
  private readonly runId =
    `r${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  private readonly containers = new Map<NodeId, Docker.Container>();
  private readonly logs = new Map<NodeId, WriteStream>();
  private specs: NodeSpec[] = [];
  private run: RunContext | undefined;
  /** The backend of the run: its protocol says when a node is ready. */
  private backend: Backend | undefined;
  private networkName = "";
  /** The project's image: the network helper's, and the nodes' unless the backend has its own. */
  private image = "";
  /** What the nodes run from: the backend's nodeImage, else the project's image. */
  private nodeImage = "";
  private stopped = false;
  /** The nodes' data folders through lazyfs, when the run has power faults. */
  private lazy: LazyData | undefined;
  /** The offset files under <run>/clock, mounted at /clock in every node. */
  private readonly faketime = new FaketimeClock(FAKETIME_LIB);

  constructor(private readonly options: DockerRuntimeOptions) {
    this.docker = options.docker ?? new Docker();
    this.network = new DockerNetworkFaults(this.docker, this.runId, (node) =>
      containerSockets(this.container(node)),
    );
    this.probe = new DockerProbe({
      container: (node) => this.container(node),
      address: (node) => (this.specs.find((s) => s.id === node) as NodeSpec).host,
      sidecar: () =>
        this.nodeImage === this.image
          ? undefined
          : {
              docker: this.docker,
              image: this.image,
              name: `paxos-${this.runId}`,
              labels: { [RUN_LABEL]: this.runId, [OWNER_LABEL]: OWNER },
            },
    });
  }

  async start(
    requested: readonly NodeSpec[],
    backend: Backend,
    run: RunContext,
  ): Promise<NodeHandle[]> {
    let nodes = requested;
    this.run = run;
    this.backend = backend;
    const started = performance.now();
    const command = backend.containerCommand;
    if (!command) throw new Error(`backend ${backend.name} has no container command`);
    const { liveRuns } = await removeLeftovers(this.docker, (m) => run.log(m));
    await sweepDeadLazyMounts(run.log);
    // The backend's own image first: an `image:` the engine lacks fails before any build.
    const own = backend.nodeImage
      ? await backendImage(this.docker, backend.name, backend.nodeImage)
      : undefined;
    if (own) {
      run.log(
        `node image ${own.tag} ${own.built ? `built in ${Math.round(own.ms)} ms` : "cached"}`,
      );
    }
    // The image carries dist/: from source, compile first (when a source is newer than its
    // output) so that it holds this very code.
    const stale = import.meta.url.endsWith(".ts") ? staleOutput(this.options.root) : undefined;
    if (stale !== undefined) {
      run.log(`compiling the project for the image (${stale} is newer than its output)`);
      await compileProject(this.options.root);
    }
    const built = await buildImage(this.docker, projectImageRecipe(this.options.root));
    this.image = built.tag;
    this.nodeImage = own?.tag ?? built.tag;
    run.log(`image ${built.tag} ${built.built ? `built in ${Math.round(built.ms)} ms` : "cached"}`);
    const labels = { [RUN_LABEL]: this.runId, [OWNER_LABEL]: OWNER };

    this.networkName = `paxos-${this.runId}`;
    nodes = await this.createNetwork(nodes, labels);
    this.specs = [...nodes];
    mkdirSync(path.join(run.dir, "nodes"), { recursive: true });
    await this.faketime.prepare(
      run.dir,
      nodes.map((n) => n.id),
    );
    // The helper removes the chains of runs that are gone before it creates ours.
    const chains = await this.network.setUp(this.image, nodes, labels, liveRuns);
    if (chains.length > 0) run.log(`removed iptables chains of earlier runs: ${chains.join(" ")}`);

    // Under power faults a node's data is a bind mount of a lazyfs view on the host (mounted
    // before the container exists, so the container sees it), instead of a volume.
    if (run.faults?.includes("power")) this.lazy = new LazyData();
    const dataMount = async (spec: NodeSpec) =>
      this.lazy
        ? {
            Type: "bind" as const,
            Source: await this.lazy.mount(spec.id, path.resolve(run.dir, "data", spec.id)),
            Target: spec.dataDir,
          }
        : {
            Type: "volume" as const,
            Source: `paxos-${this.runId}-${spec.id}`,
            Target: spec.dataDir,
            VolumeOptions: {
              NoCopy: false,
              Labels: labels,
              DriverConfig: { Name: "local", Options: {} },
            },
          };
    const create = async (spec: NodeSpec) => {
      const cmd = command.call(backend, spec, nodes);
      if (cmd.files !== undefined && cmd.files.length > 0) {
        throw new Error(
          `backend ${backend.name}: the Docker runtime does not write a node's files (${cmd.files[0]?.path}) into containers`,
        );
      }
      const container = await this.docker.createContainer({
        name: `paxos-${this.runId}-${spec.id}`,
        Image: this.nodeImage,
        Entrypoint: [cmd.command],
        Cmd: cmd.args,
        Env: Object.entries({ ...faketimeEnv(FAKETIME_LIB, `/clock/${spec.id}`), ...cmd.env }).map(
          ([k, v]) => `${k}=${v}`,
        ),
        Labels: { ...labels, [NODE_LABEL]: spec.id },
        HostConfig: {
          Init: true,
          NetworkMode: this.networkName,
          Mounts: [
            await dataMount(spec),
            {
              Type: "bind",
              Source: path.resolve(run.dir, "clock"),
              Target: "/clock",
              ReadOnly: true,
            },
          ],
        },
        NetworkingConfig: {
          EndpointsConfig: { [this.networkName]: { IPAMConfig: { IPv4Address: spec.host } } },
        },
      });
      this.containers.set(spec.id, container);
    };
    await Promise.all(nodes.map(create));
    await Promise.all(nodes.map((spec) => this.startContainer(spec.id)));
    const handles = nodes.map(nodeHandle);
    await Promise.all(handles.map((h) => this.waitReady(h)));
    await Promise.all(nodes.map((n) => this.probe.startAgent(n.id)));
    const readyMs = performance.now() - started;
    run.log(`${nodes.length} containers answer /status after ${(readyMs / 1000).toFixed(1)} s`);
    return handles;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.network.tearDown().catch(() => {});
    for (const c of this.containers.values()) {
      await c.unpause().catch(() => {});
    }
    await Promise.all(
      [...this.containers.values()].map((c) => c.remove({ force: true, v: true }).catch(() => {})),
    );
    for (const out of this.logs.values()) out.end();
    await removeByLabel(this.docker, `${RUN_LABEL}=${this.runId}`);
    const lazy = this.lazy;
    this.lazy = undefined;
    // After the containers are gone: nothing uses the lazy views any more.
    if (lazy) await lazy.unmountAll();
  }

  async capabilities(): Promise<Capabilities> {
    return dockerCapabilities(await dockerDelayUnavailable(), await powerUnavailable());
  }

  async kill(node: NodeId): Promise<void> {
    await this.container(node).kill({ signal: "SIGKILL" });
    await this.container(node).wait();
  }

  /** docker kill, then what the node wrote and did not fsync is lost (its lazyfs drops it). */
  powerOff(node: NodeId): Promise<LostWrites> {
    return powerOffThrough(this.lazy, node, () => this.kill(node));
  }

  async restart(node: NodeId): Promise<void> {
    await this.startContainer(node);
    const spec = this.specs.find((s) => s.id === node) as NodeSpec;
    // A restart heals a fault, and a heal must finish after Ctrl-C too: not abortable.
    await this.waitReady(nodeHandle(spec), false);
    await this.probe.startAgent(node);
  }

  async pause(node: NodeId): Promise<void> {
    await this.container(node).pause();
  }

  async resume(node: NodeId): Promise<void> {
    await this.container(node).unpause();
  }

  skew(node: NodeId, offsetMs: number): Promise<void> {
    return this.faketime.skew(node, offsetMs);
  }

  reset(): Promise<void> {
    return this.faketime.reset();
  }

  /**
   * Creates our internal bridge on the first free 10.213.X.0/24 from SUBNET_PREFIX on, and
   * resolves to the node specs moved onto it (same last octet).
   */
  private async createNetwork(
    nodes: readonly NodeSpec[],
    labels: Record<string, string>,
  ): Promise<NodeSpec[]> {
    const taken = new Set<string>();
    for (const n of await this.docker.listNetworks()) {
      for (const c of n.IPAM?.Config ?? []) if (c.Subnet) taken.add(c.Subnet);
    }
    const first = Number(SUBNET_PREFIX.split(".")[2]);
    let lastError: unknown;
    for (let x = first; x < first + SUBNET_TRIES && x < 255; x++) {
      const prefix = `10.213.${x}`;
      if (taken.has(`${prefix}.0/24`)) continue;
      try {
        await this.docker.createNetwork({
          Name: this.networkName,
          Driver: "bridge",
          // No route out of the cluster: traffic stays among our containers and the host.
          Internal: true,
          Labels: labels,
          IPAM: { Config: [{ Subnet: `${prefix}.0/24`, Gateway: `${prefix}.1` }] },
        });
      } catch (err) {
        // Another run took it between our listing and our request: try the next one.
        if (/overlap/i.test(String(err))) {
          lastError = err;
          continue;
        }
        throw err;
      }
      if (x !== first) this.run?.log(`subnet ${SUBNET_PREFIX}.0/24 is taken; using ${prefix}.0/24`);
      return nodes.map((n) => ({ ...n, host: n.host.replace(/^\d+\.\d+\.\d+\./, `${prefix}.`) }));
    }
    throw new Error(
      `no free subnet among 10.213.${first}-${first + SUBNET_TRIES - 1}.0/24 for the run's network${
        lastError ? `: ${String(lastError)}` : ""
      }`,
    );
  }

  private container(node: NodeId): Docker.Container {
    const c = this.containers.get(node);
    if (!c) throw new Error(`no container for node ${node}`);
    return c;
  }

  /** Starts a node's container and streams its output into nodes/<id>.log. */
  private async startContainer(node: NodeId): Promise<void> {
    const c = this.container(node);
    const since = Math.floor(Date.now() / 1000);
    await c.start();
    let out = this.logs.get(node);
    if (!out) {
      out = createWriteStream(path.join((this.run as RunContext).dir, "nodes", `${node}.log`), {
        flags: "a",
      });
      // A chunk that arrives after stop() ended the file is dropped, not a crash.
      out.on("error", () => {});
      this.logs.set(node, out);
    }
    const stream = await c.logs({ follow: true, stdout: true, stderr: true, since });
    const sink = out;
    const pass = { write: (chunk: Buffer) => sink.writable && sink.write(chunk) };
    this.docker.modem.demuxStream(
      stream,
      pass as unknown as NodeJS.WritableStream,
      pass as unknown as NodeJS.WritableStream,
    );
  }

  private waitReady(node: NodeHandle, abortable = true): Promise<void> {
    const timeout = this.options.readyTimeoutMs ?? this.backend?.startTimeoutMs ?? 30_000;
    const { id } = node.spec;
    const protocol = this.backend?.protocol;
    return waitForReady({
      probe: async (ms) => (protocol ? protocol.ready(node, ms) : false),
      timeoutMs: timeout,
      probeMs: 500,
      signal: abortable ? this.run?.signal : undefined,
      abortedMessage: "interrupted",
      check: async () => {
        const state = await this.container(id).inspect();
        if (!state.State.Running) {
          throw new Error(`node ${id} exited (code ${state.State.ExitCode}); see nodes/${id}.log`);
        }
      },
      late: async () =>
        new Error(
          `node ${id} did not ${protocol?.readiness(node) ?? "get ready"} within ${timeout / 1000} s`,
        ),
    });
  }
}

/**
 * What the Docker runtime can do on this machine, given why delays cannot be had (netem).
 * Partitions and loss need the host's iptables (copied into the helper's image); clock skew
 * needs Debian's libfaketime (copied into the node image); kill and pause are the engine's.
 */
export function dockerCapabilities(delayWhy: string, powerWhy?: string): Capabilities {
  const iptables = existsSync(IPTABLES_BINARY)
    ? ({ ok: true } as const)
    : ({
        ok: false,
        why: `the helper image needs the host's ${IPTABLES_BINARY} (apt-get install iptables)`,
      } as const);
  return {
    partition: iptables,
    loss: iptables,
    kill: { ok: true },
    pause: { ok: true },
    clock: existsSync(FAKETIME_LIB)
      ? { ok: true }
      : { ok: false, why: `clock needs ${FAKETIME_LIB} (apt-get install libfaketime)` },
    delay: { ok: false, why: delayWhy },
    power: powerWhy === undefined ? { ok: true } : { ok: false, why: powerWhy },
    reset: !iptables.ok
      ? iptables
      : remoteEngine()
        ? { ok: false, why: RESET_NEEDS_LOCAL_ENGINE }
        : { ok: true },
  };
}

const RESET_NEEDS_LOCAL_ENGINE =
  "reset reads each container's sockets from /proc on this machine: the Docker engine must run here (DOCKER_HOST names another)";

/** Whether DOCKER_HOST points at an engine on another machine (a TCP or SSH address). */
function remoteEngine(): boolean {
  const host = process.env.DOCKER_HOST ?? "";
  return host !== "" && !host.startsWith("unix://") && !host.startsWith("/");
}

/**
 * A container's TCP sockets, from /proc/<its pid>/net/tcp and tcp6 on this machine (the pid
 * from the engine): they show its network namespace's sockets, whatever its image holds.
 */
async function containerSockets(container: Docker.Container): Promise<TcpSocket[]> {
  const pid = (await container.inspect()).State.Pid;
  if (!pid) throw new Error(`reset: container ${container.id.slice(0, 12)} is not running`);
  return procSockets(pid).catch((err: NodeJS.ErrnoException) => {
    throw new Error(
      `reset: cannot read /proc/${pid}/net/tcp (${err.code}): ${RESET_NEEDS_LOCAL_ENGINE}`,
    );
  });
}

/** This process, as the owner label records it. */
const OWNER = ownerTag(process.pid);

/**
 * The first source file under the build's folders that is newer than its compiled output (or
 * has none), or undefined when dist/ is up to date. tsc rewrites every output on a build, so
 * comparing each pair is enough.
 */
export function staleOutput(root: string): string | undefined {
  const skip = (name: string) =>
    name === "test" || name === "bench" || name.endsWith(".test.ts") || name.endsWith(".d.ts");
  const walk = (dir: string): string | undefined => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (skip(entry.name)) continue;
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = walk(file);
        if (found) return found;
      } else if (entry.name.endsWith(".ts")) {
        const out = path.join(root, "dist", path.relative(root, file).replace(/\.ts$/, ".js"));
        if (!existsSync(out) || statSync(out).mtimeMs < statSync(file).mtimeMs) {
          return path.relative(root, file);
        }
      }
    }
    return undefined;
  };
  for (const dir of ["checker", "harness", "node", "workloads", "docker"]) {
    const found = existsSync(path.join(root, dir)) ? walk(path.join(root, dir)) : undefined;
    if (found) return found;
  }
  return undefined;
}

/** `tsc -p tsconfig.build.json` in the project (about 5 s). */
function compileProject(root: string): Promise<void> {
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [tsc, "-p", path.join(root, "tsconfig.build.json")],
      { cwd: root },
      (err, stdout) => {
        if (err) reject(new Error(`compiling the project for the image failed:\n${stdout.trim()}`));
        else resolve();
      },
    );
  });
}

/**
 * Removes what earlier runs left: every container, network and volume with our run label whose
 * owner (the harness that made it) is no longer running. Objects of a run still in progress
 * (another harness on this engine) are left alone. Resolves to the runs still alive, whose
 * iptables chains must stay (the chains of the others are removed by the next run's helper,
 * see DockerNetworkFaults.setUp).
 */
export async function removeLeftovers(
  docker: Docker,
  log: (m: string) => void = () => {},
): Promise<{ objects: number; liveRuns: Set<string> }> {
  const filters = { label: [RUN_LABEL] };
  const live = new Set<string>();
  const dead = new Set<string>();
  const sort = (labels: Record<string, string> | null | undefined) => {
    const run = labels?.[RUN_LABEL];
    if (run === undefined) return;
    if (ownerAlive(labels?.[OWNER_LABEL])) live.add(run);
    else dead.add(run);
  };
  for (const c of await docker.listContainers({ all: true, filters })) sort(c.Labels);
  for (const n of await docker.listNetworks({ filters })) sort(n.Labels);
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) sort(v.Labels);
  let objects = 0;
  for (const run of dead) {
    if (!live.has(run)) objects += await removeByLabel(docker, `${RUN_LABEL}=${run}`);
  }
  if (objects > 0) log(`removed ${objects} containers, networks and volumes of earlier runs`);
  return { objects, liveRuns: live };
}

async function removeByLabel(docker: Docker, label: string): Promise<number> {
  let removed = 0;
  const filters = { label: [label] };
  for (const c of await docker.listContainers({ all: true, filters })) {
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch(() => {});
    removed++;
  }
  for (const n of await docker.listNetworks({ filters })) {
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => {});
    removed++;
  }
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  for (const v of volumes) {
    await docker
      .getVolume(v.Name)
      .remove()
      .catch(() => {});
    removed++;
  }
  return removed;
}
