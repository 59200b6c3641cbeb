import { describe, expect, it } from "vitest";
import { createLogger } from "../../io/logger.js";

function capture(level?: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  const logger = createLogger({
    node: "n1",
    level,
    write: (l) => lines.push(l),
    now: () => new Date("2025-01-02T03:04:05.000Z"),
  });
  return { logger, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("logger", () => {
  it("writes one JSON object per line with time, level, node, msg and fields", () => {
    const { logger, parsed } = capture();
    logger.info("elected", { term: 3 });
    expect(parsed()).toEqual([
      { t: "2025-01-02T03:04:05.000Z", level: "info", node: "n1", msg: "elected", term: 3 },
    ]);
  });

  it("keeps the documented fields alone on a line: no pid, hostname or numeric level", () => {
    const lines: string[] = [];
    const logger = createLogger({ node: "n3", write: (l) => lines.push(l) });
    logger.child({ peer: "n2" }).warn("slow", { ms: 12 });
    logger.info("plain");
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => !l.includes("\n"))).toBe(true);
    const [slow, plain] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(slow!).sort()).toEqual(["level", "ms", "msg", "node", "peer", "t"]);
    expect(Object.keys(plain!).sort()).toEqual(["level", "msg", "node", "t"]);
    expect(Date.parse(String(plain!.t))).toBeGreaterThan(0);
  });

  it("drops lines below the threshold", () => {
    const { logger, parsed } = capture("warn");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    expect(parsed().map((l) => l.level)).toEqual(["warn", "error"]);
    expect(logger.enabled("info")).toBe(false);
  });

  it("keeps the envelope, serializes errors and survives unserializable fields", () => {
    const { logger, parsed } = capture();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    logger.child({ peer: "n2" }).error("boom", { msg: "shadow", error: new Error("bad"), n: 1n });
    logger.warn("cyclic", { cyclic });
    const [boom, cyc] = parsed();
    expect(boom).toMatchObject({ msg: "boom", field_msg: "shadow", peer: "n2", n: "1" });
    expect(boom!.error).toMatchObject({ name: "Error", message: "bad" });
    // The line survives: the cycle is cut where it closes.
    expect(cyc).toMatchObject({ msg: "cyclic", level: "warn", cyclic: { self: "[Circular]" } });
  });
});
