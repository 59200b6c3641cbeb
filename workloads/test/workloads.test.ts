import { describe, expect, it } from "vitest";
import { randomOf } from "../../contracts/random.js";
import { makeWorkload } from "../index.js";
import { zipfian } from "../random.js";

const options = (keys: number, distribution: "uniform" | "zipfian" = "uniform") => ({
  keys,
  distribution,
  random: randomOf(42, "test"),
});

describe("workloads", () => {
  it("register: a few keys, read/write/cas of values 0..4", () => {
    const w = makeWorkload("register", options(2));
    expect(w.model).toBe("cas-register");
    const ops = Array.from({ length: 3000 }, () => w.next(0));
    expect(new Set(ops.map((o) => o.key))).toEqual(new Set(["r0", "r1"]));
    const fs = new Set(ops.map((o) => o.f));
    expect(fs).toEqual(new Set(["read", "write", "cas"]));
    for (const o of ops) {
      if (o.f === "write") expect([0, 1, 2, 3, 4]).toContain(o.value);
      if (o.f === "cas") expect(o.value).toEqual([expect.any(Number), expect.any(Number)]);
    }
    expect(w.final()).toEqual([
      { f: "read", key: "r0" },
      { f: "read", key: "r1" },
    ]);
  });

  it("register: one key by default (keys 1)", () => {
    const w = makeWorkload("register", options(1));
    expect(new Set(Array.from({ length: 100 }, () => w.next(0).key))).toEqual(new Set(["r0"]));
  });

  it("kv uniform: every key about as often", () => {
    const w = makeWorkload("kv", options(10));
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const k = w.next(0).key as string;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(counts.size).toBe(10);
    for (const c of counts.values()) expect(c).toBeGreaterThan(1500);
    expect(w.final().length).toBe(10);
  });

  it("kv zipfian: skewed toward the low keys", () => {
    const w = makeWorkload("kv", options(10, "zipfian"));
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const k = w.next(0).key as string;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const c = (k: string) => counts.get(k) ?? 0;
    // P(k0) = 1 / H(10) ~ 0.34, P(k9) ~ 0.034.
    expect(c("k0")).toBeGreaterThan(6000);
    expect(c("k0")).toBeGreaterThan(c("k1"));
    expect(c("k1")).toBeGreaterThan(c("k4"));
    expect(c("k4")).toBeGreaterThan(c("k9"));
    expect(c("k9")).toBeGreaterThan(0);
  });

  it("zipfian picks stay in range", () => {
    const pick = zipfian(3, randomOf(1, "test"));
    for (let i = 0; i < 1000; i++) expect([0, 1, 2]).toContain(pick());
  });

  it("set: unique elements, a set-up that creates the key, one read-all per node at the end", () => {
    const w = makeWorkload("set", options(1));
    expect(w.model).toBe("set");
    const ops = Array.from({ length: 100 }, (_, i) => w.next(i % 4));
    expect(new Set(ops.map((o) => o.value)).size).toBe(100);
    for (const o of ops) expect(o).toMatchObject({ f: "add", key: "set" });
    expect(w.final()).toEqual([{ f: "read-all", key: "set" }]);
    expect(w.setup?.()).toEqual([{ f: "write", key: "set", value: [] }]);
  });

  it("the same seed gives the same operations", () => {
    const a = makeWorkload("kv", options(10));
    const b = makeWorkload("kv", options(10));
    for (let i = 0; i < 100; i++) expect(a.next(0)).toEqual(b.next(0));
  });
});
