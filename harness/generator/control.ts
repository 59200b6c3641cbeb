// Combinators of control: phases that wait for each other, a random mix, until an operation
// succeeds, and alternation (start/stop pairs).

import type { Stream } from "../../contracts/random.js";
import { concat, DONE, empty, rewrap } from "./basic.js";
import type { Generator, Op } from "./types.js";

/** Waits until every thread it may use is free, then is the generator. */
export function synchronize(gen: Generator): Generator {
  return {
    op(ctx) {
      if (ctx.free.length < ctx.threads.length) return { kind: "pending", next: this };
      return gen.op(ctx);
    },
    update: (ctx, event) => synchronize(gen.update(ctx, event)),
  };
}

/**
 * Each generator in turn; each after the one before is done and every operation it gave has
 * completed (Jepsen's phases: a concat of synchronized generators).
 */
export function phases(...gens: Generator[]): Generator {
  return concat(...gens.map((g, i) => (i === 0 ? g : synchronize(g))));
}

/**
 * At each operation, one of the generators drawn uniformly (the stream `name`); one that is
 * done drops out; done when all are. A drawn generator that is waiting makes the mix wait.
 */
export function mix(gens: readonly Generator[], name = "mix"): Generator {
  const from = (live: readonly Generator[], stream: Stream | undefined): Generator => ({
    op(ctx) {
      let left = live;
      let s = stream ?? ctx.stream(name);
      while (left.length > 0) {
        const [i, after] = s.int(left.length);
        const step = (left[i] as Generator).op(ctx);
        if (step.kind === "done") {
          left = left.filter((_, j) => j !== i);
          s = after;
          continue;
        }
        const put = (n: Generator) => left.map((g, j) => (j === i ? n : g));
        // An operation moves the stream on; a wait keeps the draw, so the same one comes again.
        if (step.kind === "op") return { ...step, next: from(put(step.next), after) };
        return rewrap(step, (n) => from(put(n), s));
      }
      return DONE;
    },
    update: (ctx, event) =>
      from(
        live.map((g) => g.update(ctx, event)),
        stream,
      ),
  });
  return from(gens, undefined);
}

/** The generator until one of its operations completes ok: then done. */
export function untilOk(gen: Generator): Generator {
  const from = (g: Generator, mine: ReadonlySet<Op>): Generator => ({
    op(ctx) {
      const step = g.op(ctx);
      if (step.kind === "op") return { ...step, next: from(step.next, new Set(mine).add(step.op)) };
      return rewrap(step, (n) => from(n, mine));
    },
    update(ctx, event) {
      if (mine.has(event.op) && event.type === "ok") return empty;
      let still = mine;
      if (mine.has(event.op) && event.type !== "invoke") {
        still = new Set(mine);
        (still as Set<Op>).delete(event.op);
      }
      return from(g.update(ctx, event), still);
    },
  });
  return from(gen, new Set());
}

/** An operation of `a`, then one of `b`, then of `a` again...; done when the one whose turn it is is done. */
export function flipFlop(a: Generator, b: Generator): Generator {
  const from = (turn: Generator, other: Generator): Generator => ({
    op(ctx) {
      const step = turn.op(ctx);
      if (step.kind === "op") return { ...step, next: from(other, step.next) };
      return rewrap(step, (n) => from(n, other));
    },
    update: (ctx, event) => from(turn.update(ctx, event), other.update(ctx, event)),
  });
  return from(a, b);
}
