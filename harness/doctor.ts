// `paxos-harness doctor`: what this machine supports, one line per runtime and per nemesis
// kind of each runtime (the Docker runtime's when an engine answers), and why not where it
// does not. Informational: exits 0.

import { DOCKER_SOCKET, engineUnavailable } from "../docker/engine-ping.js";
import { delayMechanism } from "./relay/mechanism.js";
import { dockerCapabilities } from "./runtime/docker.js";
import { dockerDelayUnavailable } from "./runtime/docker-network.js";
import { powerUnavailable } from "./runtime/lazy-data.js";
import { LocalRuntime } from "./runtime/local.js";
import { NEMESIS_KINDS } from "./types.js";

export async function runDoctor(
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  const local = new LocalRuntime();
  const namespaces = await local.namespacesUnavailable();
  out(
    namespaces === undefined
      ? "runtime local: yes (nodes as processes, each in a network namespace of its own)"
      : `runtime local: yes (nodes as processes on 127.0.x.y; no network namespaces: ${namespaces})`,
  );
  const docker = await dockerEngine();
  out(`runtime docker: ${docker === undefined ? "yes" : `no: ${docker}`}`);
  const caps = await local.capabilities();
  for (const kind of NEMESIS_KINDS) {
    const cap = caps[kind];
    if (kind === "delay") {
      // Delay between local nodes comes from our relay (harness/relay/) on any kernel.
      const { mechanism, why } = await delayMechanism();
      out(`nemesis delay (local): yes: ${mechanism} (${why})`);
      continue;
    }
    out(`nemesis ${kind} (local): ${cap.ok ? "yes" : `no: ${cap.why}`}`);
  }
  // The Docker runtime's faults happen inside containers started through the engine, so they
  // need no root in the harness: only the engine, and what the images copy from this host.
  const dcaps =
    docker === undefined
      ? dockerCapabilities(await dockerDelayUnavailable(), await powerUnavailable())
      : undefined;
  for (const kind of NEMESIS_KINDS) {
    const cap = dcaps?.[kind] ?? { ok: false, why: `no Docker engine (${docker})` };
    out(`nemesis ${kind} (docker): ${cap.ok ? "yes" : `no: ${cap.why}`}`);
  }
  return 0;
}

/** Why no Docker engine answers, or undefined when one does. */
async function dockerEngine(): Promise<string | undefined> {
  const host = process.env.DOCKER_HOST;
  if (host !== undefined && host !== "" && !host.startsWith("unix://")) {
    return `DOCKER_HOST=${host} is not a unix socket; only local engines are supported`;
  }
  return engineUnavailable(DOCKER_SOCKET, 3000);
}
