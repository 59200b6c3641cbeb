// The Docker runtime's FaultProbe: a probe agent (probe-agent.ts, compiled into the project's
// image) exec'ed in every node container, so probes leave from the node's own network position
// (its container's namespace, its IP, where the run's DOCKER-USER rules bite); process states
// from the engine (a paused container is stopped, one not running is gone).
//
// An exec'ed agent lives as long as its container runs: it is started again after a restart.
// It shares the container's cgroup, so it is frozen with a paused container; no other fault
// is in force then, and the pause itself is checked through the engine.
//
// A node image of the backend's own (files:, image:) has no Node.js to run the agent: then the
// agent runs in a sidecar container of the project's image that joins the node container's
// network namespace (same IP, same rules). A restarted node has a new namespace, so its sidecar
// is made again; sidecars carry the run's labels and go with the run.

import { readFile } from "node:fs/promises";
import type Docker from "dockerode";
import { IMAGE_DIST, IMAGE_NODE } from "../../docker/project-image.js";
import type {
  DatagramProbe,
  FaultProbe,
  NodeId,
  NodePair,
  ProcessState,
  ReachProbe,
} from "../types.js";
import { AgentProbe, PROBE_PORT } from "./agent-probe.js";

export interface DockerProbeOptions {
  container(node: NodeId): Docker.Container;
  /** The node's IP on the run's network. */
  address(node: NodeId): string;
  /** How long a started agent may take to answer. Default 10 s. */
  readyTimeoutMs?: number;
  /** Where the node's image cannot run the agent: the engine, and the sidecar's image and labels. */
  sidecar?():
    | { docker: Docker; image: string; name: string; labels: Record<string, string> }
    | undefined;
}

export class DockerProbe implements FaultProbe {
  private readonly agents: AgentProbe;
  /**
   * The files mapped into the node's processes (the container's init and what it started), read
   * from /proc on the host: only a root harness may read another user's maps, so only then does
   * the clock nemesis get verified in Docker (else it says it could not be).
   */
  readonly mappedFiles?: (node: NodeId) => Promise<string[]>;

  constructor(private readonly o: DockerProbeOptions) {
    this.agents = new AgentProbe({
      address: o.address,
      port: () => PROBE_PORT,
      processState: () => "running", // not used: processState() below asks the engine
      pid: () => undefined,
    });
    if (process.getuid?.() === 0) this.mappedFiles = (node) => this.containerMaps(node);
  }

  private async containerMaps(node: NodeId): Promise<string[]> {
    const { State } = await this.o.container(node).inspect();
    const files = new Set<string>();
    const pids = [State.Pid];
    for (let i = 0; i < pids.length && i < 64; i++) {
      const pid = pids[i] as number;
      if (!(pid > 0)) continue;
      const maps = await readFile(`/proc/${pid}/maps`, "utf8").catch(() => "");
      for (const line of maps.split("\n")) {
        const file = line.split(/\s+/)[5];
        if (file?.startsWith("/")) files.add(file);
      }
      const children = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
      for (const c of children.split(/\s+/)) if (c !== "") pids.push(Number(c));
    }
    return [...files];
  }

  /** Starts the node's agent in its container and waits until it answers. */
  async startAgent(node: NodeId): Promise<void> {
    const host = this.o.address(node);
    // The host reaches the containers from the bridge's gateway, .1 of the run's subnet.
    const gateway = host.replace(/\.\d+$/, ".1");
    const agent = [
      `${IMAGE_DIST}/harness/runtime/probe-agent.js`,
      ...["--host", host, "--port", String(PROBE_PORT), "--control", gateway],
    ];
    const sidecar = this.o.sidecar?.();
    if (sidecar) {
      await this.startSidecar(node, agent, sidecar);
      await this.agents.ready(node, this.o.readyTimeoutMs ?? 10_000);
      return;
    }
    const exec = await this.o.container(node).exec({
      Cmd: [IMAGE_NODE, ...agent],
      AttachStdout: false,
      AttachStderr: false,
    });
    // The engine answers a detached start at once; reading that answer to its end frees the
    // connection (left unread, it would keep the harness's event loop alive).
    const answer = (await exec.start({ Detach: true })) as unknown as
      | NodeJS.ReadableStream
      | undefined;
    answer?.resume();
    await this.agents.ready(node, this.o.readyTimeoutMs ?? 10_000);
  }

  private async startSidecar(
    node: NodeId,
    agent: string[],
    s: { docker: Docker; image: string; name: string; labels: Record<string, string> },
  ): Promise<void> {
    const name = `${s.name}-${node}-probe`;
    await s.docker
      .getContainer(name)
      .remove({ force: true })
      .catch(() => {});
    const sidecar = await s.docker.createContainer({
      name,
      Image: s.image,
      Entrypoint: [IMAGE_NODE],
      Cmd: agent,
      Labels: s.labels,
      HostConfig: { Init: true, NetworkMode: `container:${this.o.container(node).id}` },
    });
    await sidecar.start();
  }

  reach(pairs: readonly NodePair[], timeoutMs: number): Promise<ReachProbe[]> {
    return this.agents.reach(pairs, timeoutMs);
  }

  datagrams(
    pairs: readonly NodePair[],
    count: number,
    timeoutMs: number,
  ): Promise<DatagramProbe[]> {
    return this.agents.datagrams(pairs, count, timeoutMs);
  }

  async processState(node: NodeId): Promise<ProcessState> {
    try {
      const { State } = await this.o.container(node).inspect();
      if (State.Paused) return "stopped";
      return State.Running ? "running" : "gone";
    } catch {
      return "gone";
    }
  }
}
