// Mounting a lazyfs: a folder whose file data, written through the mount, stays in the daemon's
// memory until fsynced, and is dropped by loseUnsynced() (a power loss). The daemon runs in the
// foreground as our child, in a process group of its own (a Ctrl-C to the harness must not
// make it unmount under running nodes); the harness unmounts it, or a later run's
// sweepLazyFsMounts() does when the harness died.
//
//   const fs = await mountLazyFs({ backing, mountpoint, tag: lazyFsTag("n1") });
//   ...                    // the node's data folder is under fs.mountpoint
//   await fs.loseUnsynced() // after killing the node: what it wrote and did not fsync is gone
//   await fs.unmount()      // writes everything back, waits for the daemon to exit

import { type ChildProcess, spawn } from "node:child_process";
import { realpathSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import type { Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { waitGone } from "../runtime/procfs.js";
import { buildLazyFs } from "./build.js";
import { ControlChannel, type LazyFsCounts } from "./control-channel.js";
import { type FuseMount, fuseMounts, isLazyFsTag, unmountFuse } from "./mounts.js";

export type { LazyFsCounts } from "./control-channel.js";
export { fuseMounts, lazyFsTag, ownerOfTag } from "./mounts.js";
export { sweepLazyFsMounts } from "./sweep.js";

export interface LazyFsOptions {
  /** Where the durable bytes live (made if missing). */
  backing: string;
  /** Where the lazy view is mounted (made if missing). */
  mountpoint: string;
  /** The mount's fsname, from lazyFsTag(): names the owner, so leftovers can be swept. */
  tag: string;
  /** Milliseconds to wait for the mount to appear, and for the daemon to exit at unmount. */
  timeoutMs?: number;
  /**
   * Milliseconds every fsync takes before it writes back (a disk's flush time: the window in
   * which a power loss takes what was written but not yet synced). Default 0.
   */
  syncDelayMs?: number;
}

export interface LazyFs {
  /** The daemon's PID (our child). */
  pid: number;
  /** The mountpoint's real path (as /proc/self/mountinfo lists it). */
  mountpoint: string;
  backing: string;
  tag: string;
  /** Drops every unsynced write and truncate, of every file; resolves once it has happened. */
  loseUnsynced(): Promise<LazyFsCounts>;
  /** Writes every file's unsynced state back and fsyncs it. */
  syncAll(): Promise<LazyFsCounts>;
  /** What is unsynced now. */
  status(): Promise<LazyFsCounts>;
  /**
   * Unmounts (writing everything back) and waits for the daemon to exit. Rejects, having
   * killed the daemon, when it does not exit in time (stop the mount's users first), and
   * when it could not write everything back (a full backing disk: that data is lost).
   */
  unmount(): Promise<void>;
}

/** How many of the daemon's last stderr lines are kept, for the error of a failed mount. */
const STDERR_LINES = 10;

export async function mountLazyFs(options: LazyFsOptions): Promise<LazyFs> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!isLazyFsTag(options.tag)) {
    throw new Error(`lazyfs: the tag ${JSON.stringify(options.tag)} is not one of lazyFsTag()'s`);
  }
  const syncDelayMs = options.syncDelayMs ?? 0;
  // The daemon reads it as unsigned: -1 would make every fsync sleep for 49 days.
  if (!Number.isFinite(syncDelayMs) || syncDelayMs < 0 || syncDelayMs > 60_000) {
    throw new Error(`lazyfs: syncDelayMs ${syncDelayMs} is not a delay of 0 to 60000 ms`);
  }
  const binary = await buildLazyFs();
  await mkdir(options.backing, { recursive: true });
  await mkdir(options.mountpoint, { recursive: true });
  const backing = realpathSync(options.backing);
  const mountpoint = realpathSync(options.mountpoint);
  const before = fuseMounts().filter((m) => m.mountpoint === mountpoint);
  if (before.some((m) => isLazyFsTag(m.source))) {
    throw new Error(`lazyfs: ${mountpoint} is already a lazyfs mount (${before[0]?.source})`);
  }
  // The control FIFOs live outside the mount, in a folder named after the tag (for the sweep).
  const controlDir = await mkdtemp(path.join(os.tmpdir(), `${options.tag}.`));
  const commandFifo = path.join(controlDir, "control");
  const replyFifo = path.join(controlDir, "reply");
  const child = spawn(
    binary,
    [
      `--backing=${backing}`,
      `--control=${commandFifo}`,
      `--reply=${replyFifo}`,
      `--sync-delay-ms=${Math.round(syncDelayMs)}`,
      "-o",
      `allow_other,default_permissions,fsname=${options.tag}`,
      mountpoint,
    ],
    { stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  const daemon = watch(child);
  const earlier = new Set(before.map((m) => m.id));
  let mount: FuseMount;
  try {
    mount = await waitForMount(mountpoint, options.tag, earlier, daemon, timeoutMs);
  } catch (error) {
    if (daemon.exit === undefined) child.kill("SIGKILL");
    await Promise.race([daemon.exited, new Promise((r) => setTimeout(r, 5000))]);
    // Only a mount it made (it may have made one just before it was killed): whatever else
    // is mounted there is not ours to remove.
    const made = fuseMounts().find((m) => isOurs(m, mountpoint, options.tag, earlier));
    if (made !== undefined) await unmountFuse(mountpoint).catch(() => {});
    await rm(controlDir, { recursive: true, force: true });
    throw error;
  }
  const channel = new ControlChannel(commandFifo, replyFifo);
  daemon.exited.then(() => channel.close(`the daemon at ${mountpoint} exited`));
  let unmounting: Promise<void> | undefined;
  return {
    pid: child.pid!,
    mountpoint,
    backing,
    tag: options.tag,
    loseUnsynced: () => channel.send("lose-unsynced"),
    syncAll: () => channel.send("sync-all"),
    status: () => channel.send("status"),
    unmount() {
      unmounting ??= unmount(mount, child, daemon, channel, controlDir, timeoutMs);
      return unmounting;
    },
  };
}

interface Daemon {
  /** Set once the daemon has exited. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  exited: Promise<void>;
  stderr: string[];
}

function watch(child: ChildProcess): Daemon {
  const daemon: Daemon = { exit: undefined, exited: Promise.resolve(), stderr: [] };
  let partial = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    daemon.stderr.push(...lines.filter((l) => l.trim() !== ""));
    daemon.stderr.splice(0, Math.max(0, daemon.stderr.length - STDERR_LINES));
  });
  // Neither the daemon nor its stderr keeps the harness alive; unmount() waits for it.
  (child.stderr as Socket | null)?.unref?.();
  child.unref();
  daemon.exited = new Promise((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      daemon.exit ??= { code, signal };
      resolve();
    };
    child.on("exit", done);
    child.on("error", (error) => {
      daemon.stderr.push(error.message);
      done(null, null);
    });
  });
  return daemon;
}

function lastWords(daemon: Daemon): string {
  return (
    daemon.stderr.at(-1) ?? (daemon.exit ? `exit ${daemon.exit.code ?? daemon.exit.signal}` : "")
  );
}

/** Whether `m` is the mount of this tag at this place that was not there before. */
function isOurs(m: FuseMount, mountpoint: string, tag: string, earlier: Set<number>): boolean {
  return m.mountpoint === mountpoint && m.source === tag && !earlier.has(m.id);
}

/** Resolves with the new FUSE mount of this tag at the mountpoint, once mountinfo lists it. */
async function waitForMount(
  mountpoint: string,
  tag: string,
  earlier: Set<number>,
  daemon: Daemon,
  timeoutMs: number,
): Promise<FuseMount> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mounted = fuseMounts().find((m) => isOurs(m, mountpoint, tag, earlier));
    if (mounted !== undefined) return mounted;
    if (daemon.exit !== undefined) {
      throw new Error(
        `lazyfs: the daemon exited before mounting ${mountpoint}: ${lastWords(daemon)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `lazyfs: ${mountpoint} not mounted after ${timeoutMs} ms: ${lastWords(daemon)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function unmount(
  mount: FuseMount,
  child: ChildProcess,
  daemon: Daemon,
  channel: ControlChannel,
  controlDir: string,
  timeoutMs: number,
): Promise<void> {
  const { mountpoint } = mount;
  try {
    // Ours only (a dead daemon's mount too): not whatever else is mounted there now.
    const ours = (m: FuseMount) =>
      m.id === mount.id && m.mountpoint === mountpoint && m.source === mount.source;
    if (fuseMounts().some(ours)) await unmountFuse(mountpoint);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((r) => {
      timer = setTimeout(() => r("late"), timeoutMs);
    });
    const outcome = await Promise.race([daemon.exited, late]);
    clearTimeout(timer);
    if (outcome === "late") {
      child.kill("SIGKILL");
      await waitGone(child.pid!, 5000);
      throw new Error(
        `lazyfs: the daemon at ${mountpoint} did not exit within ${timeoutMs} ms of its unmount ` +
          "(a user of the mount still running?): killed, its unsynced data lost",
      );
    }
    const exit = daemon.exit;
    if (exit !== undefined && exit.code !== 0) {
      throw new Error(
        `lazyfs: the daemon at ${mountpoint} exited with ${exit.code ?? exit.signal}: ${lastWords(daemon)}`,
      );
    }
  } finally {
    channel.close("unmounted");
    await rm(controlDir, { recursive: true, force: true });
  }
}
