import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkOperations } from "../check.js";
import { parseHistory } from "../formats/index.js";
import { modelFor } from "../models/index.js";
import { vectors } from "./vectors.js";

const all = vectors();

describe("Porcupine's test vectors", () => {
  it("there are 109 of them, of both verdicts", () => {
    expect(all).toHaveLength(109);
    expect(all.filter((v) => v.expected === "illegal").length).toBeGreaterThan(0);
    expect(all.filter((v) => v.expected === "ok").length).toBeGreaterThan(0);
  });

  it.each(all)("$file is $expected", (v) => {
    const parsed = parseHistory(readFileSync(v.path, "utf8"), v.file, "auto");
    expect(parsed.format).toBe(v.format);
    expect(parsed.model).toBe(v.model);
    expect(checkOperations(modelFor(v.model), parsed.ops).result).toBe(v.expected);
  });

  it.each(all.filter((v) => v.expected === "illegal").slice(0, 12))(
    "$file is illegal in verbose mode too, with a partial linearization",
    (v) => {
      const parsed = parseHistory(readFileSync(v.path, "utf8"), v.file, v.format);
      const outcome = checkOperations(modelFor(v.model), parsed.ops, { verbose: true });
      expect(outcome.result).toBe("illegal");
      const bad = outcome.partitions[0];
      expect(bad?.result).toBe("illegal");
      expect(bad?.stuck.length).toBeGreaterThan(0);
    },
  );
});
