// A fault schedule as data, the test's `schedule:` field (YAML): which faults, in turn, how
// often and for how long, with each fault's parameters. It becomes a timeline of nemesis
// operations, a pure function of the schedule and the time limit, which the test's generator
// runs beside the clients (test-generator.ts, timedFaults).
//
//   schedule:
//     every: 4          # seconds between two faults' starts (default: nemesis-interval)
//     lasting: 2        # seconds each lasts (default: every / 2); longer than every: they overlap
//                       # (a fault's own `lasting` overrides it for that fault)
//     faults:           # in turn, from the first
//       - { kind: partition, shape: majority-minority }
//       - { kind: kill, target: leader }
//       - { kind: clock, target: all, skew: forward }   # skew (clock only): forward or back
//       - { kind: delay, target: all, ms: 100, jitter: 80 }   # ms, jitter (delay only)
//       - { kind: pause, target: leader, lasting: 4 }
//       - { kind: partition, shape: majority-minority, when: leader-change }
//       - { kind: reset, target: leader, lasting: 0.5 }
//       - { kind: kill, target: same, after: 0.055 }   # same: the nodes the fault before hit
//
// `when: leader-change` aims a fault at a moment rather than a time: the fault takes no turn of
// its own but goes with the fault before it, and starts the moment a node other than the one
// then leading reports itself leader (nemesis/leader-change.ts), so it hits the election the
// fault before it caused. It is still stopped `lasting` s after its turn; no leader change by
// then, and it is skipped, which the history says. A random time almost never lands in the
// tens of milliseconds after an election, which is where a new leader's first proposals are
// accepted but not yet known chosen.
//
// `after: S` goes with the fault before too: it starts S seconds after that fault took effect
// (its start returned: a fault's start takes tens of ms, which would blur a distance counted
// from the turn). A second fault at a set distance from the first: a reset of the leader's
// connections, then the leader killed 55 ms later, after its messages lost in the reset and
// before it sends them again. Its stop is `lasting` s after its turn plus S. `target: same`
// aims it at the nodes the fault before it hit, with no second look for the leader (which, on
// a loaded machine, takes longer than 55 ms).

import { z } from "zod";
import type { Value } from "../contracts/value.js";
import { MAX_SECONDS } from "./limits.js";
import { SKEWS } from "./nemesis/clock.js";
import { DEFAULT_DELAY_MS } from "./nemesis/delay.js";
import { WHEN } from "./nemesis/leader-change.js";
import { SAME } from "./nemesis/node-fault.js";
import { SHAPES } from "./nemesis/shapes.js";
import { TARGETS } from "./nemesis/targets.js";
import type { NemesisOpLine } from "./test-generator.js";
import { NEMESIS_KINDS, type NemesisKind } from "./types.js";

/** The longest `after`: a distance between two faults, not a schedule of its own. */
const MAX_AFTER_SECONDS = 10;

const positive = (max: number) =>
  z
    .number({ error: "must be a number of seconds" })
    .positive({ error: "must be > 0" })
    .max(max, { error: `must be at most ${max} seconds` });

/** Milliseconds of a delay fault: at most a minute (a link slower than that is a cut). */
const millis = z
  .number({ error: "must be a number of milliseconds" })
  .min(0, { error: "must be >= 0" })
  .max(60_000, { error: "must be at most 60000 ms" });

const fault = z
  .strictObject(
    {
      kind: z.enum(NEMESIS_KINDS, { error: `must be one of ${NEMESIS_KINDS.join(", ")}` }),
      shape: z.enum(SHAPES, { error: `must be one of ${SHAPES.join(", ")}` }).optional(),
      target: z
        .enum([...TARGETS, SAME], { error: `must be one of ${[...TARGETS, SAME].join(", ")}` })
        .optional(),
      skew: z.enum(SKEWS, { error: `must be one of ${SKEWS.join(", ")}` }).optional(),
      lasting: positive(MAX_SECONDS.nemesisInterval).optional(),
      when: z.enum(WHEN, { error: `must be ${WHEN.join(", ")}` }).optional(),
      // A distance between two faults, waited on the nemesis's thread (a Ctrl-C waits it out too).
      after: z
        .number({ error: "must be a number of seconds" })
        .positive({ error: "must be > 0" })
        .max(MAX_AFTER_SECONDS, { error: `must be at most ${MAX_AFTER_SECONDS} seconds` })
        .optional(),
      ms: millis.positive({ error: "must be > 0" }).optional(),
      jitter: millis.optional(),
    },
    {
      error:
        "must be a mapping: kind, shape (partition) or target (the others), skew (clock), ms and jitter (delay), lasting, when, after",
    },
  )
  .superRefine((f, ctx) => {
    if (f.shape !== undefined && f.kind !== "partition") {
      ctx.addIssue({ code: "custom", path: ["shape"], message: `is for partition, not ${f.kind}` });
    }
    if (f.skew !== undefined && f.kind !== "clock") {
      ctx.addIssue({ code: "custom", path: ["skew"], message: `is for clock, not ${f.kind}` });
    }
    for (const field of ["ms", "jitter"] as const) {
      if (f[field] !== undefined && f.kind !== "delay") {
        ctx.addIssue({ code: "custom", path: [field], message: `is for delay, not ${f.kind}` });
      }
    }
    if (f.jitter !== undefined && f.jitter > (f.ms ?? DEFAULT_DELAY_MS)) {
      ctx.addIssue({
        code: "custom",
        path: ["jitter"],
        message: `must be at most the delay (${f.ms ?? DEFAULT_DELAY_MS} ms)`,
      });
    }
    if (f.target === SAME && f.after === undefined && f.when === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["target"],
        message:
          "same (the nodes the fault before it hit) is for a fault that goes with it (after or when)",
      });
    }
    if (f.after !== undefined && f.when !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["after"],
        message: "cannot go with when: (a fault starts at a moment or at a time, not both)",
      });
    }
    if (f.target !== undefined && f.kind === "partition") {
      ctx.addIssue({
        code: "custom",
        path: ["target"],
        message: "is not for partition (give shape)",
      });
    }
  });

