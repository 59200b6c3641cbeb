import { connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { encodeFrame } from "../../io/framing.js";
import { type PeerAddress, Transport, type TransportOptions } from "../../io/transport.js";

const started: Transport[] = [];
const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((t) => t.close()));
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function cluster(n: number, host = "127.0.0.1"): Promise<PeerAddress[]> {
  const peers: PeerAddress[] = [];
  for (let i = 1; i <= n; i++) peers.push({ id: `n${i}`, host, port: await freePort(host) });
  return peers;
}

interface Received {
  from: string;
  message: unknown;
}

async function start(
  self: PeerAddress,
  peers: PeerAddress[],
  extra: Partial<TransportOptions> = {},
): Promise<{ t: Transport; inbox: Received[] }> {
  const inbox: Received[] = [];
  const t = await Transport.start({
    self,
    peers,
    onMessage: (from, message) => inbox.push({ from, message }),
    backoffMinMs: 5,
    backoffMaxMs: 40,
    random: () => 0.5,
    ...extra,
  });
  started.push(t);
  return { t, inbox };
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function canBind(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(0, host, () => s.close(() => resolve(true)));
  });
}

describe("Transport", () => {
  it("delivers messages between three nodes in both directions", async () => {
    const peers = await cluster(3);
    const nodes = await Promise.all(peers.map((p) => start(p, peers)));
    for (const [i, { t }] of nodes.entries()) {
      for (const p of peers) if (p.id !== `n${i + 1}`) t.send(p.id, { hi: p.id, from: i + 1 });
    }
    await until(() => nodes.every(({ inbox }) => inbox.length === 2), "all messages");
    expect(nodes[0]!.inbox.map((r) => r.from).sort()).toEqual(["n2", "n3"]);
    expect(nodes[1]!.inbox).toContainEqual({ from: "n1", message: { hi: "n2", from: 1 } });
    expect(nodes[2]!.inbox).toContainEqual({ from: "n2", message: { hi: "n3", from: 2 } });
    expect(nodes[0]!.t.stats()).toMatchObject({ sent: 2, received: 2, dropped: 0 });
  });

  it("keeps per-peer order", async () => {
    const peers = await cluster(2);
    const a = await start(peers[0]!, peers);
    const b = await start(peers[1]!, peers);
    for (let i = 0; i < 500; i++) a.t.send("n2", i);
    await until(() => b.inbox.length === 500, "500 messages");
    expect(b.inbox.map((r) => r.message)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it("throws on an unknown peer", async () => {
    const peers = await cluster(2);
    const a = await start(peers[0]!, peers);
    expect(() => a.t.send("n9", 1)).toThrow(/unknown peer "n9"/);
  });

  it("reconnects after a peer closes and restarts", async () => {
    const peers = await cluster(2);
    const a = await start(peers[0]!, peers);
    const b1 = await start(peers[1]!, peers);
    a.t.send("n2", "before");
    await until(() => b1.inbox.length === 1, "first message");
    await b1.t.close();
    await until(() => !a.t.stats().peers.n2!.connected, "a to see the disconnect");
    a.t.send("n2", "while down");
    const b2 = await start(peers[1]!, peers);
    await until(() => b2.inbox.length === 1, "message queued while down");
    expect(b2.inbox[0]).toEqual({ from: "n1", message: "while down" });
    expect(a.t.stats().reconnects).toBeGreaterThan(0);
    b2.t.send("n1", "back");
    await until(() => a.inbox.length === 1, "reply after restart");
  });

  it("bounds the queue to an unreachable peer, dropping the oldest", async () => {
    const peers = await cluster(2);
    const a = await start(peers[0]!, peers, { queueLimit: 3 });
    for (let i = 0; i < 10; i++) a.t.send("n2", i);
    expect(a.t.stats()).toMatchObject({ dropped: 7, sent: 0, peers: { n2: { queued: 3 } } });
    const b = await start(peers[1]!, peers);
    await until(() => b.inbox.length === 3, "the three newest");
    expect(b.inbox.map((r) => r.message)).toEqual([7, 8, 9]);
  });

  it("drops a connection that sends a bad frame and keeps serving", async () => {
    const peers = await cluster(2);
    const a = await start(peers[0]!, peers);
    const cases = [
      Buffer.concat([encodeFrame({ hello: "n2" }), Buffer.from([0xff, 0xff, 0xff, 0xff])]),
      Buffer.concat([encodeFrame({ hello: "n2" }), Buffer.from([0, 0, 0, 3]), Buffer.from("{{{")]),
      encodeFrame({ hello: "stranger" }),
      Buffer.concat([encodeFrame({ hello: "n2" }), encodeFrame({ what: 1 })]),
    ];
    for (const bytes of cases) {
      const socket = connect({ host: peers[0]!.host, port: peers[0]!.port });
      sockets.push(socket);
      socket.on("error", () => {});
      const closed = new Promise((r) => socket.on("close", r));
      socket.write(bytes);
      await closed;
    }
    expect(a.t.stats().badFrames).toBe(cases.length);
    expect(a.inbox).toEqual([]);
    const b = await start(peers[1]!, peers);
    b.t.send("n1", "still fine");
    await until(() => a.inbox.length === 1, "a message after the bad frames");
  });

  it("drops a silent connection and redials a peer that stops answering pings", async () => {
    const peers = await cluster(2);
    // A fake n2 that accepts and then never says anything: like a peer behind a DROP rule.
    const accepted: Socket[] = [];
    let closedByA = 0;
    const fake = createServer((s) => {
      accepted.push(s);
      sockets.push(s);
      s.on("close", () => closedByA++);
      s.resume();
    });
    servers.push(fake);
    await new Promise<void>((r) => fake.listen(peers[1]!.port, peers[1]!.host, r));
    const a = await start(peers[0]!, peers, { heartbeatMs: 20, idleTimeoutMs: 100 });
    await until(() => accepted.length >= 2, "a redial after the idle timeout");
    await until(() => closedByA >= 1, "the silent connection to be closed");
    expect(a.t.stats().reconnects).toBeGreaterThan(0);
  });

  it("keeps its links when the wall clock jumps (silence is timed on the monotonic clock)", async () => {
    const peers = await cluster(2);
    const [a, b] = await Promise.all(
      peers.map((p) => start(p, peers, { heartbeatMs: 20, idleTimeoutMs: 100 })),
    );
    a!.t.send("n2", { before: true });
    await until(() => b!.inbox.length === 1, "the first message");
    const reconnects = a!.t.stats().reconnects;
    // The wall clock jumps an hour ahead (the clock nemesis does this to a node).
    const real = Date.now.bind(Date);
    const jump = vi.spyOn(Date, "now").mockImplementation(() => real() + 3_600_000);
    try {
      await new Promise((r) => setTimeout(r, 400)); // four idle timeouts of heartbeats
      a!.t.send("n2", { after: true });
      await until(() => b!.inbox.length === 2, "the second message");
      expect(a!.t.stats().reconnects).toBe(reconnects);
      expect(b!.t.stats().reconnects).toBe(0);
    } finally {
      jump.mockRestore();
    }
  });

  it("leaves no open handles after close()", async () => {
    const count = (kind: string) =>
      process.getActiveResourcesInfo().filter((k) => k.startsWith(kind)).length;
    // Handles of earlier tests may still be closing; they only make the baseline larger.
    const baseline = { tcp: count("TCP"), timers: count("Timeout") };
    const peers = await cluster(3);
    const nodes = await Promise.all(peers.map((p) => start(p, peers)));
    nodes[0]!.t.send("n2", 1);
    await until(() => nodes[1]!.inbox.length === 1, "a message");
    expect(count("TCP")).toBeGreaterThanOrEqual(3 + 2);
    await Promise.all(started.splice(0).map((t) => t.close()));
    await until(
      () => count("TCP") <= baseline.tcp && count("Timeout") <= baseline.timers,
      "sockets, servers and timers to go",
      2000,
    );
  });

  it("dials from its own address (localAddress), so source-keyed firewall rules apply", async () => {
    if (!(await canBind("127.0.0.2")) || !(await canBind("127.0.0.3"))) return;
    const self = { id: "n1", host: "127.0.0.2", port: await freePort("127.0.0.2") };
    const other = { id: "n2", host: "127.0.0.3", port: await freePort("127.0.0.3") };
    const remotes: (string | undefined)[] = [];
    const server = createServer((s) => {
      remotes.push(s.remoteAddress);
      sockets.push(s);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(other.port, other.host, r));
    await start(self, [self, other]);
    await until(() => remotes.length > 0, "the dial");
    expect(remotes[0]).toBe("127.0.0.2");
  });
});

describe("frame size limits enforced when sending", () => {
  it("encodeFrame refuses a body over the limit", () => {
    expect(() => encodeFrame({ blob: "x".repeat(200) }, 100)).toThrow(/exceeds the 100 limit/);
    expect(encodeFrame({ a: 1 }, 100).length).toBeGreaterThan(4);
  });

  it("a message over the receiver's limit is refused before sending and counted, the link stays up", async () => {
    const peers = await cluster(2);
    const a = await start(peers[0] as PeerAddress, peers, { maxFrameBytes: 200 });
    const b = await start(peers[1] as PeerAddress, peers, { maxFrameBytes: 200 });
    a.t.send("n2", { blob: "x".repeat(500) });
    a.t.send("n2", { small: 1 });
    for (let i = 0; i < 100 && b.inbox.length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(b.inbox.map((r) => r.message)).toEqual([{ small: 1 }]);
    expect(a.t.stats().oversized).toBe(1);
    expect(b.t.stats().badFrames).toBe(0);
  });
});
