import { describe, expect, it } from "vitest";
import type { Value } from "../../checker/history.js";
import { simulate } from "../generator/index.js";
import type { Event } from "../generator/types.js";
import { defaultTest, type TestPlan } from "../test-generator.js";
import type { Nemesis, NemesisKind } from "../types.js";

/** A nemesis that only plans: the simulation never calls start or stop. */
function planned(kind: NemesisKind, choices: readonly string[]): Nemesis {
  return {
    kind,
    plan(stream) {
      const [i, after] = stream.int(choices.length);
      return [{ shape: choices[i] as string }, after];
    },
    start: async (): Promise<Value> => ({}),
    stop: async (): Promise<Value> => ({}),
  };
}

const plan = (over: Partial<TestPlan> = {}): TestPlan => ({
  timeLimitMs: 60_000,
  rate: 100,
  warmupMs: 5_000,
  intervalMs: 10_000,
  nemeses: [planned("partition", ["a", "b", "c"]), planned("kill", ["x", "y"])],
  nodes: 5,
  ...over,
});

const ops = (w: number, k: number) => ({ f: "write" as const, key: `k${w}`, value: k });

function run(p: TestPlan, seed: number) {
  return simulate(defaultTest(p, ops), {
    threads: [0, 1, 2, 3, "nemesis"],
    seed,
    outcome: (op) => ({ type: op.thread === "nemesis" ? "info" : "ok", ms: 5 }),
  }).events;
}

const invokes = (events: readonly Event[], nem: boolean) =>
  events.filter((e) => e.type === "invoke" && (e.thread === "nemesis") === nem);

describe("the default test's generator (simulated)", () => {
  it("a warm-up, then a fault every interval, healed half an interval later, the kinds in turn", () => {
    const events = run(plan(), 3);
    const nem = invokes(events, true);
    const starts = nem.filter((e) => e.op.f.startsWith("start-"));
    // Warm-up 5 s, then 10 s turns: starts at 5, 15, ..., 55 s.
    expect(starts.map((e) => Math.round(e.time / 1000))).toEqual([5, 15, 25, 35, 45, 55]);
    const kinds = starts.map((e) => e.op.f);
    for (let i = 1; i < kinds.length; i++) expect(kinds[i]).not.toBe(kinds[i - 1]);
    for (const s of starts) {
      const stop = nem.find((e) => e.time > s.time && e.op.f === s.op.f.replace("start", "stop"));
      if (stop) expect(stop.time - s.time).toBeGreaterThanOrEqual(5_000 - 10);
    }
    // Each start carries what its nemesis planned.
    for (const s of starts) expect(s.op.value).toMatchObject({ shape: expect.any(String) });
    // Then the heal, after every client operation.
    const heal = nem.at(-1);
    expect(heal?.op.f).toBe("heal");
    const lastClient = Math.max(...events.filter((e) => e.thread !== "nemesis").map((e) => e.time));
    expect(heal?.time).toBeGreaterThanOrEqual(lastClient);
  });

  it("the clients: the asked rate, each worker its own sequence, nothing past the time limit", () => {
    const events = run(plan(), 3);
    const client = invokes(events, false);
    expect(client.length).toBeGreaterThan(6000 * 0.9);
    expect(client.length).toBeLessThan(6000 * 1.1);
    for (const e of client) expect(e.time).toBeLessThan(60_000);
    for (const w of [0, 1, 2, 3]) {
      const mine = client.filter((e) => e.thread === w);
      expect(mine.map((e) => e.op.value)).toEqual(mine.map((_, k) => k));
    }
  });

  it("the same seed, the same faults with the same parameters; another seed, others", () => {
    const faults = (seed: number) =>
      invokes(run(plan(), seed), true).map((e) => [e.op.f, e.op.value, Math.round(e.time)]);
    expect(faults(11)).toEqual(faults(11));
    const others = [12, 13, 14, 15].map(faults);
    expect(others.some((f) => JSON.stringify(f) !== JSON.stringify(faults(11)))).toBe(true);
  });

  it("no nemeses: the clients alone, then a heal that has nothing to do", () => {
    const events = run(plan({ nemeses: [] }), 1);
    expect(invokes(events, true).map((e) => e.op.f)).toEqual(["heal"]);
  });
});
