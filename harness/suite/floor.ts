// The suite's floor: a run whose clients got too little done before the first fault says
// nothing about faults (a cluster that never served, a rate it could not reach), so it is an
// error of the run, not a pass. Measured from the history: ok completions from the first
// client invocation to the first nemesis event (the warm-up), per second. A run with no
// nemesis event has no warm-up: its whole workload's ok/s (results.json) stands in.
//
// An invalid run stays invalid: a violation found under little load is still a violation (and
// an interrupted run unknown: summary.ts decides).

import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Results } from "../results.js";

export interface FloorCheck {
  /** Ok operations per second before the first fault (or over the run, without a fault). */
  ok_per_s: number;
  /** The span measured, seconds. */
  seconds: number;
  /** What the span is: the warm-up before the first fault, or the whole workload. */
  over: "before the first fault" | "the whole run";
  /** The rate the test asked for, operations per second. */
  asked_rate: number;
  floor: number;
  /** floor x asked_rate. */
  needed: number;
  ok: boolean;
}

/** The warm-up as the history has it: ok completions and seconds before the first fault. */
export interface Warmup {
  ok: number;
  seconds: number;
}

/**
 * Reads history.jsonl (streamed: a long run's is big) for the warm-up: from the first client
 * invoke to the first nemesis event. Undefined when the history holds no nemesis event after
 * a client operation (no fault, or none before the end).
 */
export async function readWarmup(historyFile: string): Promise<Warmup | undefined> {
  let firstInvoke = Number.POSITIVE_INFINITY;
  let firstFault = Number.POSITIVE_INFINITY;
  const okTimes: number[] = [];
  const lines = createInterface({ input: createReadStream(historyFile), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    let op: { time?: unknown; process?: unknown; type?: unknown };
    try {
      op = JSON.parse(line) as typeof op;
    } catch {
      continue; // a line cut by a crash; the checker already says what it made of the file
    }
    if (typeof op.time !== "number") continue;
    if (op.process === "nemesis") firstFault = Math.min(firstFault, op.time);
    else if (op.type === "invoke") firstInvoke = Math.min(firstInvoke, op.time);
    else if (op.type === "ok") okTimes.push(op.time);
  }
  if (!(firstFault > firstInvoke && Number.isFinite(firstFault))) return undefined;
  const ok = okTimes.filter((t) => t < firstFault).length;
  return { ok, seconds: (firstFault - firstInvoke) / 1e9 };
}

/** The floor check of a run, from its warm-up (or its whole-run throughput without one). */
export function floorCheck(
  warmup: Warmup | undefined,
  results: Pick<Results, "throughput" | "duration_s">,
  askedRate: number,
  floor: number,
): FloorCheck {
  const measured =
    warmup !== undefined && warmup.seconds > 0
      ? {
          ok_per_s: round1(warmup.ok / warmup.seconds),
          seconds: round2(warmup.seconds),
          over: "before the first fault" as const,
        }
      : {
          ok_per_s: results.throughput.ok_per_s,
          seconds: results.duration_s,
          over: "the whole run" as const,
        };
  const needed = round2(floor * askedRate);
  return {
    ...measured,
    asked_rate: askedRate,
    floor,
    needed,
    ok: measured.ok_per_s >= needed,
  };
}

/**
 * "too little load to mean anything: 3.1 ok/s before the first fault, under 10% of the asked
 * 200/s".
 */
export function floorMessage(check: FloorCheck): string {
  const percent = round2(check.floor * 100);
  return `too little load to mean anything: ${check.ok_per_s} ok/s ${check.over === "the whole run" ? "over the whole run" : check.over}, under ${percent}% of the asked ${check.asked_rate}/s`;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
