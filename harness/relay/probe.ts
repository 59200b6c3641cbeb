// Round trips through a link: connect to an address (a relay's listen address), write a
// request, time until the first byte of the answer. The target must answer something: an echo
// server in tests, or a node's client API (HTTP_STATUS_REQUEST) through a relay link to its
// HTTP port, which every http-kv backend has.

import net from "node:net";

/** A request any http-kv node answers (doc/protocol.md: GET /status). */
export const HTTP_STATUS_REQUEST = Buffer.from(
  "GET /status HTTP/1.1\r\nHost: relay-probe\r\nConnection: close\r\n\r\n",
);

export interface RoundTripOptions {
  host: string;
  port: number;
  /** The address to dial from. Default: the system's choice. */
  localAddress?: string;
  /** What to send. Default one line, "probe\n" (an echo server sends it back). */
  payload?: Buffer;
  /** Give up after this long. Default 5 s. */
  timeoutMs?: number;
}

/** Milliseconds from writing the payload to the first byte back; rejects on error or timeout. */
export function roundTrip(options: RoundTripOptions): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: options.host,
      port: options.port,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    socket.setNoDelay(true);
    let sentAt = 0;
    const timer = setTimeout(
      () => finish(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(performance.now() - sentAt);
    };
    socket.once("connect", () => {
      sentAt = performance.now();
      socket.write(options.payload ?? "probe\n");
    });
    socket.once("data", () => finish());
    socket.once("error", (error) => finish(error));
    socket.once("end", () => finish(new Error("closed without an answer")));
  });
}

export interface RoundTrips {
  samples: number[];
  min: number;
  median: number;
  max: number;
}

/** `count` round trips one after the other, with their spread. */
export async function roundTrips(options: RoundTripOptions, count = 3): Promise<RoundTrips> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) samples.push(await roundTrip(options));
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples,
    min: sorted[0] as number,
    median: sorted[Math.floor(sorted.length / 2)] as number,
    max: sorted[sorted.length - 1] as number,
  };
}
