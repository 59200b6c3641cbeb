// Shared by the local runtime's tests: a store in a temporary folder, a run context, a cluster
// view like the runner's, an HTTP helper, and the root check (fail, never skip silently).

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { randomOf } from "../../contracts/random.js";
import type { ClusterView, NodeHandle, NodeId, RunContext, Runtime } from "../types.js";

export function tempStore(): string {
  return mkdtempSync(path.join(os.tmpdir(), "paxos-local-"));
}

export function runContext(store: string, name = "t"): RunContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    dir: path.join(store, name, new Date().toISOString().replace(/[-:.]/g, "")),
    log: (message, fields) => lines.push(`${message} ${fields ? JSON.stringify(fields) : ""}`),
    signal: new AbortController().signal,
    lines,
  };
}

export function view(nodes: readonly NodeHandle[], runtime: Runtime, seed = 1): ClusterView {
  return {
    nodes,
    runtime,
    random: randomOf(seed, "test"),
    async leader(): Promise<NodeId | undefined> {
      for (const n of nodes) {
        const r = await request(`${n.url}/status`, "GET", undefined, 1000);
        if (r.status === 200) {
          const leader = (JSON.parse(r.body) as { leader?: unknown }).leader;
          if (typeof leader === "string") return leader;
        }
      }
      return undefined;
    },
    async answering(): Promise<NodeId[]> {
      const up = await Promise.all(
        nodes.map(async (n) => {
          const r = await request(`${n.url}/status`, "GET", undefined, 500).catch(() => null);
          return r?.status === 200 ? [n.spec.id] : [];
        }),
      );
      return up.flat();
    },
  };
}

export interface Reply {
  /** 0: no answer (refused, timed out). */
  status: number;
  body: string;
  error?: string;
}

export function request(
  url: string,
  method: string,
  body: unknown,
  timeoutMs = 3000,
): Promise<Reply> {
  return new Promise((resolve) => {
    const text = body === undefined ? "" : JSON.stringify(body);
    const req = http.request(url, { method, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ status: 0, body: "", error: e.message }));
    req.end(text);
  });
}

export const put = (node: NodeHandle, key: string, value: unknown, timeoutMs?: number) =>
  request(`${node.url}/kv/${key}`, "PUT", { value }, timeoutMs);
export const get = (node: NodeHandle, key: string, timeoutMs?: number) =>
  request(`${node.url}/kv/${key}`, "GET", undefined, timeoutMs);

/**
 * Tests that need root fail here unless PAXOS_ALLOW_UNPRIVILEGED=1 (then they return false);
 * never under CI=true, where they are mandatory.
 */
export function needRoot(what: string): boolean {
  if (process.getuid?.() === 0) return true;
  if (process.env.PAXOS_ALLOW_UNPRIVILEGED === "1" && process.env.CI !== "true") return false;
  throw new Error(
    `${what} needs root (network namespaces, iptables); run as root or set PAXOS_ALLOW_UNPRIVILEGED=1`,
  );
}

/** Whether a PID is gone: process.kill(pid, 0) throws ESRCH (a zombie counts as gone). */
export function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/**
 * A 127.0.X subnet for one test file: random, so that test runs side by side (two vitest
 * runs on one machine) do not share node addresses, and so iptables rules keyed by them.
 */
export function randomSubnet(): number {
  return 2 + Math.floor(Math.random() * 248);
}

/** The objects of ours a harness owns: namespaces, interfaces (by alias), root chains. */
export interface NetnsObjects {
  namespaces: string[];
  interfaces: string[];
  chains: string[];
}

/** What of harness `pid` is on this machine now (every owner when pid is undefined). */
export function netnsObjectsOf(pid?: number): NetnsObjects {
  const sh = (file: string, args: string[]) =>
    execFileSync(file, args, { encoding: "utf8" }).split("\n");
  const tag = pid === undefined ? "\\d+" : String(pid);
  const namespaces = sh("ip", ["netns", "list"])
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => new RegExp(`^paxos-${tag}-\\d+-`).test(n));
  const interfaces = sh("ip", ["-o", "link", "show"])
    .filter((l) => new RegExp(`alias paxos-harness owner=${tag}:`).test(l))
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? "?");
  const chains = sh("iptables", ["-w", "-S"]).filter((l) =>
    new RegExp(`PXNS-\\d+-${tag}-\\d+`).test(l),
  );
  return { namespaces, interfaces, chains };
}

/** `iptables -S` inside a namespace: the lines that mention our chain. */
export function namespaceRules(namespace: string, chain = "PAXOS-NEMESIS"): string[] {
  return execFileSync("ip", ["netns", "exec", namespace, "iptables", "-w", "-S"], {
    encoding: "utf8",
  })
    .split("\n")
    .filter((l) => l.includes(chain));
}
