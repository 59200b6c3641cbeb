import { describe, expect, it } from "vitest";
import { encodeFrame, FrameDecoder, FrameError } from "../../io/framing.js";

describe("framing", () => {
  it("reassembles frames split at every byte and packed together", () => {
    const values = [{ a: 1 }, "é", [null, true], 42];
    const bytes = Buffer.concat(values.map((v) => encodeFrame(v)));
    const bytewise = new FrameDecoder();
    const out: unknown[] = [];
    for (const b of bytes) out.push(...bytewise.push(Buffer.from([b])));
    expect(out).toEqual(values);
    expect(new FrameDecoder().push(bytes)).toEqual(values);
  });

  it("rejects an oversized length before buffering the body", () => {
    const d = new FrameDecoder(10);
    expect(() => d.push(Buffer.from([0, 0, 0, 11]))).toThrow(FrameError);
  });

  it("rejects a body that is not JSON", () => {
    const d = new FrameDecoder();
    expect(() => d.push(Buffer.from([0, 0, 0, 2, 0x7b, 0x7b]))).toThrow(/not JSON/);
  });
});
