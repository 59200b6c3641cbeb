// The relay process (harness/relay/) on loopback: delay, jitter without reordering, bandwidth,
// backpressure, cut, blackhole, counters, bad commands, and that it dies with its parent.
// Needs nothing but loopback: never skipped.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { roundTrip, roundTrips } from "../relay/probe.js";
import { RelayProcess } from "../relay/process.js";
import { waitGone } from "../runtime/procfs.js";
import { closed, connect, type RelayedTarget, relayTo, sleep } from "./relay-helpers.js";
import { ROOT } from "./run-cli.js";

let open: RelayedTarget[] = [];
afterEach(async () => {
  await Promise.all(open.map((r) => r.close()));
  open = [];
});

async function relayed(echo: boolean, settings = {}): Promise<RelayedTarget> {
  const r = await relayTo(echo, settings);
  open.push(r);
  return r;
}

const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);

describe("relay: delay", () => {
  it("adds the delay each way: 200 ms makes round trips of 400-600 ms, 0 of under 20 ms", async () => {
    const r = await relayed(true);
    const fast = await roundTrips({ host: "127.0.0.1", port: r.port }, 5);
    expect(fast.max).toBeLessThan(20);
    await r.relay.set("a->b", { delayMs: 200 });
    const slow = await roundTrips({ host: "127.0.0.1", port: r.port }, 3);
    expect(slow.min).toBeGreaterThanOrEqual(400);
    expect(slow.max).toBeLessThan(600);
    await r.relay.set("a->b", { delayMs: 0 });
    expect((await roundTrips({ host: "127.0.0.1", port: r.port }, 3)).max).toBeLessThan(20);
    console.log(
      `rtt: delay 0 ${fast.median.toFixed(2)} ms, delay 200 ${slow.median.toFixed(1)} ms`,
    );
  });

  it("jitter widens the spread of round trips", async () => {
    const r = await relayed(true, { delayMs: 100 });
    const opts = { host: "127.0.0.1", port: r.port };
    const steady = await roundTrips(opts, 8);
    await r.relay.set("a->b", { jitterMs: 60 });
    const jittered = await roundTrips(opts, 8);
    console.log(
      `rtt spread: jitter 0 ${spread(steady.samples).toFixed(1)} ms, jitter 60 ${spread(jittered.samples).toFixed(1)} ms`,
    );
    expect(spread(steady.samples)).toBeLessThan(15);
    expect(spread(jittered.samples)).toBeGreaterThan(30);
    // Uniform in [40, 160] each way.
    expect(jittered.min).toBeGreaterThanOrEqual(78);
    expect(jittered.max).toBeLessThan(360);
  });

  it("never reorders bytes: a numbered stream comes back whole and in order under jitter", async () => {
    const r = await relayed(true, { delayMs: 30, jitterMs: 30 });
    const socket = await connect(r.port);
    const count = 400;
    const back: Buffer[] = [];
    socket.on("data", (c: Buffer) => back.push(c));
    for (let i = 0; i < count; i++) {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(i);
      socket.write(b);
      // Separate chunks, each with its own jittered delay.
      if (i % 4 === 0) await sleep(1);
    }
    const deadline = Date.now() + 5000;
    while (Buffer.concat(back).length < count * 4 && Date.now() < deadline) await sleep(20);
    socket.destroy();
    const all = Buffer.concat(back);
    expect(all.length).toBe(count * 4);
    const numbers = Array.from({ length: count }, (_, i) => all.readUInt32BE(i * 4));
    expect(numbers).toEqual(Array.from({ length: count }, (_, i) => i));
    const [link] = await r.relay.stats();
    expect(link?.counters.bytesToTarget).toBe(count * 4);
    expect(link?.counters.bytesFromTarget).toBe(count * 4);
  });

  it("limits bandwidth: 60 kB at 30 kB/s take about 2 s", async () => {
    const r = await relayed(false, { bandwidth: 30_000 });
    const socket = await connect(r.port);
    const started = performance.now();
    socket.write(Buffer.alloc(60_000, 7));
    while (r.target.received() < 60_000 && performance.now() - started < 6000) await sleep(20);
    const took = performance.now() - started;
    socket.destroy();
    console.log(`bandwidth: 60000 B at 30000 B/s in ${took.toFixed(0)} ms`);
    expect(r.target.received()).toBe(60_000);
    expect(took).toBeGreaterThan(1800);
    expect(took).toBeLessThan(3000);
  });

  it("stops reading when the other side does not read (backpressure), holding little itself", async () => {
    const r = await relayed(false);
    // The target reads nothing at all.
    r.target.server.on("connection", (s) => s.pause());
    const socket = await connect(r.port);
    const rssBefore = readRssBytes(r.relay.pid);
    const chunk = Buffer.alloc(1 << 16);
    let written = 0;
    const until = performance.now() + 1500;
    while (performance.now() < until) {
      if (socket.write(chunk)) written += chunk.length;
      else {
        written += chunk.length;
        await Promise.race([new Promise((d) => socket.once("drain", d)), sleep(200)]);
      }
    }
    const accepted = written - socket.writableLength;
    const grown = readRssBytes(r.relay.pid) - rssBefore;
    socket.destroy();
    console.log(
      `backpressure: ${(accepted / 2 ** 20).toFixed(1)} MiB accepted in 1.5 s, relay rss grew ${(grown / 2 ** 20).toFixed(1)} MiB`,
    );
    // Kernel buffers (a few MiB each side) plus the relay's 1 MiB high-water mark; without
    // backpressure the relay would swallow everything loopback can carry in 1.5 s (GBs).
    expect(accepted).toBeLessThan(64 * 2 ** 20);
    expect(grown).toBeLessThan(32 * 2 ** 20);
  });
});

