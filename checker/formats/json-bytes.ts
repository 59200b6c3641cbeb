// Byte-level JSON pieces that both jsonl fast paths (jsonl-line.ts, objects; jsonl-compact-line.ts,
// indices) read with: the bytes they look for, strings without escapes, and JSON numbers. A
// number's end goes into `scanned.end` rather than into an object per number.

export const QUOTE = 0x22;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;
export const BACKSLASH = 0x5c;
export const MINUS = 0x2d;
export const ZERO = 0x30;
export const NINE = 0x39;

/** Where the last number read ended. */
export const scanned = { end: 0 };

/** The closing quote of a string whose first byte is at `s`; -1 for escapes, controls, no end. */
export function stringEnd(buf: Buffer, s: number, end: number): number {
  for (let p = s; p < end; p++) {
    const c = buf[p] as number;
    if (c === QUOTE) return p;
    if (c === BACKSLASH || c < 0x20) return -1;
  }
  return -1;
}

/**
 * The JSON number at `s` (its end in `scanned.end`), or undefined when the bytes are not one:
 * small integers summed digit by digit, the rest left to Number().
 */
export function readNumber(buf: Buffer, s: number, end: number): number | undefined {
  let p = s;
  if (buf[p] === MINUS) p++;
  const digits = p;
  let n = 0;
  while (p < end) {
    const c = buf[p] as number;
    if (c < ZERO || c > NINE) break;
    n = n * 10 + (c - ZERO);
    p++;
  }
  if (p === digits || (buf[digits] === ZERO && p - digits > 1)) return undefined;
  const c = p < end ? (buf[p] as number) : -1;
  if (c === 0x2e || c === 0x65 || c === 0x45) {
    // A fraction or an exponent: JSON's grammar, then Number() for the exact value.
    if (c === 0x2e) {
      p++;
      const f = p;
      while (p < end && (buf[p] as number) >= ZERO && (buf[p] as number) <= NINE) p++;
      if (p === f) return undefined;
    }
    if (p < end && (buf[p] === 0x65 || buf[p] === 0x45)) {
      p++;
      if (p < end && (buf[p] === 0x2b || buf[p] === MINUS)) p++;
      const x = p;
      while (p < end && (buf[p] as number) >= ZERO && (buf[p] as number) <= NINE) p++;
      if (p === x) return undefined;
    }
    scanned.end = p;
    return Number(buf.toString("latin1", s, p));
  }
  scanned.end = p;
  // Past 15 digits the sum may round differently from Number(); -0 is JSON's -0 too.
  if (p - digits > 15) return Number(buf.toString("latin1", s, p));
  return s === digits ? n : -n;
}

/** Whether the bytes at `s` spell `str` (ASCII). */
export function same(str: string, buf: Buffer, s: number): boolean {
  for (let i = 0; i < str.length; i++) if (str.charCodeAt(i) !== buf[s + i]) return false;
  return true;
}
