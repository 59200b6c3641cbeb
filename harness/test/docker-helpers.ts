// Shared by the Docker runtime's tests: whether an engine answers (skip, or fail under
// PAXOS_REQUIRE_DOCKER=1), the CLI as a child process we can signal, and what of ours is left
// on the engine and in iptables (containers, networks, volumes by label; PAXOS-D- chains).

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { engineAnswers } from "../../docker/engine-ping.js";
import { OWNER_LABEL, RUN_LABEL } from "../runtime/docker.js";
import { DOCKER_CHAIN_PREFIX } from "../runtime/docker-network.js";
import { isRunning } from "../runtime/procfs.js";
import { ROOT } from "./run-cli.js";

/**
 * Whether the Docker tests run: an engine answers. Without one they are skipped, unless
 * PAXOS_REQUIRE_DOCKER=1 (CI), where that is a failure with the reason.
 */
export async function dockerOrSkip(): Promise<boolean> {
  if (await engineAnswers()) return true;
  if (process.env.PAXOS_REQUIRE_DOCKER === "1") {
    throw new Error(
      "PAXOS_REQUIRE_DOCKER=1 but no Docker engine answers at /var/run/docker.sock: " +
        "start one with `npm run docker:engine` (the Docker tests are mandatory here)",
    );
  }
  return false;
}

export function tempStore(prefix = "paxos-docker-"): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A CLI run in a child process: its output so far, and its exit. */
export interface CliChild {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves to the exit code (or 128 + signal number when a signal ended it). */
  exit: Promise<number>;
}

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** `paxos-harness ARGS` from source (tsx), as run-cli.ts does, but asynchronous. */
export function spawnCli(
  args: readonly string[],
  options: { command?: string[]; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): CliChild {
  const command = options.command ?? [
    process.execPath,
    "--import",
    "tsx",
    path.join(ROOT, "harness/main.ts"),
  ];
  const [file, ...pre] = command as [string, ...string[]];
  const child = spawn(file, [...pre, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  const exit = new Promise<number>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? 128 + (SIGNALS[signal ?? ""] ?? 0));
    });
  });
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Runs the CLI to its end; the result's output for assertions' messages. */
export async function runCliAsync(
  args: readonly string[],
  options: { command?: string[]; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = spawnCli(args, options);
  const code = await c.exit;
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

/** Resolves once `check` is true (polling), or rejects naming `what` after timeoutMs. */
export async function waitFor(
  what: string,
  check: () => boolean,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The lines of a run's history.jsonl, parsed (an empty list when there is none yet). */
export function historyLines(runDir: string): Record<string, unknown>[] {
  const file = path.join(runDir, "history.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** What of ours is on the engine and in iptables. */
export interface Ours {
  containers: string[];
  networks: string[];
  volumes: string[];
  /** PAXOS-D- chains. */
  chains: string[];
  /** Rules in DOCKER-USER jumping to a PAXOS-D- chain. */
  jumps: string[];
}

interface Labelled {
  name: string;
  labels: Record<string, string>;
}

/**
 * Objects with our run label (and PAXOS-D- chains), leaving out those of harnesses that are
 * still running and not in `mine`: another test file's run on the same engine is not a leftover.
 */
export async function ours(docker: Docker, mine: readonly number[] = []): Promise<Ours> {
  const filters = { label: [RUN_LABEL] };
  const foreignLive = new Set<string>();
  const keep = (o: Labelled): boolean => {
    const pid = Number((o.labels[OWNER_LABEL] ?? "").split(":")[0]);
    if (Number.isInteger(pid) && pid > 0 && !mine.includes(pid) && isRunning(pid)) {
      foreignLive.add(o.labels[RUN_LABEL] as string);
      return false;
    }
    return true;
  };
  const containers = (await docker.listContainers({ all: true, filters }))
    .map((c) => ({ name: (c.Names[0] ?? c.Id).replace(/^\//, ""), labels: c.Labels }))
    .filter(keep)
    .map((o) => o.name);
  const networks = (await docker.listNetworks({ filters }))
    .map((n) => ({ name: n.Name, labels: n.Labels ?? {} }))
    .filter(keep)
    .map((o) => o.name);
  const volumes = ((await docker.listVolumes({ filters })).Volumes ?? [])
    .map((v) => ({ name: v.Name, labels: v.Labels ?? {} }))
    .filter(keep)
    .map((o) => o.name);
  const listing = iptablesListing();
  const foreign = (chain: string) => foreignLive.has(chain.slice(DOCKER_CHAIN_PREFIX.length));
  const chains = listing
    .filter((l) => l.startsWith(`-N ${DOCKER_CHAIN_PREFIX}`))
    .map((l) => l.slice(3).trim())
    .filter((c) => !foreign(c));
  const jumps = listing.filter((l) => {
    const m = l.match(/^-A DOCKER-USER .*-j (PAXOS-D-\S+)/);
    return m !== null && !foreign(m[1] as string);
  });
  return { containers, networks, volumes, chains, jumps };
}

export const NOTHING: Ours = { containers: [], networks: [], volumes: [], chains: [], jumps: [] };

function iptablesListing(): string[] {
  return execFileSync("iptables", ["-w", "-S"], { encoding: "utf8" }).split("\n");
}

/**
 * Removes what a failed test left: objects with our run label owned by `mine` or by no live
 * harness, and their PAXOS-D- chains (host iptables; the tests run as root).
 */
export async function cleanUp(docker: Docker, mine: readonly number[]): Promise<void> {
  const left = await ours(docker, mine);
  for (const name of left.containers) {
    await docker
      .getContainer(name)
      .remove({ force: true, v: true })
      .catch(() => {});
  }
  for (const name of left.networks) {
    await docker
      .getNetwork(name)
      .remove()
      .catch(() => {});
  }
  for (const name of left.volumes) {
    await docker
      .getVolume(name)
      .remove()
      .catch(() => {});
  }
  if (process.getuid?.() !== 0) return;
  for (const jump of left.jumps) {
    execFileSync("iptables", ["-w", "-D", ...jump.split(/\s+/).slice(1)]);
  }
  for (const chain of left.chains) {
    execFileSync("iptables", ["-w", "-F", chain]);
    execFileSync("iptables", ["-w", "-X", chain]);
  }
}

export { Docker };
