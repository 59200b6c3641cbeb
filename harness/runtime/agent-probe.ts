// The local runtime's FaultProbe: network probes through the probe agents (probe-agent.ts, one
// in each node's namespace), process states from /proc. The harness asks an agent over TCP
// through the bridge; the agent connects to (or sends datagrams to) its peers' agents from its
// node's network position.

import { readFile } from "node:fs/promises";
import net from "node:net";
import type {
  DatagramProbe,
  FaultProbe,
  NodeId,
  NodePair,
  ProcessState,
  ReachProbe,
} from "../types.js";

export interface AgentProbeOptions {
  /** The node's address (its agent listens there). */
  address(node: NodeId): string;
  /** The agents' port, the same in every namespace. */
  port(): number;
  /** The node's process state now. */
  processState(node: NodeId): ProcessState;
  /** The PID of the node's process, if it runs. */
  pid(node: NodeId): number | undefined;
}

/** The probe agents' port (TCP and UDP) on each node's address (local: the next free one if a node uses it). */
export const PROBE_PORT = 7979;

/** How long an answer may take beyond the probe's own timeout before the agent counts as mute. */
const ANSWER_SLACK_MS = 2000;

export class AgentProbe implements FaultProbe {
  constructor(private readonly o: AgentProbeOptions) {}

  async reach(pairs: readonly NodePair[], timeoutMs: number): Promise<ReachProbe[]> {
    const byFrom = groupByFrom(pairs);
    const answers = await Promise.all(
      [...byFrom].map(async ([from, tos]) => {
        const reply = (await this.ask(
          from,
          { reach: tos.map((to) => this.target(to)), timeoutMs },
          timeoutMs,
        )) as { reach?: { outcome: ReachProbe["outcome"]; ms: number; error?: string }[] };
        return tos.map((to, i): ReachProbe => {
          const r = reply.reach?.[i];
          if (r === undefined) throw new Error(`the probe agent of ${from} gave no reach answer`);
          return { from, to, ...r };
        });
      }),
    );
    return answers.flat();
  }

  async datagrams(
    pairs: readonly NodePair[],
    count: number,
    timeoutMs: number,
  ): Promise<DatagramProbe[]> {
    const byFrom = groupByFrom(pairs);
    const answers = await Promise.all(
      [...byFrom].map(async ([from, tos]) => {
        const reply = (await this.ask(
          from,
          { datagrams: tos.map((to) => this.target(to)), count, timeoutMs },
          timeoutMs,
        )) as { datagrams?: { sent: number; received: number }[] };
        return tos.map((to, i): DatagramProbe => {
          const d = reply.datagrams?.[i];
          if (d === undefined)
            throw new Error(`the probe agent of ${from} gave no datagram answer`);
          return { from, to, ...d };
        });
      }),
    );
    return answers.flat();
  }

  async processState(node: NodeId): Promise<ProcessState> {
    return this.o.processState(node);
  }

  async mappedFiles(node: NodeId): Promise<string[]> {
    const pid = this.o.pid(node);
    if (pid === undefined) return [];
    const maps = await readFile(`/proc/${pid}/maps`, "utf8").catch(() => "");
    const files = new Set<string>();
    for (const line of maps.split("\n")) {
      const file = line.split(/\s+/)[5];
      if (file?.startsWith("/")) files.add(file);
    }
    return [...files];
  }

  /** Resolves once the node's agent answers a ping, or rejects after timeoutMs. */
  async ready(node: NodeId, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        await this.ask(node, { ping: true }, 200);
        return;
      } catch (error) {
        if (performance.now() > deadline || signal?.aborted) {
          throw new Error(
            `the probe agent of ${node} did not answer within ${timeoutMs} ms: ${(error as Error).message}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private target(node: NodeId): { host: string; port: number } {
    return { host: this.o.address(node), port: this.o.port() };
  }

  /** One JSON line to the node's agent, one JSON line back. */
  private ask(node: NodeId, request: object, timeoutMs: number): Promise<unknown> {
    const host = this.o.address(node);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port: this.o.port() });
      let text = "";
      const timer = setTimeout(
        () => fail(new Error(`no answer within ${timeoutMs + ANSWER_SLACK_MS} ms`)),
        timeoutMs + ANSWER_SLACK_MS,
      );
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(
          new Error(`the probe agent of ${node} (${host}:${this.o.port()}): ${error.message}`),
        );
      };
      socket.on("error", fail);
      socket.on("data", (c: Buffer) => {
        text += c.toString();
      });
      socket.on("end", () => {
        clearTimeout(timer);
        try {
          const reply = JSON.parse(text) as { error?: string };
          if (reply.error !== undefined) fail(new Error(reply.error));
          else resolve(reply);
        } catch {
          fail(new Error(`a bad answer: ${JSON.stringify(text.slice(0, 200))}`));
        }
      });
      socket.write(`${JSON.stringify(request)}\n`);
    });
  }
}

function groupByFrom(pairs: readonly NodePair[]): Map<NodeId, NodeId[]> {
  const byFrom = new Map<NodeId, NodeId[]>();
  for (const [from, to] of pairs) byFrom.set(from, [...(byFrom.get(from) ?? []), to]);
  return byFrom;
}
