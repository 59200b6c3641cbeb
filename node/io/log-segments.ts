// The log on disk: a sequence of segment files in one directory, replayed oldest first. A new
// segment is only ever created once every write to the one before it is durable, so a crash can
// tear only the newest segment's tail; a bad frame anywhere else is corruption.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeRecords } from "./log-records.js";

const NUMBERED = /^log\.(\d+)$/;

/**
 * Segment 0 keeps the name of the previous version's single file, so its data dirs open as they
 * are (and a log that never compacted still looks the same). Later numbers are zero-padded so
 * that a directory listing sorts in replay order too.
 */
export function segmentName(n: number): string {
  return n === 0 ? "log" : `log.${String(n).padStart(8, "0")}`;
}

/** The segment numbers present in `dir`, oldest first. */
export async function listSegments(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir(dir)) {
    if (name === "log") found.push(0);
    const m = NUMBERED.exec(name);
    if (m) found.push(Number(m[1]));
  }
  return found.sort((a, b) => a - b);
}

export class CorruptLogError extends Error {
  override readonly name = "CorruptLogError";
}

export interface ReadSegment {
  n: number;
  records: unknown[];
  /** Where the torn tail begins (the newest segment only; the others are whole). */
  validBytes: number;
  bytes: number;
}

/**
 * Reads and decodes `segments` (oldest first). Dropping a bad frame in an older segment would
 * silently lose records that were reported durable, and everything after them: refuse instead.
 */
export async function readSegments(
  dir: string,
  segments: readonly number[],
  maxRecordBytes: number,
): Promise<ReadSegment[]> {
  const out: ReadSegment[] = [];
  for (const [i, n] of segments.entries()) {
    const path = join(dir, segmentName(n));
    const data = await readFile(path);
    const { records, validBytes } = decodeRecords(data, maxRecordBytes);
    if (validBytes < data.length && i < segments.length - 1) {
      throw new CorruptLogError(
        `${path}: bad frame at byte ${validBytes} of ${data.length}, in a segment that a newer ` +
          "one follows (so it was synced whole): the log is corrupt, refusing to open it",
      );
    }
    out.push({ n, records, validBytes, bytes: data.length });
  }
  return out;
}
