// The upper bound of each duration a user gives, in seconds: generous for real use, far below
// where Node's timers overflow (2^31-1 ms, about 24.8 days: a longer timer fires at once, so an
// unbounded `--op-timeout 1e9` would make every operation info and the run VALID).

export const MAX_SECONDS = {
  /** `test --time-limit`: a week of workload. */
  timeLimit: 7 * 24 * 3600,
  /** `test --nemesis-interval`: a day between faults. */
  nemesisInterval: 24 * 3600,
  /** `test --op-timeout`: an hour for one operation. */
  opTimeout: 3600,
  /** `test --recovery`: an hour of recovery. */
  recovery: 3600,
  /** `test --check-timeout`, `check --timeout`: a day of checking. */
  checkTimeout: 24 * 3600,
} as const;

/**
 * How long a live node may take to answer /status (or its protocol's readiness) before a nemesis
 * counts it as silent: a live node answers in milliseconds, a paused one never does. One figure
 * for who answers (runner.ts), the follower target's leader look (nemesis/targets.ts) and the
 * looks of `when: leader-change` (nemesis/leader-change.ts).
 */
export const LIVE_ANSWER_MS = 300;
