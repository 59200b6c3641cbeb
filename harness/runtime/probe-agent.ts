// The probe agent: a tiny program of ours that runs in each node's network namespace, next to
// the node, so that the harness can check a fault from the node's network position whatever
// the node program does (a paused or dead node, a program that binds nothing).
//
// On <host>:<port> it
// - accepts TCP connections: a peer agent's reach probe connects and closes (nothing to read);
//   the harness (from --control, the bridge's address, and only from there) sends one JSON line
//   and gets one JSON line back:
//     {"ping":true}                                          -> {"pong":true}
//     {"reach":[{host,port}...],"timeoutMs":N}               -> {"reach":[{outcome,ms,error?}...]}
//     {"datagrams":[{host,port}...],"count":N,"timeoutMs":N} -> {"datagrams":[{sent,received}...]}
// - echoes every UDP datagram back to its sender (what a peer's "datagrams" request counts).
//
// Usage: probe-agent --host A --port P --control C

import dgram from "node:dgram";
import net from "node:net";
import { parseArgs } from "node:util";

interface Target {
  host: string;
  port: number;
}

type Outcome = "connected" | "refused" | "timeout" | "error";

const { values } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string" },
    control: { type: "string" },
  },
  strict: true,
});
const host = values.host ?? fail("--host is required");
const port = Number(values.port ?? fail("--port is required"));
const control = values.control ?? fail("--control is required");

function fail(message: string): never {
  process.stderr.write(`probe-agent: ${message}\n`);
  process.exit(2);
}

/** A TCP connect to the target: how it ended and how long it took. */
function reach(
  t: Target,
  timeoutMs: number,
): Promise<{ outcome: Outcome; ms: number; error?: string }> {
  const began = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: t.host, port: t.port });
    let done = false;
    const end = (outcome: Outcome, error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const ms = Math.round((performance.now() - began) * 10) / 10;
      resolve(error === undefined ? { outcome, ms } : { outcome, ms, error });
    };
    const timer = setTimeout(() => end("timeout"), timeoutMs);
    socket.once("connect", () => end("connected"));
    socket.once("error", (e: NodeJS.ErrnoException) =>
      end(e.code === "ECONNREFUSED" ? "refused" : "error", e.code ?? e.message),
    );
  });
}

let batches = 0;

/**
 * `count` datagrams to each target, then waits for the echoes (all back, or timeoutMs after the
 * last was sent). A send the kernel refuses (a DROP in OUTPUT gives EPERM) is a datagram lost.
 */
function datagrams(
  targets: readonly Target[],
  count: number,
  timeoutMs: number,
): Promise<{ sent: number; received: number }[]> {
  const batch = `${process.pid}.${++batches}`;
  const got = targets.map(() => new Set<number>());
  const socket = dgram.createSocket("udp4");
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (timer) clearTimeout(timer);
      socket.close();
      resolve(got.map((g) => ({ sent: count, received: g.size })));
    };
    socket.on("error", () => {});
    socket.on("message", (msg) => {
      const [b, i, seq] = msg.toString().split(":");
      if (b !== batch) return;
      got[Number(i)]?.add(Number(seq));
      if (got.every((g) => g.size === count)) finish();
    });
    socket.bind({ address: host, port: 0 }, () => {
      for (let seq = 0; seq < count; seq++) {
        targets.forEach((t, i) => {
          socket.send(`${batch}:${i}:${seq}`, t.port, t.host, () => {});
        });
      }
      timer = setTimeout(finish, timeoutMs);
    });
  });
}

async function answer(line: string): Promise<unknown> {
  const req = JSON.parse(line) as {
    ping?: boolean;
    reach?: Target[];
    datagrams?: Target[];
    count?: number;
    timeoutMs?: number;
  };
  const timeoutMs = req.timeoutMs ?? 200;
  if (req.reach) return { reach: await Promise.all(req.reach.map((t) => reach(t, timeoutMs))) };
  if (req.datagrams) {
    return { datagrams: await datagrams(req.datagrams, req.count ?? 10, timeoutMs) };
  }
  return { pong: true };
}

const server = net.createServer((socket) => {
  socket.on("error", () => {});
  // A peer's reach probe: it connects and closes. Only the harness may ask for probes.
  if (socket.remoteAddress?.replace(/^::ffff:/, "") !== control) {
    socket.resume();
    socket.on("end", () => socket.end());
    return;
  }
  let buffer = "";
  socket.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    const nl = buffer.indexOf("\n");
    if (nl < 0) return;
    const line = buffer.slice(0, nl);
    buffer = "";
    answer(line).then(
      (reply) => socket.end(`${JSON.stringify(reply)}\n`),
      (error: Error) => socket.end(`${JSON.stringify({ error: error.message })}\n`),
    );
  });
});
server.on("error", (error) => fail(`cannot listen on ${host}:${port}: ${error.message}`));

const echo = dgram.createSocket("udp4");
echo.on("message", (msg, from) => echo.send(msg, from.port, from.address, () => {}));
echo.on("error", (error) => fail(`cannot bind udp ${host}:${port}: ${error.message}`));

echo.bind({ address: host, port }, () => {
  server.listen({ host, port }, () => process.stdout.write(`probe agent on ${host}:${port}\n`));
});
