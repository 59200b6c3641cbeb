// Exit codes shared by every command (the README): the worst outcome wins.

export const EXIT = { ok: 0, invalid: 1, unknown: 2, error: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error in what the user gave us: printed as one line, exit 3, never a stack trace. */
export class UsageError extends Error {
  override name = "UsageError";
}

const severity: Record<ExitCode, number> = { 0: 0, 2: 1, 1: 2, 3: 3 };

/** Invalid outranks unknown (a violation found is a finding), an error outranks both. */
export function worst(a: ExitCode, b: ExitCode): ExitCode {
  return severity[a] >= severity[b] ? a : b;
}
