// The node process's start-up contract: a configuration error is one line on stderr naming the
// flag, and exit code 3.

import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./procs.js";

function run(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ["--import", "tsx", join(ROOT, "node/main.ts"), ...args], {
      cwd: ROOT,
      env: { ...process.env, PAXOS_NODE_ID: "", PAXOS_PEERS: "" },
    });
    let stderr = "";
    let stdout = "";
    proc.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    proc.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    proc.on("exit", (code) => resolve({ code, stderr, stdout }));
  });
}

describe("node/main.ts", () => {
  it.each([
    [["--id", "n1", "--peers", "n1=127.0.0.1:7001", "--tick-ms", "0"], "--tick-ms"],
    [["--peers", "n2=127.0.0.2:7002"], "--id"],
    [["--id", "n1", "--peers", "n2=127.0.0.2"], "--peers"],
    [["--id", "n1", "--bogus", "1"], "--bogus"],
  ])("exits 3 with one line naming the flag: %j", async (args, flag) => {
    const r = await run(args);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(flag);
  });

  it("prints its usage on --help", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--peers");
  });
});
