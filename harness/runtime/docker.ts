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
import { createWriteStream, mkdirSync, type WriteStream, writeFileSync } from "node:fs";
import path from "node:path";
import Docker from "dockerode";
import { buildImage } from "../../docker/images.js";
import { FAKETIME_LIB, projectImageRecipe } from "../../docker/project-image.js";
import type {
  Backend,
  Capabilities,
  ClockFaults,
  Killer,
  NodeHandle,
  NodeId,
  NodeSpec,
  Pauser,
  RunContext,
  Runtime,
} from "../types.js";
import { DockerNetworkFaults } from "./docker-network.js";

export const RUN_LABEL = "io.paxos-harness.run";
const NODE_LABEL = "io.paxos-harness.node";
/** The subnet of our bridge; nodes get .11, .12, ... and the host is .1. */
export const SUBNET_PREFIX = "10.213.7";
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
  readonly docker: Docker;
  private readonly runId =
    `r${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  private readonly containers = new Map<NodeId, Docker.Container>();
  private readonly logs = new Map<NodeId, WriteStream>();
  private specs: NodeSpec[] = [];
  private run: RunContext | undefined;
  private networkName = "";
  private image = "";
  private stopped = false;
  /** Milliseconds from start() to every node answering /status. */
  readyMs = 0;

  constructor(private readonly options: DockerRuntimeOptions) {
    this.docker = options.docker ?? new Docker();
    this.network = new DockerNetworkFaults(this.docker, this.runId);
  }

  async start(
    nodes: readonly NodeSpec[],
    backend: Backend,
    run: RunContext,
  ): Promise<NodeHandle[]> {
    this.run = run;
    this.specs = [...nodes];
    const started = performance.now();
    await removeLeftovers(this.docker, (m) => run.log(m));
    // The image carries dist/: from source, compile first so that it holds this very code.
    if (import.meta.url.endsWith(".ts")) await compileProject(this.options.root);
    const built = await buildImage(this.docker, projectImageRecipe(this.options.root));
    this.image = built.tag;
    run.log(`image ${built.tag} ${built.built ? `built in ${Math.round(built.ms)} ms` : "cached"}`);
    const labels = { [RUN_LABEL]: this.runId };

    this.networkName = `paxos-${this.runId}`;
    await this.docker.createNetwork({
      Name: this.networkName,
      Driver: "bridge",
      Internal: true, // no route out of the cluster: traffic stays among our containers and the host
      Labels: labels,
      IPAM: { Config: [{ Subnet: `${SUBNET_PREFIX}.0/24`, Gateway: `${SUBNET_PREFIX}.1` }] },
    });
    mkdirSync(path.join(run.dir, "nodes"), { recursive: true });
    mkdirSync(path.join(run.dir, "clock"), { recursive: true });
    await this.network.setUp(this.image, nodes, labels);

    const command = backend.containerCommand;
    if (!command) throw new Error(`backend ${backend.name} has no container command`);
    for (const spec of nodes) {
      writeFileSync(this.clockFile(spec.id), "+0\n");
      const cmd = command.call(backend, spec, nodes);
      const container = await this.docker.createContainer({
        name: `paxos-${this.runId}-${spec.id}`,
        Image: this.image,
        Entrypoint: [cmd.command],
        Cmd: cmd.args,
        Env: Object.entries({ ...this.faketimeEnv(spec.id), ...cmd.env }).map(
          ([k, v]) => `${k}=${v}`,
        ),
        Labels: { ...labels, [NODE_LABEL]: spec.id },
        HostConfig: {
          Init: true,
          NetworkMode: this.networkName,
          Mounts: [
            {
              Type: "volume",
              Source: `paxos-${this.runId}-${spec.id}`,
              Target: spec.dataDir,
              VolumeOptions: {
                NoCopy: false,
                Labels: labels,
                DriverConfig: { Name: "local", Options: {} },
              },
            },
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
    }
    await Promise.all(nodes.map((spec) => this.startContainer(spec.id)));
    const handles = nodes.map((spec) => ({ spec, url: `http://${spec.host}:${spec.httpPort}` }));
    await Promise.all(handles.map((h) => this.waitReady(h)));
    this.readyMs = performance.now() - started;
    run.log(
      `${nodes.length} containers answer /status after ${(this.readyMs / 1000).toFixed(1)} s`,
    );
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
  }

  async capabilities(): Promise<Capabilities> {
    const netem = await this.network.delayUnavailable();
    return {
      partition: { ok: true },
      loss: { ok: true },
      kill: { ok: true },
      pause: { ok: true },
      clock: { ok: true },
      delay: netem === undefined ? { ok: true } : { ok: false, why: netem },
    };
  }

  async kill(node: NodeId): Promise<void> {
    await this.container(node).kill({ signal: "SIGKILL" });
    await this.container(node).wait();
  }

  async restart(node: NodeId): Promise<void> {
    await this.startContainer(node);
    const spec = this.specs.find((s) => s.id === node) as NodeSpec;
    await this.waitReady({ spec, url: `http://${spec.host}:${spec.httpPort}` });
  }

  async pause(node: NodeId): Promise<void> {
    await this.container(node).pause();
  }

  async resume(node: NodeId): Promise<void> {
    await this.container(node).unpause();
  }

  async skew(node: NodeId, offsetMs: number): Promise<void> {
    writeFileSync(
      this.clockFile(node),
      `${offsetMs >= 0 ? "+" : ""}${(offsetMs / 1000).toFixed(3)}\n`,
    );
  }

  async reset(): Promise<void> {
    for (const spec of this.specs) writeFileSync(this.clockFile(spec.id), "+0\n");
  }

  private faketimeEnv(node: NodeId): Record<string, string> {
    return {
      LD_PRELOAD: FAKETIME_LIB,
      FAKETIME_TIMESTAMP_FILE: `/clock/${node}`,
      FAKETIME_CACHE_DURATION: "1",
      FAKETIME_DONT_FAKE_MONOTONIC: "1",
    };
  }

  private clockFile(node: NodeId): string {
    return path.join((this.run as RunContext).dir, "clock", node);
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
      this.logs.set(node, out);
    }
    const stream = await c.logs({ follow: true, stdout: true, stderr: true, since });
    const sink = out;
    const pass = { write: (chunk: Buffer) => sink.write(chunk) };
    this.docker.modem.demuxStream(
      stream,
      pass as unknown as NodeJS.WritableStream,
      pass as unknown as NodeJS.WritableStream,
    );
  }

  private async waitReady(node: NodeHandle): Promise<void> {
    const timeout = this.options.readyTimeoutMs ?? 30_000;
    const deadline = performance.now() + timeout;
    while (performance.now() < deadline) {
      if (this.run?.signal.aborted) throw new Error("interrupted");
      try {
        const res = await fetch(`${node.url}/status`, { signal: AbortSignal.timeout(500) });
        if (res.ok) return;
      } catch {
        // not up yet
      }
      const state = await this.container(node.spec.id).inspect();
      if (!state.State.Running) {
        throw new Error(
          `node ${node.spec.id} exited (code ${state.State.ExitCode}); see nodes/${node.spec.id}.log`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `node ${node.spec.id} did not answer ${node.url}/status within ${timeout / 1000} s`,
    );
  }
}

/** `tsc -p tsconfig.build.json` in the project (about 3 s). */
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

/** Removes every container, network and volume of any run of ours, and our iptables chains. */
export async function removeLeftovers(
  docker: Docker,
  log: (m: string) => void = () => {},
): Promise<number> {
  const removed = await removeByLabel(docker, RUN_LABEL);
  if (removed > 0) log(`removed ${removed} leftovers of earlier runs`);
  return removed;
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
