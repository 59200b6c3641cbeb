// The log's record frames: [u32 BE length][u32 BE crc32 of the JSON bytes][JSON bytes].
// Decoding keeps the longest valid prefix: the first bad frame (short header, short body, CRC
// mismatch, unparsable JSON) is where a torn tail begins.
import { crc32 } from "node:zlib";

const HEADER_BYTES = 8;
/**
 * A length above this is corruption, not a record (the transport's frame limit is 64 MiB). The
 * writer refuses a larger record, so recovery never cuts a record that was really written.
 */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export class RecordTooLargeError extends Error {
  override readonly name = "RecordTooLargeError";
}

export function encodeRecord(record: unknown, maxRecordBytes = MAX_RECORD_BYTES): Buffer {
  const json = JSON.stringify(record);
  if (json === undefined) throw new TypeError("a log record must be JSON-serializable");
  const body = Buffer.from(json, "utf8");
  if (body.length > maxRecordBytes) {
    const kind = (record as { type?: unknown })?.type;
    throw new RecordTooLargeError(
      `a log record${typeof kind === "string" ? ` (${kind})` : ""} of ${body.length} bytes ` +
        `exceeds the ${maxRecordBytes}-byte limit that recovery enforces: refused, not written`,
    );
  }
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.writeUInt32BE(crc32(body), 4);
  body.copy(frame, HEADER_BYTES);
  return frame;
}

/** Parses frames until the first bad one; `validBytes` is where the torn tail begins. */
export function decodeRecords(
  data: Buffer,
  maxRecordBytes = MAX_RECORD_BYTES,
): { records: unknown[]; validBytes: number } {
  const records: unknown[] = [];
  let at = 0;
  while (data.length - at >= HEADER_BYTES) {
    const length = data.readUInt32BE(at);
    const end = at + HEADER_BYTES + length;
    if (length > maxRecordBytes || end > data.length) break;
    const body = data.subarray(at + HEADER_BYTES, end);
    if (crc32(body) !== data.readUInt32BE(at + 4)) break;
    try {
      records.push(JSON.parse(body.toString("utf8")));
    } catch {
      break;
    }
    at = end;
  }
  return { records, validBytes: at };
}
