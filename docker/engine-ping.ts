// Whether a Docker engine answers on its socket: used by `--runtime auto`, `doctor` and the
// engine set-up script. Kept apart from the set-up script so the CLI does not load zx.

import { existsSync } from "node:fs";
import { request } from "node:http";

/**
 * The engine's socket: DOCKER_HOST's when it names a unix socket (as the docker CLI and
 * dockerode read it), else the default.
 */
export const DOCKER_SOCKET = process.env.DOCKER_HOST?.startsWith("unix://")
  ? process.env.DOCKER_HOST.slice("unix://".length)
  : "/var/run/docker.sock";

/**
 * Why DOCKER_HOST names an engine the harness does not talk to (tcp://, ssh://: only a local
 * engine's unix socket), or undefined. dockerode would follow DOCKER_HOST while the ping
 * above checked the default socket, so such a DOCKER_HOST means no Docker runtime.
 */
export const DOCKER_HOST_UNSUPPORTED: string | undefined =
  process.env.DOCKER_HOST && !process.env.DOCKER_HOST.startsWith("unix://")
    ? `DOCKER_HOST=${process.env.DOCKER_HOST} is not a unix socket; only local engines are supported`
    : undefined;

/** Whether the engine answers GET /_ping on its socket. */
export async function engineAnswers(socket = DOCKER_SOCKET, timeoutMs = 2000): Promise<boolean> {
  return (await engineUnavailable(socket, timeoutMs)) === undefined;
}

/** Why the engine does not answer GET /_ping on its socket, or undefined when it does. */
export function engineUnavailable(
  socket = DOCKER_SOCKET,
  timeoutMs = 2000,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (!existsSync(socket)) return resolve(`no engine at ${socket}`);
    const req = request({ socketPath: socket, path: "/_ping", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(
        res.statusCode === 200
          ? undefined
          : `the engine at ${socket} answered ${res.statusCode} to /_ping`,
      );
    });
    req.on("timeout", () => req.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)));
    req.on("error", (e) => resolve(`the engine at ${socket} does not answer: ${e.message}`));
    req.end();
  });
}
