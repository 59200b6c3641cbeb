// A run's verdict in one word, from its exit code (a suite's runs) or its results.json (the
// store browser), and the order a reader wants them in: failures first.

import { EXIT, type ExitCode } from "../exit.js";
import type { Results } from "../results.js";

export type Verdict = "valid" | "invalid" | "unknown" | "error";
/** A suite's run may also not have run (Ctrl-C before its turn). */
export type RunVerdict = Verdict | "not run";

/** Failures first: what was found wrong, what broke, what could not tell, what never ran. */
export const VERDICT_ORDER: readonly RunVerdict[] = [
  "invalid",
  "error",
  "unknown",
  "not run",
  "valid",
];

export function verdictOfCode(code: ExitCode): Verdict {
  if (code === EXIT.ok) return "valid";
  if (code === EXIT.invalid) return "invalid";
  if (code === EXIT.unknown) return "unknown";
  return "error";
}

/** What a run's exit code was, from its results.json (a set-up error: `error` is set). */
export function verdictOfResults(r: Pick<Results, "valid" | "error">): Verdict {
  if (r.error !== undefined) return "error";
  if (r.valid === true) return "valid";
  if (r.valid === false) return "invalid";
  return "unknown";
}

/** VALID, INVALID, UNKNOWN, ERROR, NOT RUN. */
export function verdictWord(v: RunVerdict): string {
  return v.toUpperCase();
}
