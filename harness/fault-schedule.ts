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

import { z } from "zod";
import type { Value } from "../contracts/value.js";
import { MAX_SECONDS } from "./limits.js";
import { SKEWS } from "./nemesis/clock.js";
import { PARTITION_SHAPES } from "./nemesis/shapes.js";
import { TARGETS } from "./nemesis/targets.js";
import type { NemesisOpLine } from "./test-generator.js";
import { NEMESIS_KINDS, type NemesisKind } from "./types.js";

const positive = (max: number) =>
  z
    .number({ error: "must be a number of seconds" })
    .positive({ error: "must be > 0" })
    .max(max, { error: `must be at most ${max} seconds` });

const fault = z
  .strictObject(
    {
      kind: z.enum(NEMESIS_KINDS, { error: `must be one of ${NEMESIS_KINDS.join(", ")}` }),
      shape: z
        .enum(PARTITION_SHAPES, { error: `must be one of ${PARTITION_SHAPES.join(", ")}` })
        .optional(),
      target: z.enum(TARGETS, { error: `must be one of ${TARGETS.join(", ")}` }).optional(),
      skew: z.enum(SKEWS, { error: `must be one of ${SKEWS.join(", ")}` }).optional(),
      lasting: positive(MAX_SECONDS.nemesisInterval).optional(),
    },
    {
      error:
        "must be a mapping: kind, shape (partition) or target (the others), skew (clock), lasting",
    },
  )
  .superRefine((f, ctx) => {
    if (f.shape !== undefined && f.kind !== "partition") {
      ctx.addIssue({ code: "custom", path: ["shape"], message: `is for partition, not ${f.kind}` });
    }
    if (f.skew !== undefined && f.kind !== "clock") {
      ctx.addIssue({ code: "custom", path: ["skew"], message: `is for clock, not ${f.kind}` });
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

/**
 * The schedule with its defaults, or why it cannot run: a fault of a kind still in force when
 * the next of that kind would start (a nemesis holds one fault of its kind at a time).
 */
export function resolveSchedule(
  raw: z.infer<typeof scheduleSchema>,
  interval: number,
): FaultSchedule | { field: string; message: string } {
  const every = raw.every ?? interval;
  const lasting = raw.lasting ?? every / 2;
  const n = raw.faults.length;
  for (const [i, f] of raw.faults.entries()) {
    const own = f.lasting ?? lasting;
    let gap = n;
    for (let d = 1; d < n; d++) {
      if (raw.faults[(i + d) % n]?.kind === f.kind) {
        gap = d;
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
 * the warm-up, one every `every` s; each stopped `lasting` s after it started (a stop past the
 * time limit is left to the heal that follows the main phase). Sorted by time.
 */
export function timeline(s: FaultSchedule, warmupMs: number, timeLimitMs: number): NemesisOpLine[] {
  const ops: NemesisOpLine[] = [];
  for (let i = 0, at = warmupMs; at < timeLimitMs; i++, at += s.every * 1000) {
    const f = s.faults[i % s.faults.length] as FaultSpec;
    const given: { [key: string]: Value } = {};
    if (f.shape !== undefined) given.shape = f.shape;
    if (f.target !== undefined) given.target = f.target;
    if (f.skew !== undefined) given.skew = f.skew;
    const params: Value | undefined = Object.keys(given).length > 0 ? given : undefined;
    ops.push(
      params === undefined
        ? { at_ms: at, f: `start-${f.kind}` }
        : { at_ms: at, f: `start-${f.kind}`, value: params },
    );
    const stop = at + (f.lasting ?? s.lasting) * 1000;
    if (stop < timeLimitMs) ops.push({ at_ms: stop, f: `stop-${f.kind}` });
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
