// Network faults between containers: iptables rules in a chain of ours, jumped to from
// DOCKER-USER (container-to-container packets on a bridge pass FORWARD, and DOCKER-USER first),
// keyed by node IP, so they survive container restarts. The harness needs no root for this:
// the rules are run by `iptables` inside a helper container of ours on the host's network with
// CAP_NET_ADMIN, started through the engine.

import type Docker from "dockerode";
import { IPTABLES_BINARY } from "../../docker/project-image.js";
import type { NetworkFaults, NodeId, NodeSpec } from "../types.js";
import type { TcpSocket } from "./conn-reset.js";
import { IptablesNetwork, netemUnavailable } from "./iptables.js";

/** Chains of the Docker runtime start with this; leftovers with it are removed at start. */
export const DOCKER_CHAIN_PREFIX = "PAXOS-D-";

/** The chain of a run. */
export function chainOf(runId: string): string {
  return `${DOCKER_CHAIN_PREFIX}${runId}`.slice(0, 28);
}

/** Our chains in an `iptables -S` listing that belong to none of these runs. */
export function leftoverChains(listing: string, liveRuns: ReadonlySet<string>): string[] {
  const keep = new Set([...liveRuns].map(chainOf));
  return listing
    .split("\n")
    .filter((line) => line.startsWith(`-N ${DOCKER_CHAIN_PREFIX}`))
    .map((line) => line.slice(3).trim())
    .filter((chain) => !keep.has(chain));
}

/** Why containers cannot be delayed here: no sch_netem in the host kernel, or not written yet. */
export async function dockerDelayUnavailable(): Promise<string> {
  return (await netemUnavailable()) ?? "delay between containers is not implemented yet";
}

export class DockerNetworkFaults implements NetworkFaults {
  private helper: Docker.Container | undefined;
  private rules: IptablesNetwork | undefined;

  constructor(
    private readonly docker: Docker,
    private readonly runId: string,
    /** A node's sockets (its container's network namespace): what reset() resets. */
    private readonly socketsOf?: (node: NodeId) => Promise<TcpSocket[]>,
  ) {}

  /**
   * Starts the helper and creates our chain, after removing every chain of ours (PAXOS-D-<run>)
   * whose run is not among `liveRuns` (runs of other harnesses still in progress). Resolves to
   * the chains removed.
   */
  async setUp(
    image: string,
    nodes: readonly NodeSpec[],
    labels: Record<string, string>,
    liveRuns: ReadonlySet<string> = new Set(),
  ): Promise<string[]> {
    this.helper = await this.docker.createContainer({
      name: `paxos-${this.runId}-net`,
      Image: image,
      // Node is the image's entrypoint: an idle process that keeps the container up for execs.
      Cmd: ["-e", "setInterval(() => {}, 1 << 30)"],
      Labels: labels,
      HostConfig: { NetworkMode: "host", CapAdd: ["NET_ADMIN", "NET_RAW"], Init: true },
    });
    await this.helper.start();
    const exec = (args: readonly string[]) => this.exec([IPTABLES_BINARY, "-w", ...args]);
    const removed: string[] = [];
    for (const chain of leftoverChains(await exec(["-S"]), liveRuns)) {
      await new IptablesNetwork({ chain, exec, hook: ["DOCKER-USER"] }).removeChain();
      removed.push(chain);
    }
    this.rules = new IptablesNetwork({
      chain: chainOf(this.runId),
      exec,
      hook: ["DOCKER-USER"],
      ...(this.socketsOf ? { socketsOf: this.socketsOf } : {}),
    });
    this.rules.setNodes(nodes);
    await this.rules.createChain();
    return removed;
  }

  /** Removes our chain; the helper container goes with the run's label. */
  async tearDown(): Promise<void> {
    await this.rules?.removeChain();
    this.rules = undefined;
  }

  partition(groups: readonly (readonly NodeId[])[]): Promise<void> {
    return this.active().partition(groups);
  }

  cut(links: readonly (readonly [NodeId, NodeId])[]): Promise<void> {
    return this.active().cut(links);
  }

  loss(nodes: readonly NodeId[], probability: number): Promise<void> {
    return this.active().loss(nodes, probability);
  }

  async delay(_nodes: readonly NodeId[], ms: number): Promise<void> {
    if (ms === 0) return;
    throw new Error(await dockerDelayUnavailable());
  }

  reset(nodes: readonly NodeId[]): Promise<{ [node: NodeId]: number }> {
    return this.active().reset(nodes);
  }

  endReset(nodes: readonly NodeId[]): Promise<{ [node: NodeId]: number }> {
    return this.active().endReset(nodes);
  }

  heal(): Promise<void> {
    return this.active().heal();
  }

  private active(): IptablesNetwork {
    if (!this.rules) throw new Error("the Docker network helper is not started");
    return this.rules;
  }

  /** Runs a command in the helper; rejects with its output when it exits non-zero. */
  private async exec(cmd: string[]): Promise<string> {
    if (!this.helper) throw new Error("the Docker network helper is not started");
    const exec = await this.helper.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    const sink = { write: (b: Buffer) => chunks.push(b) };
    this.docker.modem.demuxStream(
      stream,
      sink as unknown as NodeJS.WritableStream,
      sink as unknown as NodeJS.WritableStream,
    );
    await new Promise<void>((resolve, reject) => {
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    const out = Buffer.concat(chunks).toString("utf8");
    const { ExitCode } = await exec.inspect();
    if (ExitCode !== 0) throw new Error(`${cmd.join(" ")}: ${out.trim()}`);
    return out;
  }
}
