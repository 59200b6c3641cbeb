// Who a PID is, from /proc: so that a process we started is recognized later (by a later run,
// after a crash) and a reused PID is never mistaken for it.

import { readFileSync } from "node:fs";

export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot; fixed for the life of a process. */
  startTime: string;
  /** /proc/<pid>/cmdline, NUL-separated words joined with spaces. */
  cmdline: string;
}

/** The identity of a live (non-zombie) process, or undefined when there is none. */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: parse after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const state = rest[0];
    if (state === "Z" || state === "X") return undefined;
    const startTime = rest[19];
    if (startTime === undefined) return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+$/, "").split("\0");
    return { pid, startTime, cmdline: cmdline.join(" ") };
  } catch {
    return undefined;
  }
}

/**
 * Whether this PID is still the very process recorded: the same start time (a reused PID has
 * another). Not the command line: it changes at exec (`ip netns exec` execs the node), the
 * start time does not.
 */
export function isSameProcess(recorded: Pick<ProcessIdentity, "pid" | "startTime">): boolean {
  return processIdentity(recorded.pid)?.startTime === recorded.startTime;
}

/**
 * What the kernel says of a process: running (or sleeping, in disk wait...), stopped (T, t:
 * SIGSTOP or a tracer), or gone (no such process, a zombie, or another process on that PID).
 */
export function processState(
  recorded: Pick<ProcessIdentity, "pid" | "startTime">,
): "running" | "stopped" | "gone" {
  try {
    const stat = readFileSync(`/proc/${recorded.pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (rest[19] !== recorded.startTime) return "gone";
    const state = rest[0];
    if (state === "Z" || state === "X" || state === "x") return "gone";
    return state === "T" || state === "t" ? "stopped" : "running";
  } catch {
    return "gone";
  }
}

/**
 * A process in one string, `<pid>:<start time>` (the Docker runtime's owner label); "?" for
 * the start time when there is no such process.
 */
export function ownerTag(pid: number): string {
  return `${pid}:${processIdentity(pid)?.startTime ?? "?"}`;
}

/** Whether the process an ownerTag() names is still running (same PID, same start time). */
export function ownerAlive(tag: string | undefined): boolean {
  const [pid, startTime] = (tag ?? "").split(":");
  if (!pid || !startTime || startTime === "?") return false;
  return processIdentity(Number(pid))?.startTime === startTime;
}

/** Whether a process with this PID exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return processIdentity(pid) !== undefined;
}

/** Resolves once the PID is gone (or a zombie), or after timeoutMs; true if it is gone. */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
