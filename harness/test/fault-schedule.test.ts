import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readConfigFile, resolveConfig } from "../config.js";
import { timeline } from "../fault-schedule.js";
import { runTest } from "../runner.js";
import { FakeRuntime, fakeBackend, fakePauseNemesis } from "./fake-cluster.js";

const dir = mkdtempSync(path.join(tmpdir(), "schedule-"));

function fromFile(name: string, text: string) {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return () => resolveConfig({}, { path: file, fields: readConfigFile(file) });
}

describe("schedule: faults as data in the test's YAML", () => {
  it("becomes a timeline: the faults in turn, every `every` s, each lasting `lasting` s", () => {
    const config = fromFile(
      "ok.yaml",
      [
        "nemesis-interval: 9",
        "schedule:",
        "  every: 4",
        "  lasting: 6",
        "  faults:",
        "    - { kind: partition, shape: majority-minority }",
        "    - { kind: clock, target: leader }",
      ].join("\n"),
    )();
    expect(config.nemesis).toEqual(["partition", "clock"]);
    expect(config.schedule).toEqual({
      every: 4,
      lasting: 6,
      faults: [
        { kind: "partition", shape: "majority-minority" },
        { kind: "clock", target: "leader" },
      ],
    });
    const ops = timeline(config.schedule!, 2000, 14_000).map((o) => [o.at_ms, o.f, o.value]);
    // Lasting longer than every: the partition and the clock skew overlap.
    expect(ops).toEqual([
      [2000, "start-partition", { shape: "majority-minority" }],
      [6000, "start-clock", { target: "leader" }],
      [8000, "stop-partition", undefined],
      [10_000, "start-partition", { shape: "majority-minority" }],
      [12_000, "stop-clock", undefined],
    ]);
  });

  it("a fault's own lasting and a clock's skew direction go into its operations", () => {
    const config = fromFile(
      "own.yaml",
      [
        "schedule:",
        "  every: 4",
        "  lasting: 2",
        "  faults:",
        "    - { kind: clock, target: leader, skew: forward }",
        "    - { kind: partition, shape: majority-minority, lasting: 3.5 }",
      ].join("\n"),
    )();
    const ops = timeline(config.schedule!, 0, 12_000).map((o) => [o.at_ms, o.f, o.value]);
    // The clock is set back 2 s before the leader is cut off, and the cut lasts 3.5 s.
    expect(ops).toEqual([
      [0, "start-clock", { target: "leader", skew: "forward" }],
      [2000, "stop-clock", undefined],
      [4000, "start-partition", { shape: "majority-minority" }],
      [7500, "stop-partition", undefined],
      [8000, "start-clock", { target: "leader", skew: "forward" }],
      [10_000, "stop-clock", undefined],
    ]);
  });

  it("a `when` fault goes with the fault before it: its turn, after it, waiting for a leader change", () => {
    const config = fromFile(
      "when.yaml",
      [
        "schedule:",
        "  every: 2",
        "  faults:",
        "    - { kind: pause, target: leader, lasting: 3.5 }",
        "    - { kind: partition, shape: majority-minority, when: leader-change, lasting: 3.9 }",
        "    - { kind: kill, target: follower, lasting: 0.3 }",
      ].join("\n"),
    )();
    const ops = timeline(config.schedule!, 0, 8000).map((o) => [o.at_ms, o.f, o.value]);
    // Two turns a cycle: pause and the partition that waits for the election it causes; kill.
    expect(ops).toEqual([
      [0, "start-pause", { target: "leader" }],
      [
        0,
        "start-partition",
        { shape: "majority-minority", when: "leader-change", within_ms: 3900 },
      ],
      [2000, "start-kill", { target: "follower" }],
      [2300, "stop-kill", undefined],
      [3500, "stop-pause", undefined],
      [3900, "stop-partition", undefined],
      [4000, "start-pause", { target: "leader" }],
      [
        4000,
        "start-partition",
        { shape: "majority-minority", when: "leader-change", within_ms: 3900 },
      ],
      [6000, "start-kill", { target: "follower" }],
      [6300, "stop-kill", undefined],
      [7500, "stop-pause", undefined],
      [7900, "stop-partition", undefined],
    ]);
  });

  it("an `after` fault goes with the fault before it: its turn, after it, waiting `after` s", () => {
    const config = fromFile(
      "after.yaml",
      [
        "schedule:",
        "  every: 1.5",
        "  faults:",
        "    - { kind: reset, target: leader, lasting: 0.5 }",
        "    - { kind: kill, target: leader, after: 0.06, lasting: 0.8 }",
      ].join("\n"),
    )();
    const ops = timeline(config.schedule!, 0, 3000).map((o) => [o.at_ms, o.f, o.value]);
    expect(ops).toEqual([
      [0, "start-reset", { target: "leader" }],
      [0, "start-kill", { target: "leader", after_ms: 60 }],
      [500, "stop-reset", undefined],
      [860, "stop-kill", undefined],
      [1500, "start-reset", { target: "leader" }],
      [1500, "start-kill", { target: "leader", after_ms: 60 }],
      [2000, "stop-reset", undefined],
      [2360, "stop-kill", undefined],
    ]);
  });

  it("a delay's own latency and jitter go into its operation", () => {
    const config = fromFile(
      "jitter.yaml",
      "schedule:\n  every: 3\n  faults:\n    - { kind: delay, target: all, ms: 100, jitter: 80 }\n",
    )();
    const ops = timeline(config.schedule!, 0, 3000).map((o) => [o.at_ms, o.f, o.value]);
    expect(ops).toEqual([
      [0, "start-delay", { target: "all", ms: 100, jitter: 80 }],
      [1500, "stop-delay", undefined],
    ]);
  });

  it.each([
    [
      "a shape for a kind that has none",
      "schedule:\n  faults:\n    - { kind: kill, shape: bridge }\n",
      /bad-0\.yaml:3: schedule\.faults\.0\.shape: is for partition, not kill/,
    ],
    [
      "an unknown kind",
      "schedule:\n  every: 2\n  faults:\n    - kind: explode\n",
      /bad-1\.yaml:4: schedule\.faults\.0\.kind: must be one of partition/,
    ],
    [
      "a fault still in force when its kind comes again",
      "schedule:\n  every: 2\n  lasting: 3\n  faults: [{ kind: kill, target: one }]\n",
      /bad-2\.yaml:3: schedule\.lasting: kill \(faults\.0\) would still be in force when the next kill starts: at most 2 s/,
    ],
    [
      "a kind that the nemesis list leaves out",
      "nemesis: [partition]\nschedule:\n  faults:\n    - { kind: partition }\n    - { kind: pause, target: leader }\n",
      /bad-3\.yaml:5: schedule\.faults\.1\.kind: pause is not in nemesis \(partition\)/,
    ],
    [
      "a skew for a kind that has none",
      "schedule:\n  faults:\n    - { kind: pause, skew: back }\n",
      /bad-4\.yaml:3: schedule\.faults\.0\.skew: is for clock, not pause/,
    ],
    [
      "a fault's own lasting past its next turn",
      "schedule:\n  every: 2\n  faults:\n    - { kind: kill, lasting: 2.5 }\n",
      /bad-5\.yaml:4: schedule\.faults\.0\.lasting: kill \(faults\.0\) would still be in force/,
    ],
    [
      "a when on the first fault, which has none before it to follow",
      "schedule:\n  faults:\n    - { kind: kill, when: leader-change }\n",
      /bad-6\.yaml:3: schedule\.faults\.0\.when: the first fault has no fault before it/,
    ],
    [
      "a when fault past its kind's next turn (turns, not faults, count)",
      "schedule:\n  every: 2\n  faults:\n    - { kind: pause }\n    - { kind: kill, when: leader-change, lasting: 2.5 }\n",
      /bad-7\.yaml:5: schedule\.faults\.1\.lasting: kill \(faults\.1\) would still be in force when the next kill starts: at most 2 s/,
    ],
    [
      "a delay's jitter on another kind",
      "schedule:\n  faults:\n    - { kind: kill, jitter: 5 }\n",
      /bad-9\.yaml:3: schedule\.faults\.0\.jitter: is for delay, not kill/,
    ],
    [
      "a jitter over its delay",
      "schedule:\n  faults:\n    - { kind: delay, ms: 50, jitter: 80 }\n",
      /bad-10\.yaml:3: schedule\.faults\.0\.jitter: must be at most the delay \(50 ms\)/,
    ],
    [
      "an after on the first fault",
      "schedule:\n  faults:\n    - { kind: kill, after: 0.1 }\n",
      /bad-11\.yaml:3: schedule\.faults\.0\.after: the first fault has no fault before it/,
    ],
    [
      "an after whose fault, with its lasting, is still in force at its kind's next turn",
      "schedule:\n  every: 1\n  faults:\n    - { kind: reset }\n    - { kind: kill, after: 0.5, lasting: 0.6 }\n",
      /bad-12\.yaml:5: schedule\.faults\.1\.lasting: kill \(faults\.1\) would still be in force when the next kill starts: at most 1 s/,
    ],
    [
      "a same target on a fault with a turn of its own",
      "schedule:\n  faults:\n    - { kind: kill, target: same }\n",
      /bad-15\.yaml:3: schedule\.faults\.0\.target: same \(the nodes the fault before it hit\) is for a fault that goes with it/,
    ],
    [
      "an after too far",
      "schedule:\n  faults:\n    - { kind: kill }\n    - { kind: pause, after: 11 }\n",
      /bad-14\.yaml:4: schedule\.faults\.1\.after: must be at most 10 seconds/,
    ],
    [
      "an after beside a when",
      "schedule:\n  faults:\n    - { kind: kill }\n    - { kind: pause, when: leader-change, after: 0.1 }\n",
      /bad-13\.yaml:4: schedule\.faults\.1\.after: cannot go with when/,
    ],
    [
      "a moment not known",
      "schedule:\n  faults:\n    - { kind: kill }\n    - { kind: pause, when: election }\n",
      /bad-8\.yaml:4: schedule\.faults\.1\.when: must be leader-change/,
    ],
  ])("refuses %s, naming file, line and field", (_what, text, pattern) => {
    const i = [
      "a shape",
      "an unknown",
      "a fault still",
      "a kind that",
      "a skew",
      "a fault's own",
      "a when on",
      "a when fault",
      "a moment not known",
      "a delay's jitter",
      "a jitter over",
      "an after on",
      "an after whose",
      "an after beside",
      "an after too far",
      "a same target",
    ].findIndex((w) => _what.startsWith(w));
    expect(fromFile(`bad-${i}.yaml`, text)).toThrow(pattern);
  });

  it("an unknown field in a schedule or in one of its faults names that mapping's fields, and the line", () => {
    expect(
      fromFile(
        "unknown-fault-field.yaml",
        "schedule:\n  faults:\n    - { kind: pause, lastin: 2 }\n",
      ),
    ).toThrow(
      /unknown-fault-field\.yaml:3: schedule\.faults\.0: unknown field "lastin" \(known: kind, shape, target, skew, lasting, when, after, ms, jitter\)$/,
    );
    expect(
      fromFile(
        "unknown-schedule-field.yaml",
        "schedule:\n  every: 2\n  evry: 3\n  faults: [{ kind: kill }]\n",
      ),
    ).toThrow(
      /unknown-schedule-field\.yaml:3: schedule: unknown field "evry" \(known: every, lasting, faults\)$/,
    );
  });

  it("a run interprets it: the nemesis operations at the timeline's offsets, with their parameters", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "schedule-run-"));
    const config = resolveConfig(
      {
        "time-limit": 2,
        rate: 200,
        concurrency: 4,
        recovery: 0,
        "op-timeout": 0.3,
        seed: 1,
        store,
        nemesis: "pause",
      },
      {
        path: "inline",
        fields: {
          schedule: { every: 0.5, lasting: 0.2, faults: [{ kind: "pause", target: "one" }] },
        },
      },
    );
    const runtime = new FakeRuntime();
    const r = await runTest(config, {
      runtime,
      backend: fakeBackend,
      nemeses: [fakePauseNemesis(runtime)],
      out: () => {},
    });
    expect(r.code, JSON.stringify(r.results.error)).toBe(0);
    const lines = readFileSync(path.join(r.dir, "nemesis-ops.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { at_ms: number; f: string; value?: unknown });
    const starts = lines.filter((l) => l.f === "start-pause");
    // At its offset, or just after when the nemesis thread was still busy with the stop before.
    expect(starts).toHaveLength(4);
    starts.forEach((l, i) => {
      expect(l.at_ms).toBeGreaterThanOrEqual(250 + 500 * i);
      expect(l.at_ms).toBeLessThan(250 + 500 * i + 100);
    });
    for (const s of starts) expect(s.value).toEqual({ target: "one" });
    expect(lines.at(-1)?.f).toBe("heal");
  });
});
