// Clock skew with libfaketime (Debian's `libfaketime`), for both runtimes.
//
// Every node starts with the library preloaded and reads its offset from a file of its own,
// `<run dir>/clock/<id>` (bind-mounted at /clock/<id> in a container), holding "+0" until a
// skew writes e.g. "+7.250s" or "-30s" there.
// FAKETIME_CACHE_DURATION=1 makes a running process re-read the file every second, and
// FAKETIME_DONT_FAKE_MONOTONIC=1 leaves monotonic clocks alone (performance.now(), timers),
// so only the wall clock (Date.now()) moves. Checked on this machine kind: a node shifted by
// "+7200s" reported Date.now() 7 200 000 ms ahead within a second; fractions ("-30.5s") work.

import { access, mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ClockFaults, NodeId } from "../types.js";

/** Where distributions put the multi-threaded variant (node is multi-threaded). */
export const FAKETIME_LIBRARIES = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
  "/usr/lib/faketime/libfaketimeMT.so.1",
  "/usr/local/lib/faketime/libfaketimeMT.so.1",
];

export const NO_FAKETIME =
  "clock needs libfaketime (libfaketimeMT.so.1), which is not installed (apt-get install libfaketime)";

/** The library's path, or undefined when it is not installed. */
export async function findFaketime(): Promise<string | undefined> {
  for (const file of FAKETIME_LIBRARIES) {
    try {
      await access(file);
      return file;
    } catch {}
  }
  return undefined;
}

/** libfaketime's relative offset syntax: "+0", "+7.250s", "-30s". */
export function formatOffset(offsetMs: number): string {
  if (!Number.isFinite(offsetMs)) throw new Error(`clock offset ${offsetMs} ms is not a number`);
  if (offsetMs === 0) return "+0";
  const seconds = (Math.abs(offsetMs) / 1000).toFixed(3).replace(/\.?0+$/, "");
  return `${offsetMs < 0 ? "-" : "+"}${seconds}s`;
}

/**
 * The environment that makes a node read its offset from `timestampFile` (the path as the node
 * sees it), with the library preloaded before any `inherited` LD_PRELOAD.
 */
export function faketimeEnv(
  library: string,
  timestampFile: string,
  inherited?: string,
): Record<string, string> {
  return {
    LD_PRELOAD: inherited ? `${library}:${inherited}` : library,
    FAKETIME_TIMESTAMP_FILE: timestampFile,
    FAKETIME_CACHE_DURATION: "1",
    FAKETIME_DONT_FAKE_MONOTONIC: "1",
  };
}

/** The offset files of a cluster's nodes, under <run dir>/clock/, written atomically. */
export class FaketimeClock implements ClockFaults {
  private dir: string | undefined;
  private ids: NodeId[] = [];

  /** `library` undefined: not installed; every skew rejects saying so. */
  constructor(readonly library: string | undefined) {}

  /** Writes "+0" for every node; call before spawning them. */
  async prepare(runDir: string, ids: readonly NodeId[]): Promise<void> {
    if (this.library === undefined) return;
    this.dir = path.join(runDir, "clock");
    this.ids = [...ids];
    await mkdir(this.dir, { recursive: true });
    for (const id of ids) await this.write(id, 0);
  }

  /** The environment a local process starts with, or {} without the library. */
  env(id: NodeId, inherited: string | undefined = process.env.LD_PRELOAD): Record<string, string> {
    if (this.library === undefined || this.dir === undefined) return {};
    return faketimeEnv(this.library, this.file(id), inherited);
  }

  async skew(node: NodeId, offsetMs: number): Promise<void> {
    if (this.library === undefined) throw new Error(NO_FAKETIME);
    if (this.dir === undefined || !this.ids.includes(node)) {
      throw new Error(`clock: no node ${node} in this cluster`);
    }
    await this.write(node, offsetMs);
  }

  async reset(): Promise<void> {
    if (this.library === undefined || this.dir === undefined) return;
    for (const id of this.ids) await this.write(id, 0);
  }

  private file(id: NodeId): string {
    return path.join(this.dir as string, id);
  }

  /** Write-then-rename, so the library never reads a half-written file. */
  private async write(id: NodeId, offsetMs: number): Promise<void> {
    const file = this.file(id);
    await writeFile(`${file}.tmp`, `${formatOffset(offsetMs)}\n`);
    await rename(`${file}.tmp`, file);
  }
}
