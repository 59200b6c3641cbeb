// What a harness that died (SIGKILL, a crash) leaves of its lazyfs mounts, and how a later run,
// whatever its --store, removes it: the mounts whose fsname tag names a dead owner, their
// daemons, and their control folders. A live owner's mounts (a run side by side) are left be.
//
// A daemon is ours when its command line is our lazyfs binary's with `fsname=<our tag>`; it is
// ended by PID, verified by its start time, and only if it does not exit once unmounted.

import { readdirSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  isSameProcess,
  type ProcessIdentity,
  processIdentity,
  waitGone,
} from "../runtime/procfs.js";
import {
  fuseMounts,
  isCovered,
  LAZYFS_TAG_PREFIX,
  ownerOfTag,
  type TagOwner,
  unmountFuse,
} from "./mounts.js";

export interface LazyFsLeftovers {
  /** Mountpoints unmounted. */
  mounts: string[];
  /** Daemons that had to be killed (they did not exit after the unmount). */
  killed: number[];
  /** Control folders removed. */
  dirs: string[];
}

const liveOwner = (owner: TagOwner) => isSameProcess(owner);

/**
 * Unmounts every lazyfs mount whose owner is dead (by default: its PID is gone, or is another
 * process now), ends its daemon if it does not exit, and removes the control folders of dead
 * owners. `isOwnerAlive` decides which owners count as alive (tests narrow it to their own).
 */
export async function sweepLazyFsMounts(
  isOwnerAlive: (owner: TagOwner) => boolean = liveOwner,
): Promise<LazyFsLeftovers> {
  const out: LazyFsLeftovers = { mounts: [], killed: [], dirs: [] };
  const dead = (tag: string) => {
    const owner = ownerOfTag(tag);
    return owner !== undefined && !isOwnerAlive(owner);
  };
  // A mount something else covers is left, and its daemon with it: unmounting its path would
  // take the mount on top. A later sweep, once it is uncovered, removes it.
  const covered = new Set<string>();
  for (const mount of fuseMounts()) {
    if (!dead(mount.source)) continue;
    if (isCovered(mount)) {
      covered.add(mount.source);
      continue;
    }
    try {
      await unmountFuse(mount.mountpoint);
      out.mounts.push(mount.mountpoint);
    } catch {
      // Gone meanwhile, or not ours to unmount: the daemon below still goes.
    }
  }
  const daemons = lazyFsDaemons().filter((d) => dead(d.tag) && !covered.has(d.tag));
  for (const d of daemons) {
    if (await waitGone(d.pid, 5000)) continue;
    if (!isSameProcess(d)) continue;
    try {
      process.kill(d.pid, "SIGKILL");
      out.killed.push(d.pid);
    } catch {}
  }
  for (const pid of out.killed) await waitGone(pid, 5000);
  const tmp = os.tmpdir();
  for (const name of readdirSync(tmp)) {
    if (!name.startsWith(LAZYFS_TAG_PREFIX)) continue;
    const tag = name.slice(0, name.lastIndexOf(".") > 0 ? name.lastIndexOf(".") : undefined);
    if (!dead(tag) || covered.has(tag)) continue;
    await rm(path.join(tmp, name), { recursive: true, force: true });
    out.dirs.push(path.join(tmp, name));
  }
  return out;
}

interface Daemon extends ProcessIdentity {
  tag: string;
}

/** Running lazyfs daemons, found by their command line (argv[0] .../lazyfs, an fsname tag). */
function lazyFsDaemons(): Daemon[] {
  const out: Daemon[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (path.basename(argv[0] ?? "") !== "lazyfs") continue;
    const tag = argv
      .flatMap((a) => a.split(","))
      .find((o) => o.startsWith(`fsname=${LAZYFS_TAG_PREFIX}`))
      ?.slice("fsname=".length);
    const identity = processIdentity(Number(entry));
    if (tag !== undefined && identity !== undefined) out.push({ ...identity, tag });
  }
  return out;
}