export const scheduleSchema = z.strictObject(
  {
    every: positive(MAX_SECONDS.nemesisInterval).optional(),
    lasting: positive(MAX_SECONDS.nemesisInterval).optional(),
    faults: z
      .array(fault, { error: "must be a list of faults ({kind, shape or target})" })
      .min(1, { error: "must list at least one fault" }),
  },
  { error: "must be a mapping: every, lasting, faults" },
);

export type FaultSpec = z.infer<typeof fault>;

export interface FaultSchedule {
  /** Seconds between two starts. */
  every: number;
  /** Seconds each fault lasts. */
  lasting: number;
  faults: FaultSpec[];
}

/** Whether a fault goes with the one before (`when` or `after`) rather than taking a turn. */
const follows = (f: FaultSpec) => f.when !== undefined || f.after !== undefined;

/**
 * Each fault's turn: its index, except that a `when` or `after` fault shares the turn of the
 * one before. The schedule repeats every `turns` turns.
 */
function turnsOf(faults: readonly FaultSpec[]): { turn: number[]; turns: number } {
  const turn: number[] = [];
  for (const [i, f] of faults.entries()) {
    turn.push(i === 0 ? 0 : (turn[i - 1] as number) + (follows(f) ? 0 : 1));
  }
  return { turn, turns: (turn[turn.length - 1] as number) + 1 };
}

/**
 * The schedule with its defaults, or why it cannot run: a fault of a kind still in force when
 * the next of that kind would start (a nemesis holds one fault of its kind at a time), or a
 * `when` fault with no fault before it to follow.
 */
export function resolveSchedule(
  raw: z.infer<typeof scheduleSchema>,
  interval: number,
): FaultSchedule | { field: string; message: string } {
  const every = raw.every ?? interval;
  const lasting = raw.lasting ?? every / 2;
  const n = raw.faults.length;
  for (const field of ["when", "after"] as const) {
    if (raw.faults[0]?.[field] !== undefined) {
      return {
        field: `faults.0.${field}`,
        message: `the first fault has no fault before it to follow (${field}: goes with the one before)`,
      };
    }
  }
  const { turn, turns } = turnsOf(raw.faults);
  for (const [i, f] of raw.faults.entries()) {
    const own = (f.after ?? 0) + (f.lasting ?? lasting);
    let gap = turns;
    for (let d = 1; d < n; d++) {
      const j = (i + d) % n;
      if (raw.faults[j]?.kind === f.kind) {
        gap = ((turn[j] as number) - (turn[i] as number) + turns) % turns || turns;
        break;
      }
    }
    if (own > gap * every) {
      return {
        field: f.lasting === undefined ? "lasting" : `faults.${i}.lasting`,
        message: `${f.kind} (faults.${i}) would still be in force when the next ${f.kind} starts: at most ${gap * every} s with every ${every} s`,
      };
    }
  }
  return { every, lasting, faults: raw.faults };
}

/** The kinds a schedule uses, in the order they first appear. */
export function scheduleKinds(s: { faults: readonly FaultSpec[] }): NemesisKind[] {
  return [...new Set(s.faults.map((f) => f.kind))];
}

/**
 * The schedule's nemesis operations over the main phase: the faults in turn, the first after
 * the warm-up, one turn every `every` s (a `when` or `after` fault in its predecessor's turn,
 * after it, waiting for its moment or its ms); each stopped `lasting` s (plus its `after`)
 * after its turn (a stop past the time limit is left to the heal that follows the main
 * phase). Sorted by time.
 */
export function timeline(s: FaultSchedule, warmupMs: number, timeLimitMs: number): NemesisOpLine[] {
  const ops: NemesisOpLine[] = [];
  const { turn, turns } = turnsOf(s.faults);
  for (let k = 0, at = warmupMs; at < timeLimitMs; k++, at += s.every * 1000) {
    for (const [i, f] of s.faults.entries()) {
      if (turn[i] !== k % turns) continue;
      const own = (f.lasting ?? s.lasting) * 1000;
      const given: { [key: string]: Value } = {};
      if (f.shape !== undefined) given.shape = f.shape;
      if (f.target !== undefined) given.target = f.target;
      if (f.skew !== undefined) given.skew = f.skew;
      if (f.ms !== undefined) given.ms = f.ms;
      if (f.jitter !== undefined) given.jitter = f.jitter;
      if (f.when !== undefined) {
        given.when = f.when;
        given.within_ms = own;
      }
      const afterMs = Math.round((f.after ?? 0) * 1000);
      if (f.after !== undefined) given.after_ms = afterMs;
      const params: Value | undefined = Object.keys(given).length > 0 ? given : undefined;
      ops.push(
        params === undefined
          ? { at_ms: at, f: `start-${f.kind}` }
          : { at_ms: at, f: `start-${f.kind}`, value: params },
      );
      const stop = at + afterMs + own;
      if (stop < timeLimitMs) ops.push({ at_ms: stop, f: `stop-${f.kind}` });
    }
  }
  // A stop and a start at the same time: the stop first (a kind restarting right after itself).
  return ops
    .map((o, i) => ({ o, i }))
    .sort(
      (a, b) =>
        a.o.at_ms - b.o.at_ms ||
        Number(b.o.f.startsWith("stop")) - Number(a.o.f.startsWith("stop")) ||
        a.i - b.i,
    )
    .map(({ o }) => o);
}
