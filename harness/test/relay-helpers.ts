// Shared by the relay's tests: an echo server and a silent server on loopback, a relay with
// one link to them, and small socket helpers. Everything is on 127.0.0.x: nothing to skip.

import net from "node:net";
import { RelayProcess } from "../relay/process.js";
import type { LinkSettings, LinkState } from "../relay/protocol.js";

export interface Target {
  server: net.Server;
  port: number;
  /** Sockets accepted so far. */
  accepted: net.Socket[];
  /** Bytes received so far, over every connection. */
  received: () => number;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1; `echo` sends back what it reads, else it only counts. */
export async function target(echo: boolean, host = "127.0.0.1"): Promise<Target> {
  const accepted: net.Socket[] = [];
  let received = 0;
  const server = net.createServer((socket) => {
    accepted.push(socket);
    socket.setNoDelay(true);
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (echo) socket.write(chunk);
    });
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    accepted,
    received: () => received,
    close: async () => {
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface RelayedTarget {
  relay: RelayProcess;
  target: Target;
  link: LinkState;
  /** The relay's listen address for the link. */
  port: number;
  close(): Promise<void>;
}

/** A relay with one link "a->b" from 127.0.0.1:<free> to a fresh target. */
export async function relayTo(
  echo: boolean,
  settings: Partial<LinkSettings> = {},
): Promise<RelayedTarget> {
  const t = await target(echo);
  const relay = await RelayProcess.start();
  const link = await relay.add({
    name: "a->b",
    listen: { host: "127.0.0.1", port: 0 },
    target: { host: "127.0.0.1", port: t.port },
    settings,
  });
  return {
    relay,
    target: t,
    link,
    port: link.listen.port,
    close: async () => {
      await relay.stop();
      await t.close();
    },
  };
}

/** Connects; resolves once connected, rejects with the error (ECONNREFUSED, ...). */
export function connect(port: number, host = "127.0.0.1"): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Resolves to the error code (or "close") once the socket is reset or closed. */
export function closed(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    socket.once("close", () => resolve("close"));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
