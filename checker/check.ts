// The checker's entry point: split a history into partitions, search them, gather a verdict.
//
// Partitions are searched in round-robin slices rather than one after the other, as
// Porcupine's goroutines run side by side: an illegal partition that is quick to refute is
// found even when another partition would take the search a very long time (scheduler.ts).
// parallel.ts does the same with worker threads for the hard partitions.

import type { CheckOptions, CheckOutcome, Model, Operation } from "./model.js";
import { CheckRun, prepare } from "./scheduler.js";

/**
 * Checks a history for linearizability against a model. The first illegal partition ends the
 * check unless `verbose` asks for a full report. A timeout makes the verdict `unknown` (unless
 * a partition was already found illegal).
 */
export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckOutcome<I, O> {
  const started = performance.now();
  const run = new CheckRun(prepare(model, ops), options, started);
  run.runLocal(Number.POSITIVE_INFINITY);
  return run.outcome(run.local.pending);
}
