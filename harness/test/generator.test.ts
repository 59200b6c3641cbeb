import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  any,
  clients,
  concat,
  cycle,
  each,
  flipFlop,
  fn,
  interpret,
  limit,
  log,
  mix,
  nemesis,
  once,
  phases,
  random,
  simulate,
  sleep,
  stagger,
  timeLimit,
  untilOk,
} from "../generator/index.js";
import type { Event, Generator, Op, Thread } from "../generator/types.js";

const workers = (n: number): Thread[] => Array.from({ length: n }, (_, i) => i);
const invokes = (events: readonly Event[]) => events.filter((e) => e.type === "invoke");
const okIn = (ms: number) => () => ({ type: "ok" as const, ms });

describe("generator combinators (simulated time)", () => {
  it("timeLimit: no operation starts at or after the deadline", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (limitMs, meanMs, threads, seed) => {
          const gen = clients(
            timeLimit(
              limitMs,
              stagger(
                meanMs,
                fn(() => ({ f: "read" })),
              ),
            ),
          );
          const sim = simulate(gen, { threads: workers(threads), seed, outcome: okIn(7) });
          for (const e of invokes(sim.events)) expect(e.time).toBeLessThan(limitMs);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("phases: each begins after every operation of the one before has completed", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (threads, perPhase, seed) => {
          const phase = (f: string) =>
            limit(
              perPhase,
              fn(() => ({ f })),
            );
          const gen = phases(phase("a"), phase("b"), phase("c"));
          const sim = simulate(gen, {
            threads: workers(threads),
            seed,
            outcome: (_op, r) => ({ type: "ok", ms: 1 + Math.floor(r() * 50) }),
          });
          const order = ["a", "b", "c"];
          for (const [i, f] of order.entries()) {
            expect(invokes(sim.events).filter((e) => e.op.f === f)).toHaveLength(perPhase);
            if (i === 0) continue;
            const before = order[i - 1];
            const lastEnd = Math.max(
              ...sim.events
                .filter((e) => e.type !== "invoke" && e.op.f === before)
                .map((e) => e.time),
            );
            const firstStart = Math.min(
              ...invokes(sim.events)
                .filter((e) => e.op.f === f)
                .map((e) => e.time),
            );
            expect(firstStart).toBeGreaterThanOrEqual(lastEnd);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("stagger: the mean rate is the asked rate (threads to spare)", () => {
    for (const meanMs of [5, 20, 100]) {
      const limitMs = 2000 * meanMs;
      const gen = clients(
        timeLimit(
          limitMs,
          stagger(
            meanMs,
            fn(() => ({ f: "read" })),
          ),
        ),
      );
      const sim = simulate(gen, { threads: workers(16), seed: meanMs, outcome: okIn(1) });
      const count = invokes(sim.events).length;
      // 2,000 intervals uniform in [0, 2 mean]: the sum's sd is about 2.6% of the whole.
      expect(count).toBeGreaterThan(2000 * 0.9);
      expect(count).toBeLessThan(2000 * 1.1);
    }
  });

  it("mix: draws each generator about equally often", () => {
    const k = 5;
    const n = 10_000;
    const gen = clients(
      limit(n, mix(Array.from({ length: k }, (_, i) => fn(() => ({ f: `g${i}` }))))),
    );
    const sim = simulate(gen, { threads: workers(4), seed: 7, outcome: okIn(1) });
    const counts = new Map<string, number>();
    for (const e of invokes(sim.events)) counts.set(e.op.f, (counts.get(e.op.f) ?? 0) + 1);
    expect(counts.size).toBe(k);
    const p = 1 / k;
    const sd = Math.sqrt(n * p * (1 - p));
    for (const c of counts.values()) expect(Math.abs(c - n * p)).toBeLessThan(4 * sd);
  });

  it("mix: a generator that is done drops out, and the mix ends when all have", () => {
    const gen = clients(
      mix([
        limit(
          3,
          fn(() => ({ f: "x" })),
        ),
        limit(
          5,
          fn(() => ({ f: "y" })),
        ),
      ]),
    );
    const sim = simulate(gen, { threads: workers(2), seed: 1, outcome: okIn(1) });
    const fs = invokes(sim.events).map((e) => e.op.f);
    expect(fs.filter((f) => f === "x")).toHaveLength(3);
    expect(fs.filter((f) => f === "y")).toHaveLength(5);
  });

  it("the same seed gives the same schedule; another seed another", () => {
    const gen = () =>
      clients(
        timeLimit(
          5000,
          stagger(
            10,
            random("workload", (_ctx, s) => {
              const [k, s2] = s.int(10);
              const [v, s3] = s2.int(5);
              return [{ f: "write", key: `k${k}`, value: v }, s3];
            }),
          ),
        ),
      );
    const run = (seed: number) =>
      simulate(gen(), { threads: workers(4), seed, outcome: okIn(3) }).events.map((e) => [
        e.type,
        e.thread,
        e.op.key,
        e.op.value,
        e.time,
      ]);
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it("each: a copy per thread", () => {
    const gen = clients(
      each(
        limit(
          3,
          fn(() => ({ f: "read" })),
        ),
      ),
    );
    const sim = simulate(gen, { threads: workers(4), seed: 1, outcome: okIn(2) });
    for (const t of workers(4)) {
      expect(invokes(sim.events).filter((e) => e.thread === t)).toHaveLength(3);
    }
  });

  it("untilOk: stops at the first ok", () => {
    let n = 0;
    const gen = clients(untilOk(fn(() => ({ f: "try" }))));
    const sim = simulate(gen, {
      threads: workers(1),
      seed: 1,
      outcome: () => ({ type: ++n >= 4 ? "ok" : "fail", ms: 1 }),
    });
    expect(invokes(sim.events)).toHaveLength(4);
    expect(sim.events.at(-1)?.type).toBe("ok");
  });

  it("a fault schedule from combinators alone: start/stop pairs on the nemesis, clients beside it", () => {
    const faults = nemesis(
      cycle(
        flipFlop(
          concat(sleep(1000), once({ f: "start-partition", value: { shape: "majority-ring" } })),
          concat(sleep(500), once({ f: "stop-partition" })),
        ),
      ),
    );
    const load = clients(
      stagger(
        10,
        fn(() => ({ f: "read" })),
      ),
    );
    const gen = timeLimit(10_000, any(load, faults));
    const sim = simulate(gen, {
      threads: [...workers(3), "nemesis"],
      seed: 5,
      outcome: (op) => ({ type: "ok", ms: op.f.startsWith("st") ? 50 : 2 }),
    });
    const nem = invokes(sim.events).filter((e) => e.thread === "nemesis");
    expect(nem.length).toBeGreaterThanOrEqual(10);
    for (const [i, e] of nem.entries()) {
      expect(e.op.f).toBe(i % 2 === 0 ? "start-partition" : "stop-partition");
    }
    expect(nem[0]?.op.value).toEqual({ shape: "majority-ring" });
    expect(
      invokes(sim.events)
        .filter((e) => e.thread !== "nemesis")
        .every((e) => e.op.f === "read"),
    ).toBe(true);
  });

  it("log lines come in order with the operations", () => {
    const gen = clients(
      concat(
        log("begin"),
        limit(
          2,
          fn(() => ({ f: "read" })),
        ),
        log("end"),
      ),
    );
    const sim = simulate(gen, { threads: workers(1), seed: 1, outcome: okIn(5) });
    expect(sim.logs.map((l) => l.message)).toEqual(["begin", "end"]);
    expect(sim.logs[1]?.time).toBeGreaterThanOrEqual(5);
  });

  it("a generator that waits for an event with nothing in flight is an error, not a hang", () => {
    const stuck: Generator = { op: () => ({ kind: "pending", next: stuck }), update: () => stuck };
    expect(() => simulate(stuck, { threads: workers(1), seed: 1, outcome: okIn(1) })).toThrow(
      /waits for an event/,
    );
  });
});

describe("interpret (real time)", () => {
  it("runs operations concurrently, one per thread, until the time limit", async () => {
    const running = new Set<Thread>();
    let overlap = 0;
    const ops: Op[] = [];
    const started = performance.now();
    await interpret(
      clients(
        timeLimit(
          300,
          stagger(
            5,
            fn(() => ({ f: "read" })),
          ),
        ),
      ),
      {
        threads: workers(4),
        seed: 1,
        signal: new AbortController().signal,
        log: () => {},
        invoke: async (op) => {
          expect(running.has(op.thread)).toBe(false);
          running.add(op.thread);
          overlap = Math.max(overlap, running.size);
          ops.push(op);
          await new Promise((r) => setTimeout(r, 15));
          running.delete(op.thread);
          return { type: "ok" };
        },
      },
    );
    const elapsed = performance.now() - started;
    expect(ops.length).toBeGreaterThan(10);
    expect(overlap).toBeGreaterThan(1);
    // The limit counts from the first ask (a few ms after the start on a loaded machine).
    const first = ops[0]?.time ?? 0;
    for (const op of ops) expect(op.time - first).toBeLessThan(300);
    expect(elapsed).toBeGreaterThanOrEqual(280);
  });

  it("an abort starts nothing more and waits for what is in flight", async () => {
    const ac = new AbortController();
    let inFlight = 0;
    let count = 0;
    setTimeout(() => ac.abort(), 100);
    await interpret(clients(fn(() => ({ f: "read" }))), {
      threads: workers(2),
      seed: 1,
      signal: ac.signal,
      log: () => {},
      invoke: async () => {
        inFlight++;
        count++;
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return { type: "ok" };
      },
    });
    expect(inFlight).toBe(0);
    expect(count).toBeGreaterThan(2);
    const after = count;
    await new Promise((r) => setTimeout(r, 50));
    expect(count).toBe(after);
  });
});

describe("each: fairness", () => {
  it("operations that end at once still go round every thread", () => {
    const gen = clients(limit(400, stagger(10, each(fn(() => ({ f: "read" }))))));
    const sim = simulate(gen, { threads: workers(4), seed: 2, outcome: okIn(0) });
    const per = workers(4).map((t) => invokes(sim.events).filter((e) => e.thread === t).length);
    expect(per).toEqual([100, 100, 100, 100]);
  });
});
