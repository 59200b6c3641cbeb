// The jsonl parser's fast path (formats/jsonl-line.ts) against JSON.parse: a line it accepts
// must read exactly as JSON.parse reads it, and every plain, valid line must be accepted (else
// the fast path would silently not be one).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJsonl } from "../formats/jsonl.js";
import { F_CODES, LineReader, TYPE_CODES } from "../formats/jsonl-line.js";

const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map((b) => Number(b)),
  fc.string({ maxLength: 6 }),
  fc.constantFrom("k1", "é", "a\\b", 'q"', "tab\t"),
);
const value = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 3 }),
  fc.array(fc.array(scalar, { maxLength: 2 }), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), scalar, { maxKeys: 2 }),
);
const event = fc.record(
  {
    index: fc.nat(),
    time: fc.oneof(fc.nat(), fc.double({ noNaN: true, noDefaultInfinity: true }), value),
    process: fc.oneof({ arbitrary: fc.nat(50), weight: 8 }, fc.constant("nemesis"), value),
    type: fc.oneof(
      { arbitrary: fc.constantFrom("invoke", "ok", "fail", "info"), weight: 8 },
      fc.constantFrom("constructor", "x"),
      value,
    ),
    f: fc.oneof(
      { arbitrary: fc.constantFrom("read", "write", "cas", "add", "read-all"), weight: 8 },
      fc.constantFrom("toString", "x"),
      value,
    ),
    key: fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), value),
    value,
    extra: value,
  },
  { requiredKeys: ["type", "f", "process"] },
);

/** What jsonl.ts accepts of a parsed line (the JSON.parse path's checks, all passed). */
function valid(o: Record<string, unknown>): boolean {
  const { time, process: proc, type, f, key, value: v } = o;
  if (typeof type !== "string" || !Object.hasOwn(TYPE_CODES, type)) return false;
  if (typeof f !== "string" || !Object.hasOwn(F_CODES, f)) return false;
  if (typeof proc !== "number" || !Number.isInteger(proc)) return false;
  if (time !== undefined && (typeof time !== "number" || !Number.isFinite(time))) return false;
  if (key !== undefined && typeof key !== "string" && typeof key !== "number") return false;
  if (type === "invoke" && f === "cas" && !(Array.isArray(v) && v.length === 2)) return false;
  if (type === "ok" && f === "read-all" && !Array.isArray(v)) return false;
  return true;
}

/** No escapes in its strings and no object among its values: the fast path's kind of line. */
function plain(text: string, o: Record<string, unknown>): boolean {
  const nested = (v: unknown): boolean =>
    Array.isArray(v) ? v.some(nested) : typeof v === "object" && v !== null;
  return !text.includes("\\") && !Object.values(o).some(nested);
}

describe("the jsonl fast path", () => {
  it("reads what it accepts as JSON.parse does, and accepts every plain valid line", () => {
    let accepted = 0;
    fc.assert(
      fc.property(event, fc.constantFrom("", " ", "\t", "  "), (o, gap) => {
        // Whitespace between tokens (a string holds no raw newline: JSON escapes it).
        const text =
          gap === "" ? JSON.stringify(o) : JSON.stringify(o, null, gap).replace(/\n/g, gap);
        const parsed = JSON.parse(text) as Record<string, unknown>;
        const buf = Buffer.from(`${gap}${text}${gap}\r`);
        const r = new LineReader();
        const ok = r.read(buf, 0, buf.length);
        if (valid(parsed) && plain(text, parsed)) expect(ok).toBe(true);
        if (!ok) return;
        accepted++;
        expect(valid(parsed)).toBe(true);
        expect(r.type).toBe(TYPE_CODES[parsed.type as string]);
        expect(r.f).toBe(F_CODES[parsed.f as string]);
        expect(r.proc).toBe(parsed.process);
        expect(r.time).toBe(parsed.time);
        expect(r.key).toBe(parsed.key === undefined ? "" : String(parsed.key));
        expect(r.value).toEqual(parsed.value);
        if (typeof parsed.value === "number") expect(Object.is(r.value, parsed.value)).toBe(true);
      }),
      { numRuns: 3000 },
    );
    // The generator makes plenty of lines the fast path takes (else this proves little).
    expect(accepted).toBeGreaterThan(300);
  });

  it("leaves lines that are not JSON to JSON.parse's message", () => {
    for (const bad of ['{"type":"invoke",', '{"type":"ok"} x', "{", '{"a":01}', '{"f":nul}']) {
      const buf = Buffer.from(bad);
      expect(new LineReader().read(buf, 0, buf.length)).toBe(false);
    }
    expect(() => parseJsonl('{"type":"invoke","f":"read","process":1,"time":01}', "h")).toThrow(
      /h:1: not valid JSON/,
    );
  });

  it("reads a history whose lines straddle chunks of bytes", async () => {
    const { parseJsonlBytes } = await import("../formats/jsonl.js");
    const lines = [
      '{"time":1,"process":0,"type":"invoke","f":"write","key":"é","value":1}',
      '{"time":2,"process":0,"type":"ok","f":"write","key":"é","value":1}',
      '{"time":3,"process":0,"type":"invoke","f":"read","key":"é","value":null}',
      '{"time":4,"process":0,"type":"ok","f":"read","key":"é","value":1}',
    ];
    const bytes = Buffer.from(lines.join("\n"));
    const whole = parseJsonl(lines.join("\n"), "h").ops;
    for (const size of [1, 7, 64, 100]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      expect(parseJsonlBytes(() => chunks, "h").ops).toEqual(whole);
    }
    expect(whole.map((op) => op.input.key)).toEqual(["é", "é"]);
  });
});
