// Makes sure a Docker engine answers on /var/run/docker.sock: installs Debian's docker.io and
// iptables when dockerd is missing, starts dockerd in the background when it is not running
// (removing a stale pid file first), waits for the socket. Does nothing when all is in place.
// Used by .ci/run and the README (`npm run docker:engine`). Exit 0 when the engine answers.

import { existsSync, readFileSync, rmSync } from "node:fs";
import { $, sleep } from "zx";
import { engineAnswers } from "./engine-ping.js";

const SOCKET = "/var/run/docker.sock";
const PID_FILE = "/var/run/docker.pid";
const LOG = "/var/log/paxos-harness-dockerd.log";
const WAIT_MS = 60_000;

$.verbose = false;

function say(line: string): void {
  process.stdout.write(`docker-engine: ${line}\n`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid in dockerd's pid file, if that process is alive and is dockerd. */
function runningDockerd(): number | undefined {
  if (!existsSync(PID_FILE)) return undefined;
  const pid = Number(readFileSync(PID_FILE, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return undefined;
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    return comm === "dockerd" ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function install(): Promise<void> {
  if ((await $`id -u`).stdout.trim() !== "0") {
    throw new Error(
      "dockerd is not installed, and installing it needs root (apt-get install docker.io iptables)",
    );
  }
  say("installing docker.io and iptables from Debian's packages");
  await $`apt-get update -qq`;
  await $({
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  })`apt-get install -y -qq --no-install-recommends docker.io iptables`;
}

async function main(): Promise<void> {
  if (await engineAnswers()) {
    say("engine answers; nothing to do");
    return;
  }
  if ((await $`command -v dockerd`.nothrow()).exitCode !== 0) await install();

  const running = runningDockerd();
  if (running === undefined) {
    // A dockerd that died leaves its pid file behind, and a new one refuses to start.
    if (existsSync(PID_FILE)) {
      say(`removing stale ${PID_FILE}`);
      rmSync(PID_FILE, { force: true });
    }
    say(`starting dockerd (log: ${LOG})`);
    // Detached, so that it outlives this script; never a second one (it would delete docker0).
    await $`nohup dockerd --host unix://${SOCKET} >>${LOG} 2>&1 &`;
  } else {
    say(`dockerd ${running} is running; waiting for its socket`);
  }

  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (await engineAnswers()) {
      const version = (
        await $`docker version --format {{.Server.Version}}`.nothrow()
      ).stdout.trim();
      say(`engine answers (server ${version || "unknown version"})`);
      return;
    }
    await sleep(250);
  }
  const tail = existsSync(LOG) ? readFileSync(LOG, "utf8").split("\n").slice(-15).join("\n") : "";
  throw new Error(`the engine did not answer on ${SOCKET} within ${WAIT_MS / 1000} s\n${tail}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`docker-engine: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(3);
  });
}