describe("relay: cut and blackhole", () => {
  it("cut resets an open connection within 100 ms and refuses new ones; pass connects again", async () => {
    const r = await relayed(true);
    const socket = await connect(r.port);
    socket.write("hello\n");
    await new Promise((d) => socket.once("data", d));
    const upstream = r.target.accepted[0];
    expect(upstream).toBeDefined();
    const ended = closed(socket);
    const upstreamEnded = closed(upstream as import("node:net").Socket);
    const t0 = performance.now();
    await r.relay.set("a->b", { mode: "cut" });
    const how = await ended;
    const took = performance.now() - t0;
    console.log(`cut: client socket ${how} after ${took.toFixed(1)} ms`);
    expect(how).toBe("ECONNRESET");
    expect(took).toBeLessThan(100);
    expect(await upstreamEnded).toBe("ECONNRESET");
    await expect(connect(r.port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await r.relay.set("a->b", { mode: "pass" });
    expect(await roundTrip({ host: "127.0.0.1", port: r.port })).toBeLessThan(20);
  });

  it("blackhole: connects, delivers nothing either way; pass delivers what was held, in order", async () => {
    const r = await relayed(true);
    const before = await connect(r.port);
    before.write("a");
    await new Promise((d) => before.once("data", d));
    const echoed: Buffer[] = [];
    before.on("data", (c: Buffer) => echoed.push(c));
    await r.relay.set("a->b", { mode: "blackhole" });
    before.write("bc");
    const fresh = await connect(r.port); // accepted, and silent
    const freshGot: Buffer[] = [];
    fresh.on("data", (c: Buffer) => freshGot.push(c));
    fresh.write("xyz");
    await sleep(500);
    expect(r.target.received()).toBe(1);
    expect(r.target.accepted.length).toBe(1); // the new one was never dialed
    expect(echoed).toEqual([]);
    expect(freshGot).toEqual([]);
    expect(before.destroyed || fresh.destroyed).toBe(false);
    await r.relay.set("a->b", { mode: "pass" });
    await sleep(200);
    expect(Buffer.concat(echoed).toString()).toBe("bc");
    expect(Buffer.concat(freshGot).toString()).toBe("xyz");
    const [link] = await r.relay.stats();
    expect(link?.counters).toMatchObject({ connections: 2, open: 2, bytesToTarget: 6 });
    before.destroy();
    fresh.destroy();
  });

  it("a target that refuses: the accepted connection is reset and counted", async () => {
    const r = await relayed(true);
    await r.target.close();
    const socket = await connect(r.port);
    expect(await closed(socket)).toBe("ECONNRESET");
    const [link] = await r.relay.stats();
    expect(link?.counters.dialFailures).toBe(1);
  });
});

describe("relay: control channel and lifetime", () => {
  it("answers a bad command naming the field, and keeps serving", async () => {
    const r = await relayed(true);
    await expect(r.relay.set("a->b", { delayMs: -1 })).rejects.toThrow(/settings\.delayMs/);
    await expect(r.relay.set("nope", { delayMs: 1 })).rejects.toThrow(/no link nope/);
    await expect(
      r.relay.add({
        name: "a->b",
        listen: { host: "127.0.0.1", port: 0 },
        target: { host: "127.0.0.1", port: 1 },
      }),
    ).rejects.toThrow(/exists/);
    await expect(
      r.relay.add({
        name: "taken",
        listen: { host: "127.0.0.1", port: r.port },
        target: { host: "127.0.0.1", port: 1 },
      }),
    ).rejects.toThrow(/EADDRINUSE/);
    expect(await roundTrip({ host: "127.0.0.1", port: r.port })).toBeLessThan(20);
  });

  it("a link added cut has its port and refuses until it passes", async () => {
    const r = await relayed(true);
    const link = await r.relay.add({
      name: "later",
      listen: { host: "127.0.0.1", port: 0 },
      target: { host: "127.0.0.1", port: r.target.port },
      settings: { mode: "cut" },
    });
    expect(link.listen.port).toBeGreaterThan(0);
    await expect(connect(link.listen.port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await r.relay.set("later", { mode: "pass" });
    expect(await roundTrip({ host: "127.0.0.1", port: link.listen.port })).toBeLessThan(20);
    await r.relay.remove("later");
    await expect(connect(link.listen.port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect((await r.relay.stats()).map((l) => l.name)).toEqual(["a->b"]);
  });

  it("a command to a relay that has died rejects, and does not crash the harness", async () => {
    const relay = await RelayProcess.start();
    process.kill(relay.pid, "SIGKILL");
    expect(await waitGone(relay.pid, 1000)).toBe(true);
    await sleep(50);
    await expect(relay.stats()).rejects.toThrow(/exited/);
    await relay.stop();
  });

  it("exits when its stdin ends (stop)", async () => {
    const relay = await RelayProcess.start();
    await relay.stop();
    expect(await waitGone(relay.pid, 1000)).toBe(true);
  });

  it("exits within a second when its parent is SIGKILLed", async () => {
    const parent = spawn(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "harness/test/relay-parent.ts")],
      { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        parent.stdout.once("data", (c: Buffer) => resolve(c.toString()));
        parent.once("exit", (code) => reject(new Error(`parent exited ${code}`)));
      });
      const { relay } = JSON.parse(line) as { relay: number };
      expect(await waitGone(relay, 100)).toBe(false);
      const killed = performance.now();
      parent.kill("SIGKILL");
      expect(await waitGone(relay, 1000)).toBe(true);
      console.log(`relay gone ${(performance.now() - killed).toFixed(0)} ms after its parent`);
    } finally {
      parent.kill("SIGKILL");
    }
  });
});

function readRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}
