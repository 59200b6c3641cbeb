// What a harness leaves behind: killed outright (SIGKILL), the next run's cleanupLeftovers()
// ends exactly its processes (verified by PID and start time) and removes its namespaces,
// bridge, veths and chain, from its state file or, with the file lost, from the owner in the
// objects' names; interrupted (SIGINT, Ctrl-C), it heals and stops itself, leaving nothing.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { cleanupLeftovers } from "../runtime/local.js";
import type { Fabric } from "../runtime/netns.js";
import { processIdentity } from "../runtime/procfs.js";
import { gone, needRoot, netnsObjectsOf, randomSubnet, tempStore } from "./local-helpers.js";

const SUBNET = randomSubnet();
const root = needRoot("the leftovers tests (network namespaces)");
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "local-child.ts");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const NOTHING = { namespaces: [], interfaces: [], chains: [] };

async function startChild(
  store: string,
  stateDir: string,
  mode = "wait",
): Promise<{ child: ChildProcess; pids: number[]; fabric: Fabric }> {
  const args = ["--import", TSX, CHILD, store, String(SUBNET), stateDir, mode];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0] as string);
    });
    child.once("exit", (code) => reject(new Error(`child exited ${code} before it was ready`)));
  });
  return { child, ...(JSON.parse(line) as { pids: number[]; fabric: Fabric }) };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((r) =>
    child.exitCode !== null ? r(child.exitCode) : child.once("exit", (c) => r(c)),
  );

describe.runIf(root)("leftovers of a local run", () => {
  it("a harness killed with SIGKILL: the next run ends exactly its processes and removes its namespaces", async () => {
    const store = tempStore();
    const stateDir = path.join(store, "state");
    const { child, pids, fabric } = await startChild(store, stateDir);
    expect(pids).toHaveLength(6); // 3 nodes, 3 probe agents
    child.kill("SIGKILL");
    await exited(child);
    for (const pid of pids) expect(gone(pid), `process ${pid} outlives its harness`).toBe(false);
    const left = netnsObjectsOf(child.pid);
    expect(left.namespaces).toHaveLength(3);
    expect(left.interfaces).toHaveLength(4); // the bridge and 3 veths
    expect(left.chains).toContain(`-N ${fabric.chain}`);

    // A decoy: a process of ours recorded under a stale identity (another start time), as if its
    // PID had been reused. It must survive.
    const decoy = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      stdio: "ignore",
    });
    const identity = processIdentity(decoy.pid as number);
    expect(identity).toBeDefined();
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(
      path.join(stateDir, "local-1-0-1.json"),
      JSON.stringify({
        harness: { pid: 1, startTime: "0", cmdline: "gone" },
        processes: [{ id: "n9", role: "node", ...identity, startTime: "1" }],
      }),
    );

    const started = Date.now();
    const result = await cleanupLeftovers({ dir: stateDir });
    console.log(`cleanupLeftovers: ${Date.now() - started} ms`, result);
    // Exactly its processes and objects; a run starting side by side (another test file) may
    // have removed some of them first, as every run removes dead harnesses' leftovers.
    expect(pids).toEqual(expect.arrayContaining(result.killed));
    expect(new Set(result.killed).size).toBe(result.killed.length);
    const namespaces = fabric.nodes.map((n) => n.namespace);
    expect(namespaces).toEqual(expect.arrayContaining(result.namespaces));
    if (result.killed.length === pids.length) {
      expect(result.namespaces.sort()).toEqual(namespaces.sort());
      expect(result.chains).toContain(fabric.chain);
    }
    for (const pid of pids) expect(gone(pid)).toBe(true);
    expect(gone(decoy.pid as number)).toBe(false);
    expect(netnsObjectsOf(child.pid)).toEqual(NOTHING);
    decoy.kill("SIGKILL");
    // Nothing left to do the second time.
    expect(await cleanupLeftovers({ dir: stateDir })).toEqual({
      killed: [],
      ...NOTHING,
    });
  });

  it("with its state file lost, the owner in the names is enough", async () => {
    const store = tempStore();
    const stateDir = path.join(store, "state");
    const { child, pids } = await startChild(store, stateDir);
    child.kill("SIGKILL");
    await exited(child);
    rmSync(stateDir, { recursive: true, force: true });
    const result = await cleanupLeftovers({ dir: stateDir });
    // The processes are found in the dead owner's namespaces (node and agent in each), unless
    // a run side by side removed them first.
    expect(pids).toEqual(expect.arrayContaining(result.killed));
    for (const pid of pids) expect(gone(pid)).toBe(true);
    expect(netnsObjectsOf(child.pid)).toEqual(NOTHING);
  });

  it("a harness interrupted with SIGINT heals, stops every process and removes its namespaces", async () => {
    const store = tempStore();
    const stateDir = path.join(store, "state");
    const { child, pids } = await startChild(store, stateDir);
    child.kill("SIGINT");
    expect(await exited(child)).toBe(130);
    for (const pid of pids) expect(gone(pid), `process ${pid}`).toBe(true);
    expect(netnsObjectsOf(child.pid)).toEqual(NOTHING);
    expect(await cleanupLeftovers({ dir: stateDir })).toEqual({ killed: [], ...NOTHING });
  });

  it("a harness that exits without stop: its exit hook ends its processes and removes its namespaces", async () => {
    const store = tempStore();
    const stateDir = path.join(store, "state");
    const { child, pids } = await startChild(store, stateDir, "exit");
    expect(await exited(child)).toBe(0);
    expect(netnsObjectsOf(child.pid)).toEqual(NOTHING);
    for (const pid of pids) await waitGoneFor(pid);
    expect(await cleanupLeftovers({ dir: stateDir })).toEqual({ killed: [], ...NOTHING });
  });
});

async function waitGoneFor(pid: number): Promise<void> {
  for (let i = 0; i < 100 && !gone(pid); i++) await new Promise((r) => setTimeout(r, 20));
  expect(gone(pid), `process ${pid}`).toBe(true);
}
