// The checker's entry point: split a history into partitions, search each, gather a verdict.

import type { CheckOptions, CheckOutcome, Model, Operation, PartitionInfo } from "./model.js";
import { UNKNOWN } from "./model.js";
import { searchPartition } from "./search.js";

/**
 * Checks a history for linearizability against a model. Partitions are checked one after the
 * other; the first illegal one ends the check unless `verbose` asks for a full report. A
 * timeout makes the verdict `unknown` (unless a partition was already found illegal).
 */
export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckOutcome<I, O> {
  const started = performance.now();
  const deadline = options.timeout ? started + options.timeout * 1000 : Number.POSITIVE_INFINITY;
  const verbose = options.verbose ?? false;
  ops.forEach(validate);

  const partitions = model.partition
    ? model.partition(ops)
    : [{ label: "", ops: [...ops], origin: ops.map((_, i) => i) }];
  const readOnly = model.readOnly?.bind(model);

  const infos: PartitionInfo<I, O>[] = [];
  let result: CheckOutcome<I, O>["result"] = "ok";
  for (const p of partitions) {
    const found = searchPartition(model, p.ops, {
      deadline,
      verbose,
      skip: readOnly
        ? (i) => {
            const op = p.ops[i] as Operation<I, O>;
            return op.output === UNKNOWN && readOnly(op.input);
          }
        : undefined,
    });
    infos.push({
      label: p.label,
      result: found.result,
      ops: p.ops,
      origin: p.origin,
      linearizations: found.linearizations,
      stuck: found.stuck,
    });
    if (found.result === "illegal") {
      result = "illegal";
      if (!verbose) break;
    } else if (found.result === "unknown" && result === "ok") {
      result = "unknown";
      if (!verbose) break; // out of time: the remaining partitions cannot be checked either
    }
  }
  // Illegal partitions first, so reports lead with what failed.
  const rank = { illegal: 0, unknown: 1, ok: 2 } as const;
  infos.sort((a, b) => rank[a.result] - rank[b.result]);
  return { result, partitions: infos, ops: ops.length, durationMs: performance.now() - started };
}

function validate<I, O>(op: Operation<I, O>, index: number): void {
  if (!Number.isFinite(op.call) || Number.isNaN(op.return) || op.return < op.call) {
    throw new RangeError(
      `operation ${index}: call ${op.call} and return ${op.return} do not form an interval`,
    );
  }
}
