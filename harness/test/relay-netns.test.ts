// The relay where the runtimes will place it: inside a node's network namespace, started
// through `ip netns exec`. A scratch namespace of ours (paxos-rl-<pid>-<start time>), with an echo server
// and the probe inside it too (its loopback is its own). Needs root (fails without it unless
// PAXOS_ALLOW_UNPRIVILEGED=1, as the other namespace and iptables tests).

import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { RelayProcess } from "../relay/process.js";
import { ownerAlive, ownerTag } from "../runtime/procfs.js";
import { needRoot } from "./local-helpers.js";

const root = needRoot("relay in a network namespace");
// Our name, the owner's PID and start time: a leftover is recognized by a later run.
const ns = `paxos-rl-${ownerTag(process.pid).replace(":", "-")}`;
const ip = (...args: string[]) => execFileSync("ip", args, { encoding: "utf8" });

/** Runs a Node.js snippet inside the namespace; resolves to its first line of output. */
function inNamespace(script: string, args: string[] = []) {
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", script, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = new Promise<string>((resolve, reject) => {
    child.stdout.once("data", (c: Buffer) => resolve(c.toString().trim()));
    child.once("exit", (code) => reject(new Error(`exited ${code}`)));
  });
  return { child, line };
}

const ECHO = `const s=require("net").createServer(c=>c.pipe(c));
s.listen(0,"127.0.0.1",()=>console.log(s.address().port));`;
const PROBE = `const c=require("net").connect(+process.argv[1],"127.0.0.1",()=>{
const t=performance.now();c.once("data",()=>{console.log(performance.now()-t);c.destroy()});c.write("x")});`;

afterAll(() => {
  if (!root) return;
  try {
    ip("netns", "del", ns);
  } catch {}
});

describe.skipIf(!root)("relay inside a network namespace", () => {
  it("runs under ip netns exec, delays traffic there, and leaves nothing in it when stopped", async () => {
    // Leftovers of earlier runs of this test whose process is gone.
    const names = existsSync("/run/netns") ? readdirSync("/run/netns") : [];
    for (const name of names.filter((n) => /^paxos-rl-\d+-\d+$/.test(n))) {
      const [pid, start] = name.split("-").slice(2);
      if (!ownerAlive(`${pid}:${start}`)) ip("netns", "del", name);
    }
    ip("netns", "add", ns);
    ip("-n", ns, "link", "set", "lo", "up");
    const echo = inNamespace(ECHO);
    try {
      const echoPort = Number(await echo.line);
      const relay = await RelayProcess.start({ wrap: ["ip", "netns", "exec", ns] });
      const link = await relay.add({
        name: "a->b",
        listen: { host: "127.0.0.1", port: 0 },
        target: { host: "127.0.0.1", port: echoPort },
        dialFrom: "127.0.0.1",
        settings: { delayMs: 100 },
      });
      const rtt = Number(await inNamespace(PROBE, [String(link.listen.port)]).line);
      console.log(`round trip inside ${ns} through a 100 ms relay: ${rtt.toFixed(1)} ms`);
      expect(rtt).toBeGreaterThanOrEqual(200);
      expect(rtt).toBeLessThan(300);
      const [state] = await relay.stats();
      expect(state?.counters).toMatchObject({
        connections: 1,
        bytesToTarget: 1,
        bytesFromTarget: 1,
      });
      await relay.stop();
      expect(ip("netns", "pids", ns).trim().split("\n")).toEqual([String(echo.child.pid)]);
    } finally {
      echo.child.kill("SIGKILL");
    }
  });
});
