// `paxos-harness serve [DIR] [--port N]`: the store browser (server.ts) on 127.0.0.1 only,
// never a wider address: the store holds logs and histories, and this is a local tool. It
// prints its URL and serves until Ctrl-C (exit 0). A folder that is not there, a bad port or
// one in use: one line, exit 3.

import { statSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Command } from "commander";
import { EXIT, type ExitCode, UsageError } from "../exit.js";
import { createStoreServer } from "./server.js";

/** The only address the browser binds. */
export const SERVE_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8080;

export function registerServeCommand(
  program: Command,
  description: string,
  done: (code: ExitCode) => void,
): void {
  program
    .command("serve")
    .description(description)
    .argument("[dir]", "the store to browse (default: store)")
    .option("--port <n>", `the port on ${SERVE_HOST} (default ${DEFAULT_PORT}; 0: any free one)`)
    .action(async (dir: string | undefined, opts: { port?: string }) => {
      done(await runServeCommand(dir ?? "store", opts.port));
    });
}

export async function runServeCommand(
  dir: string,
  portText: string | undefined,
): Promise<ExitCode> {
  const port = portOf(portText);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    throw new UsageError(`${dir}: cannot serve it (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  if (!isDir) throw new UsageError(`${dir}: not a folder (serve takes a store's folder)`);
  const server = createStoreServer(dir);
  const address = await listenLocal(server, port);
  process.stdout.write(
    `serving ${dir} at http://${SERVE_HOST}:${address.port}/ (Ctrl-C to stop)\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return EXIT.ok;
}

/** Listens on 127.0.0.1:port; a port in use or not ours to take is a UsageError. */
export function listenLocal(server: Server, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why =
        err.code === "EADDRINUSE"
          ? `${SERVE_HOST}:${port} is in use (--port 0 takes any free port)`
          : `cannot listen on ${SERVE_HOST}:${port} (${err.code ?? err.message})`;
      reject(new UsageError(`--port ${port}: ${why}`));
    };
    server.once("error", onError);
    server.listen({ port, host: SERVE_HOST, exclusive: true }, () => {
      server.off("error", onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

function portOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT;
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new UsageError(`--port: '${text}' is not a port (0 to 65535; 0: any free one)`);
  }
  return n;
}
