// The nodes' data folders seen through lazyfs (harness/lazyfs/), for the power nemesis: each
// node writes into a lazy view of its data folder, which keeps what was not fsynced in the
// daemon's memory, so a power failure (SIGKILL, then loseUnsynced) loses exactly that, as a
// machine losing power does. SIGKILL alone cannot: the kernel's page cache survives a process.
//
// The data stays where it always is (the run's data/<id>, the backing folder); the view is
// mounted beside it at data/<id>.lazy, which the node is given as its data folder. Unmounting
// writes back what is still unsynced (a clean shutdown) and removes the empty mountpoint.

import { rmdir } from "node:fs/promises";
import { lazyFsUnavailable } from "../lazyfs/build.js";
import { type LazyFs, lazyFsTag, mountLazyFs, sweepLazyFsMounts } from "../lazyfs/mount.js";
import type { LostWrites, NodeId, RunContext } from "../types.js";

/**
 * How long each fsync through a lazy view takes (ms): a disk's flush, as on a busy SSD or a
 * network disk. It is the window in which a power failure loses a write that a program has
 * issued but not yet seen synced; with an instant flush that window is too small for a node
 * that answers before its write is durable to be caught (measured: 0 of 2 such mutants in 60
 * power cuts without it).
 */
export const SYNC_DELAY_MS = 10;

export class LazyData {
  private readonly mounts = new Map<NodeId, LazyFs>();

  /** Mounts the lazy view of `dataDir` for `id`; returns the folder the node must use. */
  async mount(id: NodeId, dataDir: string): Promise<string> {
    const fs = await mountLazyFs({
      backing: dataDir,
      mountpoint: `${dataDir}.lazy`,
      tag: lazyFsTag(id),
      syncDelayMs: SYNC_DELAY_MS,
    });
    this.mounts.set(id, fs);
    return fs.mountpoint;
  }

  /** Drops what `id` wrote and did not fsync (its process must be dead). */
  async loseUnsynced(id: NodeId): Promise<LostWrites> {
    const fs = this.mounts.get(id);
    if (fs === undefined) throw new Error(`power ${id}: its data folder is not a lazyfs mount`);
    const { files, bytes } = await fs.loseUnsynced();
    return { files, bytes };
  }

  /** Unmounts every view (the nodes must have stopped); throws naming those that failed. */
  async unmountAll(): Promise<void> {
    const failed: string[] = [];
    for (const [id, fs] of this.mounts) {
      try {
        await fs.unmount();
        // Not recursive: were it still mounted, rm -r would delete the data through it.
        await rmdir(fs.mountpoint);
        this.mounts.delete(id);
      } catch (error) {
        failed.push(`${id}: ${(error as Error).message}`);
      }
    }
    if (failed.length > 0) throw new Error(`lazyfs unmount: ${failed.join("; ")}`);
  }
}

/** Why the power fault cannot be had here: lazyfs needs root, /dev/fuse and its build tools. */
export async function powerUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) {
    return "power needs root (each node's data folder becomes a FUSE mount of ours, lazyfs)";
  }
  return lazyFsUnavailable();
}

/**
 * A power failure of `id` (both runtimes): `kill` ends its process, then what it wrote and did
 * not fsync is dropped. `lazy` is undefined when the run did not ask for power faults.
 */
export async function powerOffThrough(
  lazy: LazyData | undefined,
  id: NodeId,
  kill: () => Promise<void>,
): Promise<LostWrites> {
  if (lazy === undefined) {
    throw new Error(`power ${id}: the run did not ask for power faults (no lazyfs mounts)`);
  }
  await kill();
  return lazy.loseUnsynced(id);
}

/** At a run's start, once the leftovers' nodes are gone: the lazyfs mounts of dead owners. */
export async function sweepDeadLazyMounts(log: RunContext["log"]): Promise<void> {
  const swept = await sweepLazyFsMounts().catch(() => undefined);
  if (swept !== undefined && swept.mounts.length > 0) {
    log("removed lazyfs mounts of an earlier run", { mounts: swept.mounts });
  }
}
