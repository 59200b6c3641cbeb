// The checker's entry point: split a history into partitions, search them, gather a verdict.
//
// Partitions are searched in round-robin slices rather than one after the other, as
// Porcupine's goroutines run side by side: an illegal partition that is quick to refute is
// found even when another partition would take the search a very long time.

import { getHeapStatistics } from "node:v8";
import type {
  CheckOptions,
  CheckOutcome,
  CheckResult,
  Model,
  Operation,
  Partition,
  PartitionInfo,
} from "./model.js";
import { UNKNOWN } from "./model.js";
import { PartitionSearch } from "./search.js";

/** Steps a partition searches before the next one gets its turn. */
const SLICE = 20_000;
/** In a full report, how long the other partitions may run once one is found illegal. */
const FULL_REPORT_GRACE_MS = 3_000;
/** Share of the heap limit past which the search stops with `unknown` instead of crashing. */
const HEAP_LIMIT_SHARE = 0.85;

function heapNearlyFull(): boolean {
  const heap = getHeapStatistics();
  return heap.used_heap_size > heap.heap_size_limit * HEAP_LIMIT_SHARE;
}

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
  const deadline = options.timeout ? started + options.timeout * 1000 : Number.POSITIVE_INFINITY;
  const verbose = options.verbose ?? false;
  ops.forEach(validate);

  const partitions: Partition<I, O>[] = model.partition
    ? model.partition(ops)
    : [{ label: "", ops: [...ops], origin: ops.map((_, i) => i) }];
  const readOnly = model.readOnly?.bind(model);
  const infos: PartitionInfo<I, O>[] = partitions.map((p) => ({
    label: p.label,
    result: "unknown",
    ops: p.ops,
    origin: p.origin,
    linearizations: [],
    stuck: [],
  }));

  // Searches are created when first run, so that easy partitions finish (and free their
  // memory) before the next one starts.
  const searches = new Map<number, PartitionSearch<S, I, O>>();
  let queue = partitions.map((_, i) => i);
  let result: CheckResult = "ok";
  let stopAt = deadline;
  let gaveUp: CheckOutcome<I, O>["gaveUp"];
  while (queue.length > 0 && gaveUp === undefined) {
    const waiting: number[] = [];
    for (const i of queue) {
      if (gaveUp !== undefined || (result === "illegal" && !verbose)) {
        waiting.push(i);
        continue;
      }
      const p = partitions[i] as Partition<I, O>;
      let search = searches.get(i);
      if (!search) {
        search = new PartitionSearch(model, p.ops, {
          verbose,
          skip: readOnly
            ? (k) => {
                const op = p.ops[k] as Operation<I, O>;
                return op.output === UNKNOWN && readOnly(op.input);
              }
            : undefined,
        });
        searches.set(i, search);
      }
      const found = search.run(SLICE);
      if (found) {
        searches.delete(i);
        Object.assign(infos[i] as PartitionInfo<I, O>, found);
        if (found.result === "illegal" && result !== "illegal") {
          result = "illegal";
          // A full report goes on with the other partitions, but only for a while: the
          // verdict is known, and a hard partition could otherwise run for ever.
          stopAt = Math.min(stopAt, performance.now() + FULL_REPORT_GRACE_MS);
        }
      } else {
        waiting.push(i);
      }
      if (performance.now() > stopAt) gaveUp = result === "illegal" ? "grace" : "timeout";
      else if (heapNearlyFull()) gaveUp = "memory";
    }
    queue = result === "illegal" && !verbose ? [] : waiting;
  }
  if (result === "ok" && queue.length > 0) result = "unknown";

  // Illegal partitions first, so reports lead with what failed; unfinished ones are unknown.
  const rank = { illegal: 0, unknown: 1, ok: 2 } as const;
  const checked =
    verbose || result !== "illegal" ? infos : infos.filter((p) => p.result === "illegal");
  checked.sort((a, b) => rank[a.result] - rank[b.result]);
  return {
    result,
    partitions: checked,
    partitionCount: partitions.length,
    ...(queue.length > 0 && gaveUp !== undefined ? { gaveUp } : {}),
    ops: ops.length,
    durationMs: performance.now() - started,
  };
}

function validate<I, O>(op: Operation<I, O>, index: number): void {
  if (!Number.isFinite(op.call) || Number.isNaN(op.return) || op.return < op.call) {
    throw new RangeError(
      `operation ${index}: call ${op.call} and return ${op.return} do not form an interval`,
    );
  }
}
