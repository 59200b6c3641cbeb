// What a harness leaves behind: killed outright (SIGKILL), the next run's cleanupLeftovers()
// ends exactly its nodes (verified by PID, start time and command line) and removes its chain;
// interrupted (SIGINT, Ctrl-C), it heals and stops itself, leaving no process and no rule.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { cleanupLeftovers } from "../runtime/local.js";
import { processIdentity } from "../runtime/procfs.js";
import { gone, needRoot, randomSubnet, tempStore } from "./local-helpers.js";

const SUBNET = randomSubnet();
const root = needRoot("the leftovers tests (iptables)");
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "local-child.ts");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

function chains(): string[] {
  return execFileSync("iptables", ["-w", "-S"], { encoding: "utf8" }).split("\n");
}

async function startChild(
  store: string,
): Promise<{ child: ChildProcess; pids: number[]; chain: string }> {
  const child = spawn(process.execPath, ["--import", TSX, CHILD, store, String(SUBNET)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0] as string);
    });
    child.once("exit", (code) => reject(new Error(`child exited ${code} before it was ready`)));
  });
  return { child, ...(JSON.parse(line) as { pids: number[]; chain: string }) };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((r) =>
    child.exitCode !== null ? r(child.exitCode) : child.once("exit", (c) => r(c)),
  );

describe.runIf(root)("leftovers of a local run", () => {
  it("a harness killed with SIGKILL: the next run ends exactly its nodes and removes its chain", async () => {
    const store = tempStore();
    const { child, pids, chain } = await startChild(store);
    expect(pids).toHaveLength(3);
    child.kill("SIGKILL");
    await exited(child);
    for (const pid of pids) expect(gone(pid), `node ${pid} outlives its harness`).toBe(false);
    expect(chains()).toContain(`-N ${chain}`);

    // A decoy: a process of ours recorded under a stale identity (another start time), as if its
    // PID had been reused. It must survive.
    const decoy = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      stdio: "ignore",
    });
    const identity = processIdentity(decoy.pid as number);
    expect(identity).toBeDefined();
    mkdirSync(path.join(store, ".local-runtime"), { recursive: true });
    writeFileSync(
      path.join(store, ".local-runtime", "1-1.json"),
      JSON.stringify({
        harness: { pid: 1, startTime: "0", cmdline: "gone" },
        chain: undefined,
        nodes: [{ id: "n9", ...identity, startTime: "1" }],
      }),
    );

    const started = Date.now();
    const result = await cleanupLeftovers(store);
    console.log(`cleanupLeftovers: ${Date.now() - started} ms`, result);
    expect(result.killed.sort()).toEqual([...pids].sort());
    expect(result.chains).toContain(chain);
    for (const pid of pids) expect(gone(pid)).toBe(true);
    expect(gone(decoy.pid as number)).toBe(false);
    expect(chains().some((l) => l.includes(chain))).toBe(false);
    decoy.kill("SIGKILL");
    // Nothing left to do the second time.
    expect(await cleanupLeftovers(store)).toEqual({ killed: [], chains: [] });
  });

  it("a harness interrupted with SIGINT heals, stops every node and removes its rules", async () => {
    const store = tempStore();
    const { child, pids, chain } = await startChild(store);
    child.kill("SIGINT");
    expect(await exited(child)).toBe(130);
    for (const pid of pids) expect(gone(pid), `node ${pid}`).toBe(true);
    expect(chains().some((l) => l.includes(chain))).toBe(false);
    expect(await cleanupLeftovers(store)).toEqual({ killed: [], chains: [] });
  });
});
