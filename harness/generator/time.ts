// Combinators of time: operations spaced at a mean rate, and a deadline.

import type { Stream } from "../../contracts/random.js";
import { DONE, rewrap } from "./basic.js";
import type { Generator } from "./types.js";

/**
 * The generator's operations spaced by intervals drawn uniformly from [0, 2 * meanMs] (the
 * stream `name`), so that they come at 1/meanMs on average over every thread together, as
 * Jepsen's stagger: an operation waits for its time; a late one (no thread was free) goes at once.
 */
export function stagger(meanMs: number, gen: Generator, name = "stagger"): Generator {
  const from = (
    g: Generator,
    nextAt: number | undefined,
    stream: Stream | undefined,
  ): Generator => ({
    op(ctx) {
      const step = g.op(ctx);
      if (step.kind !== "op") return rewrap(step, (n) => from(n, nextAt, stream));
      const at = Math.max(step.op.time, nextAt ?? ctx.time);
      const [u, after] = (stream ?? ctx.stream(name)).float();
      return {
        kind: "op",
        op: { ...step.op, time: at },
        next: from(step.next, at + 2 * meanMs * u, after),
      };
    },
    update: (ctx, event) => from(g.update(ctx, event), nextAt, stream),
  });
  return from(gen, undefined, undefined);
}

/**
 * The generator until `ms` after it is first asked: then done (operations in flight go on).
 * No operation it gives is timed at or past the deadline.
 */
export function timeLimit(ms: number, gen: Generator): Generator {
  const bounded = (g: Generator, deadline: number): Generator => ({
    op(ctx) {
      if (ctx.time >= deadline) return DONE;
      const step = g.op(ctx);
      if (step.kind === "op" && step.op.time >= deadline) return DONE;
      if (step.kind === "pending") {
        const until = Math.min(step.until ?? deadline, deadline);
        return { kind: "pending", until, next: bounded(step.next, deadline) };
      }
      return rewrap(step, (n) => bounded(n, deadline));
    },
    update: (ctx, event) => bounded(g.update(ctx, event), deadline),
  });
  return {
    // The deadline is fixed at the first ask, by a step the interpreter adopts at once: a
    // pending "ask again now".
    op: (ctx) => ({ kind: "pending", until: ctx.time, next: bounded(gen, ctx.time + ms) }),
    update: (ctx, event) => timeLimit(ms, gen.update(ctx, event)),
  };
}
