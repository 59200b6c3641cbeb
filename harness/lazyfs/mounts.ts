// Our FUSE mounts as the kernel lists them (/proc/self/mountinfo), the owner tag that names
// each one (its fsname), and unmounting one. The tag carries the owning harness's PID and
// start time, so a later run tells a dead owner's leftover from a live run's mount.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { processIdentity } from "../runtime/procfs.js";

const run = promisify(execFile);

export const LAZYFS_TAG_PREFIX = "paxos-lazyfs-";
const TAG = /^paxos-lazyfs-(\d+)-(\d+)(-[A-Za-z0-9_.-]+)?$/;

export interface TagOwner {
  pid: number;
  startTime: string;
}

/**
 * The fsname of a mount owned by `ownerPid` (default: this process):
 * `paxos-lazyfs-<pid>-<start time>`, then `-<name>` when given (a node's id, say).
 */
export function lazyFsTag(name?: string, ownerPid = process.pid): string {
  const startTime = processIdentity(ownerPid)?.startTime ?? "0";
  const tag = `${LAZYFS_TAG_PREFIX}${ownerPid}-${startTime}${name ? `-${name}` : ""}`;
  if (!TAG.test(tag))
    throw new Error(`lazyfs: the name ${JSON.stringify(name)} is not [A-Za-z0-9_.-]+`);
  return tag;
}

/** The owner a tag names, or undefined when it is not one of ours. */
export function ownerOfTag(tag: string): TagOwner | undefined {
  const m = TAG.exec(tag);
  return m ? { pid: Number(m[1]), startTime: m[2]! } : undefined;
}

export function isLazyFsTag(tag: string): boolean {
  return TAG.test(tag);
}

export interface FuseMount {
  /** The kernel's mount ID (field 1): a new mount at the same place has a new one. */
  id: number;
  /** major:minor; for FUSE the minor is the connection's number in /sys/fs/fuse/connections. */
  device: string;
  mountpoint: string;
  fstype: string;
  /** The fsname: our tag. */
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
const unescapeOctal = (field: string) =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );

/** The FUSE mounts this process sees. */
export function fuseMounts(): FuseMount[] {
  const out: FuseMount[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [before, after] = line.split(" - ");
    if (before === undefined || after === undefined) continue;
    const fields = before.split(" ");
    const [fstype, source] = after.split(" ");
    if (fstype === undefined || source === undefined || !fstype.startsWith("fuse")) continue;
    out.push({
      id: Number(fields[0]),
      device: fields[2] ?? "",
      mountpoint: unescapeOctal(fields[4] ?? ""),
      fstype,
      source: unescapeOctal(source),
    });
  }
  return out;
}

/**
 * Whether another mount (of any kind) sits on top of `mount` at its mountpoint: an unmount
 * of that path would take the one on top, which is not ours.
 */
export function isCovered(mount: FuseMount): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => {
      const fields = line.split(" ");
      return fields[1] === String(mount.id) && unescapeOctal(fields[4] ?? "") === mount.mountpoint;
    });
}

/**
 * Unmounts a FUSE mount: `fusermount3 -u`, or a lazy `umount -l` when it is busy (the mount
 * leaves the namespace now, the daemon ends when its last file closes). Rejects with one line
 * when both fail.
 */
export async function unmountFuse(mountpoint: string): Promise<void> {
  const first = await run("fusermount3", ["-u", mountpoint]).then(
    () => undefined,
    (e: { stderr?: string; message: string }) => (e.stderr || e.message).trim(),
  );
  if (first === undefined) return;
  const second = await run("umount", ["-l", mountpoint]).then(
    () => undefined,
    (e: { stderr?: string; message: string }) => (e.stderr || e.message).trim(),
  );
  if (second !== undefined) {
    throw new Error(
      `lazyfs: cannot unmount ${mountpoint}: ${first.split("\n")[0]}; ${second.split("\n")[0]}`,
    );
  }
}
