// Whether libfaketime can reach a program. The library is preloaded by the dynamic loader
// (LD_PRELOAD) and wraps libc's clock calls, so it cannot reach:
// - a statically linked executable: no PT_INTERP program header, no loader, nothing preloaded;
// - a Go program, even a dynamically linked one: Go's runtime reads the clock through the vDSO
//   itself, never through libc (its binaries have a .go.buildinfo section).
// A script (#!) is judged by its interpreter.

import { closeSync, openSync, readSync, statSync } from "node:fs";
import path from "node:path";

const PT_INTERP = 3;

/** Why libfaketime cannot shift this program's clock, or undefined when it can. */
export function faketimeUnreachable(command: string, depth = 0): string | undefined {
  const file = resolveProgram(command);
  if (file === undefined) return `the node program ${command} is not found on PATH`;
  const head = readAt(file, 0, 64);
  if (head === undefined) return `the node program ${file} cannot be read`;
  if (head[0] === 0x23 && head[1] === 0x21 && depth < 4) {
    const line = (readAt(file, 0, 256) ?? head).toString("latin1").split("\n")[0] ?? "";
    const [interpreter, arg] = line.slice(2).trim().split(/\s+/);
    const next = interpreter?.endsWith("/env") && arg ? arg : interpreter;
    return next ? faketimeUnreachable(next, depth + 1) : `${file} has an empty #! line`;
  }
  const elf = elfFacts(file, head);
  if (elf === undefined) return undefined; // not ELF: leave it to the loader (and the probe)
  if (!elf.interpreter) {
    return `the node program ${file} is a statically linked executable (no PT_INTERP in its ELF header): libfaketime, preloaded by the dynamic loader, cannot reach it`;
  }
  if (elf.go) {
    return `the node program ${file} is a Go program: it reads the clock through the vDSO, not libc, so libfaketime cannot reach it`;
  }
  return undefined;
}

/** The file a command names: itself when it has a slash, else the first match on PATH. */
export function resolveProgram(command: string): string | undefined {
  const candidates = command.includes("/")
    ? [command]
    : (process.env.PATH ?? "").split(":").map((d) => path.join(d || ".", command));
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) return path.resolve(c);
    } catch {}
  }
  return undefined;
}

/** Whether an ELF file has an interpreter, and whether it is a Go binary; undefined: not ELF. */
export function elfFacts(
  file: string,
  head = readAt(file, 0, 64),
): { interpreter: boolean; go: boolean } | undefined {
  if (head === undefined || head.length < 52) return undefined;
  if (head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = head[4] === 2;
  const le = head[5] === 1;
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const word = (b: Buffer, o: number) =>
    is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o);
  const phoff = word(head, is64 ? 0x20 : 0x1c);
  const shoff = word(head, is64 ? 0x28 : 0x20);
  const phentsize = u16(head, is64 ? 0x36 : 0x2a);
  const phnum = u16(head, is64 ? 0x38 : 0x2c);
  const shentsize = u16(head, is64 ? 0x3a : 0x2e);
  const shnum = u16(head, is64 ? 0x3c : 0x30);
  const shstrndx = u16(head, is64 ? 0x3e : 0x32);

  let interpreter = false;
  const ph = readAt(file, phoff, phentsize * phnum);
  for (let i = 0; ph && i < phnum; i++) {
    if (u32(ph, i * phentsize) === PT_INTERP) interpreter = true;
  }
  let go = false;
  const sh = shnum > 0 ? readAt(file, shoff, shentsize * shnum) : undefined;
  if (sh && shstrndx < shnum) {
    const at = (i: number, o32: number, o64: number) => i * shentsize + (is64 ? o64 : o32);
    const strOff = word(sh, at(shstrndx, 0x10, 0x18));
    const strSize = word(sh, at(shstrndx, 0x14, 0x20));
    const names = readAt(file, strOff, Math.min(strSize, 1 << 16));
    for (let i = 0; names && i < shnum; i++) {
      const nameAt = u32(sh, i * shentsize);
      const end = names.indexOf(0, nameAt);
      const name = names.toString("latin1", nameAt, end < 0 ? undefined : end);
      if (name === ".go.buildinfo" || name === ".note.go.buildid") go = true;
    }
  }
  return { interpreter, go };
}

function readAt(file: string, offset: number, length: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, offset);
    return buf.subarray(0, n);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
