// An invalid run explained: the illegal keys checked again (only those: the run's own check
// found them), each one's minimal witness (checker/witness.ts) drawn and in words
// (checker/witness-words.ts), and the checker's visualization of the failing keys
// (checker/visualize.ts), as a page of its own that the report shows in a frame.

import { checkOperations } from "../../checker/check.js";
import { parseHistory } from "../../checker/formats/index.js";
import type { HistoryOp, ModelName } from "../../checker/history.js";
import { UNKNOWN } from "../../checker/model.js";
import { type BuiltinModel, MODEL_NAMES, modelFor } from "../../checker/models/index.js";
import { renderVisualization } from "../../checker/visualize.js";
import { findWitness } from "../../checker/witness.js";
import { operationNeeds } from "../../checker/witness-needs.js";
import { describeWitness } from "../../checker/witness-words.js";
import type { Results } from "../results.js";

/** Keys explained in full (witness, visualization); the others are listed. */
export const MAX_KEYS_SHOWN = 3;
/** Witnesses are looked for in this many illegal keys, at most, to show the smallest... */
const MAX_KEYS_TRIED = 10;
/** ...and beyond the first MAX_KEYS_SHOWN, only while this budget lasts (ms). */
const WITNESS_BUDGET_MS = 5_000;
/** A key with more operations than this gets its visualization as a file, not in the page. */
const MAX_INLINE_VISUALIZATION_OPS = 20_000;
/** The second look may take this long; the run's own check already had its time. */
const RECHECK_TIMEOUT_S = 60;
const WITNESS_TIME_LIMIT_MS = 5_000;

export interface WitnessOp {
  process: number;
  /** The node the operation went to, when the history says. */
  node: string | null;
  /** Seconds since the test started; `ret` null: no answer. */
  call: number;
  ret: number | null;
  text: string;
  unknown: boolean;
}

export interface KeyViolation {
  key: string;
  /** Operations of the key in the history. */
  ops: number;
  witness: { ops: WitnessOp[]; minimal: boolean; checks: number; ms: number } | null;
  /** The witness in sentences, one per operation, then why no order fits (the last). */
  words: string[];
}

export interface Violation {
  model: string;
  /** Every key the run found illegal (empty for a model without keys: the set's elements). */
  keys: string[];
  shown: KeyViolation[];
  /** Illegal partitions found by the second look (more than `shown` when capped). */
  illegal: number;
  /** Why something is missing (the second look gave up, a key too big to draw inline). */
  notes: string[];
}

export interface ViolationPages {
  violation: Violation;
  /** The checker's page for the shown keys: inline in the report when small enough. */
  visualization: string | undefined;
  inline: boolean;
}

/** Undefined for a run that is not invalid. */
export function explainViolation(
  results: Results,
  historyText: string,
  historyFile: string,
  nodeOf: (process: number, callNs: number) => string | null,
): ViolationPages | undefined {
  if (results.valid !== false) return undefined;
  const model = modelFor(modelName(results));
  const all = parseHistory(historyText, historyFile, "jsonl").ops;
  const keys = results.violating_keys ?? [];
  const wanted = new Set(keys);
  const ops = keys.length > 0 ? all.filter((op) => wanted.has(op.input.key ?? "")) : all;
  const outcome = checkOperations(model, ops, { verbose: true, timeout: RECHECK_TIMEOUT_S });
  const illegal = outcome.partitions.filter((p) => p.result === "illegal");
  const notes: string[] = [];
  if (illegal.length === 0) {
    notes.push(
      `the second look at ${keys.length > 0 ? keys.join(", ") : "the history"} found no illegal partition within ${RECHECK_TIMEOUT_S} s (${outcome.result})`,
    );
  }
  // The keys whose witnesses are smallest are the quickest to understand: witnesses for the
  // first few illegal keys (within a budget), the smallest shown.
  const began = performance.now();
  const tried: { part: (typeof illegal)[number]; explained: KeyViolation }[] = [];
  for (const p of illegal.slice(0, MAX_KEYS_TRIED)) {
    if (tried.length >= MAX_KEYS_SHOWN && performance.now() - began > WITNESS_BUDGET_MS) break;
    tried.push({ part: p, explained: explainKey(model, p.label, p.ops, nodeOf) });
  }
  const size = (k: KeyViolation) => k.witness?.ops.length ?? Number.POSITIVE_INFINITY;
  const chosen = tried
    .sort((a, b) => size(a.explained) - size(b.explained))
    .slice(0, MAX_KEYS_SHOWN);
  const shownParts = chosen.map((c) => c.part);
  const shown = chosen.map((c) => c.explained);
  const biggest = Math.max(0, ...shownParts.map((p) => p.ops.length));
  const inline = biggest <= MAX_INLINE_VISUALIZATION_OPS;
  if (!inline) {
    notes.push(
      `the visualization of a key of ${biggest} operations is too big for this page: visualization.html`,
    );
  }
  const visualization =
    shownParts.length > 0
      ? renderVisualization(
          model,
          {
            ...outcome,
            result: "illegal",
            partitions: shownParts,
            partitionCount: shownParts.length,
            ops: shownParts.reduce((n, p) => n + p.ops.length, 0),
          },
          { title: `${results.name}: the failing ${shownParts.length === 1 ? "key" : "keys"}` },
        )
      : undefined;
  return {
    violation: { model: model.name, keys, shown, illegal: illegal.length, notes },
    visualization,
    inline,
  };
}

function explainKey(
  model: BuiltinModel,
  key: string,
  ops: readonly HistoryOp[],
  nodeOf: (process: number, callNs: number) => string | null,
): KeyViolation {
  const w = findWitness(model, ops, {
    needs: operationNeeds(ops),
    timeLimitMs: WITNESS_TIME_LIMIT_MS,
  });
  if (!w) {
    return {
      key,
      ops: ops.length,
      witness: null,
      words: ["No witness: the key's search did not finish within the witness's budget."],
    };
  }
  return {
    key,
    ops: ops.length,
    witness: {
      ops: w.ops.map((op) => ({
        process: op.clientId,
        node: nodeOf(op.clientId, op.call),
        call: op.call / 1e9,
        ret: Number.isFinite(op.return) ? op.return / 1e9 : null,
        text: model.describeOperation(op.input, op.output),
        unknown: op.output === UNKNOWN,
      })),
      minimal: w.minimal,
      checks: w.checks,
      ms: Math.round(w.ms),
    },
    words: describeWitness(w.ops, model),
  };
}

/** The model the run was checked with (results.json's checker.model), else the workload's. */
function modelName(results: Results): ModelName {
  const named = results.checker.model;
  if ((MODEL_NAMES as readonly string[]).includes(named)) return named as ModelName;
  return results.workload === "set" ? "set" : results.workload === "kv" ? "kv" : "cas-register";
}
