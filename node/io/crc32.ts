// CRC-32 (IEEE 802.3, the polynomial of zlib and gzip) for log frames. Node has zlib.crc32
// only from 20.15 / 22.2; package.json allows any Node 20, so older ones get the table version.
import * as zlib from "node:zlib";

type Crc32 = (data: Uint8Array) => number;

let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** The table-driven fallback; exported so tests can compare it with zlib's. */
export function crc32Table(data: Uint8Array): number {
  table ??= makeTable();
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// Looked up through an optional view because @types/node 20 declares crc32 whatever the runtime.
const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

export const crc32: Crc32 = typeof native === "function" ? (d) => native(d) >>> 0 : crc32Table;
