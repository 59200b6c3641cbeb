// RelayDelay's bookkeeping (against a fake control channel) and the memory backend, whose
// peer traffic is HTTP, through the relays' HTTP links.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { memoryBackend } from "../backends/index.js";
import { getStatus } from "../protocols/http-kv.js";
import { ClusterRelays } from "../relay/cluster.js";
import { RelayDelay } from "../relay/delay.js";
import type { RelayControl } from "../relay/process.js";
import { type LinkSettings, type LinkState, PASS } from "../relay/protocol.js";
import { localNodeSpecs } from "../runtime/local.js";
import { nodeHandle, waitForReady } from "../runtime/ready.js";
import type { NodeSpec } from "../types.js";
import { put, randomSubnet, tempStore } from "./local-helpers.js";

/** Records every set, keeps each link's settings. */
function fakeRelays(ids: string[]) {
  const links = new Map<string, LinkSettings>();
  const relays = new Map<string, RelayControl>(
    ids.map((id) => [
      id,
      {
        async set(name: string, change: Partial<LinkSettings>): Promise<LinkState> {
          if (!name.startsWith(`${id}->`)) throw new Error(`${name} is not on ${id}'s relay`);
          const settings = { ...(links.get(name) ?? PASS), ...change };
          links.set(name, settings);
          return {
            name,
            listen: { host: "h", port: 1 },
            target: { host: "h", port: 2 },
            settings,
            counters: {
              connections: 0,
              open: 0,
              bytesToTarget: 0,
              bytesFromTarget: 0,
              dialFailures: 0,
            },
          };
        },
      },
    ]),
  );
  const delayOf = (name: string) => links.get(name)?.delayMs ?? 0;
  return { relays, links, delayOf };
}

describe("RelayDelay", () => {
  it("delays every link from and to the nodes asked, both kinds, and heals them", async () => {
    const f = fakeRelays(["n1", "n2", "n3"]);
    const d = new RelayDelay({ relays: f.relays, jitterMs: 10 });
    await d.delay(["n1"], 150);
    for (const name of ["n1->n2", "n1->n3", "n2->n1", "n3->n1", "n1->n2:http", "n3->n1:http"]) {
      expect(f.links.get(name)).toMatchObject({ delayMs: 150, jitterMs: 10, mode: "pass" });
    }
    expect(f.links.has("n2->n3")).toBe(false);
    await d.delay(["n1"], 0);
    expect(f.delayOf("n1->n2")).toBe(0);
    expect(f.links.get("n2->n1")?.jitterMs).toBe(0);
  });

  it("a link gets the larger of its ends' delays; healing one end leaves the other's", async () => {
    const f = fakeRelays(["n1", "n2", "n3"]);
    const d = new RelayDelay({ relays: f.relays });
    await d.delay(["n1"], 100);
    await d.delay(["n2"], 300);
    expect(f.delayOf("n1->n2")).toBe(300);
    expect(f.delayOf("n1->n3")).toBe(100);
    expect(f.delayOf("n3->n2")).toBe(300);
    await d.delay(["n2"], 0);
    expect(f.delayOf("n1->n2")).toBe(100);
    expect(f.delayOf("n2->n3")).toBe(0);
    await d.heal();
    expect([...f.links.values()].every((s) => s.delayMs === 0)).toBe(true);
  });

  it("changes only the delay: a link cut by someone else stays cut", async () => {
    const f = fakeRelays(["n1", "n2"]);
    await f.relays.get("n1")?.set("n1->n2", { mode: "cut" });
    const d = new RelayDelay({ relays: f.relays });
    await d.delay(["n2"], 50);
    expect(f.links.get("n1->n2")).toMatchObject({ delayMs: 50, mode: "cut" });
  });

  it("refuses a node without a relay and a negative delay, and verify without a probe", async () => {
    const d = new RelayDelay({ relays: fakeRelays(["n1"]).relays });
    await expect(d.delay(["n9"], 10)).rejects.toThrow(/no relay for node n9/);
    await expect(d.delay(["n1"], -1)).rejects.toThrow(/not >= 0/);
    await expect(d.verify("n1", "n2")).rejects.toThrow(/no probe/);
  });
});

describe("the memory backend through relays (peer traffic over HTTP links)", () => {
  it("a follower's proxied write takes the link's round trip", async () => {
    const store = tempStore();
    const specs = await localNodeSpecs(3, store, { subnet: randomSubnet() });
    const relays = await ClusterRelays.start(specs);
    const children: ChildProcess[] = [];
    try {
      const backend = memoryBackend();
      for (const spec of specs) {
        mkdirSync(spec.dataDir, { recursive: true });
        const { command, args } = backend.localCommand(spec, relays.view(spec));
        children.push(spawn(command, args, { stdio: "ignore" }));
      }
      for (const s of specs) {
        await waitForReady({
          probe: async (ms) => (await getStatus(s.host, s.httpPort, ms)) === 200,
          timeoutMs: 20_000,
          probeMs: 1000,
          signal: undefined,
          abortedMessage: "aborted",
          check: () => {},
          late: async () => new Error(`${s.id} did not answer /status`),
        });
      }
      const n2 = nodeHandle(specs[1] as NodeSpec);
      const timed = async (value: number) => {
        const t = performance.now();
        const r = await put(n2, "k", value);
        expect(r.status, r.body).toBe(200);
        return performance.now() - t;
      };
      const fast = await timed(1);
      const delay = new RelayDelay({ relays: relays.relays });
      await delay.delay(["n2"], 100);
      const slow = await timed(2);
      console.log(
        `memory backend write at n2: ${fast.toFixed(1)} ms, with 100 ms on n2's links ${slow.toFixed(1)} ms`,
      );
      expect(fast).toBeLessThan(100);
      expect(slow).toBeGreaterThanOrEqual(200);
      const n2links = (await relays.stats()).get("n2") ?? [];
      expect(n2links.find((l) => l.name === "n2->n1:http")?.counters.bytesToTarget).toBeGreaterThan(
        0,
      );
    } finally {
      for (const c of children) c.kill("SIGKILL");
      await relays.stop();
      rmSync(store, { recursive: true, force: true });
    }
  });
});
