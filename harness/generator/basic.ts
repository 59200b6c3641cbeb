// The smallest generators: one operation, an operation per ask, nothing, a pause, a log line,
// and the sequences and repetitions of them. Every one is a pure value (see types.ts).

import type { Stream } from "../../contracts/random.js";
import type { Context, Generator, Op, OpTemplate, Step } from "./types.js";

export const DONE: Step = { kind: "done" };

/** A generator with nothing to do. */
export const empty: Generator = {
  op: () => DONE,
  update() {
    return this;
  },
};

/** The same step with its `next` passed through `wrap` (a combinator re-wrapping its inner generator). */
export function rewrap(step: Step, wrap: (next: Generator) => Generator): Step {
  return step.kind === "done" ? step : { ...step, next: wrap(step.next) };
}

/** The template as an operation of this context: its thread (or the first free), now (or later). */
function place(t: OpTemplate, ctx: Context): Op | undefined {
  const thread = t.thread ?? ctx.free[0];
  if (thread === undefined || !ctx.free.includes(thread)) return undefined;
  return { ...t, time: Math.max(t.time ?? ctx.time, ctx.time), thread };
}

/** One operation, on the first free thread (or the template's own), then done. */
export function once(template: OpTemplate): Generator {
  return {
    op(ctx) {
      const op = place(template, ctx);
      return op ? { kind: "op", op, next: empty } : { kind: "pending", next: this };
    },
    update() {
      return this;
    },
  };
}

/** An operation made anew at every ask (undefined: done). `make` must be pure. */
export function fn(make: (ctx: Context) => OpTemplate | undefined): Generator {
  return {
    op(ctx) {
      const template = make(ctx);
      if (template === undefined) return DONE;
      const op = place(template, ctx);
      return op ? { kind: "op", op, next: this } : { kind: "pending", next: this };
    },
    update() {
      return this;
    },
  };
}

/**
 * An operation made anew at every ask from the run's stream `name`, which it carries on: `make`
 * draws from the stream it is given and returns the template and the stream after its draws.
 */
export function random(
  name: string,
  make: (ctx: Context, stream: Stream) => [OpTemplate | undefined, Stream],
): Generator {
  const from = (stream: Stream | undefined): Generator => ({
    op(ctx) {
      const [template, after] = make(ctx, stream ?? ctx.stream(name));
      if (template === undefined) return DONE;
      const op = place(template, ctx);
      // Not placed (no free thread): keep the stream as it was, so the same draw comes again.
      return op ? { kind: "op", op, next: from(after) } : { kind: "pending", next: from(stream) };
    },
    update() {
      return this;
    },
  });
  return from(undefined);
}

/** Waits until this time, then done. */
function until(deadline: number): Generator {
  return {
    op: (ctx) =>
      ctx.time >= deadline ? DONE : { kind: "pending", until: deadline, next: until(deadline) },
    update() {
      return this;
    },
  };
}

/** Does nothing for `ms` from the first ask, then done. */
export function sleep(ms: number): Generator {
  return {
    op: (ctx) => until(ctx.time + ms).op(ctx),
    update() {
      return this;
    },
  };
}

/** Writes one line to the run's log, then done. */
export function log(message: string): Generator {
  return {
    op: () => ({ kind: "log", message, next: empty }),
    update() {
      return this;
    },
  };
}

/** Each generator in turn, the next as soon as the one before is done (events go to the current one). */
export function concat(...gens: Generator[]): Generator {
  const [first, ...rest] = gens;
  if (first === undefined) return empty;
  return {
    op(ctx) {
      for (let i = 0; i < gens.length; i++) {
        const step = (gens[i] as Generator).op(ctx);
        if (step.kind !== "done") return rewrap(step, (n) => concat(n, ...gens.slice(i + 1)));
      }
      return DONE;
    },
    update: (ctx, event) => concat(first.update(ctx, event), ...rest),
  };
}

/** The generator again from its start each time it is done, `times` times in all (default: forever). */
export function cycle(gen: Generator, times = Number.POSITIVE_INFINITY): Generator {
  const from = (current: Generator, left: number): Generator => ({
    op(ctx) {
      let g = current;
      let remaining = left;
      for (;;) {
        const step = g.op(ctx);
        if (step.kind !== "done") return rewrap(step, (n) => from(n, remaining));
        remaining--;
        // A fresh start that is done at once would spin forever: that is done too.
        if (remaining <= 0 || g === gen) return DONE;
        g = gen;
      }
    },
    update: (ctx, event) => from(current.update(ctx, event), left),
  });
  return times <= 0 ? empty : from(gen, times);
}

/** At most `n` operations of the generator. */
export function limit(n: number, gen: Generator): Generator {
  if (n <= 0) return empty;
  return {
    op(ctx) {
      const step = gen.op(ctx);
      if (step.kind === "op") return { ...step, next: limit(n - 1, step.next) };
      return rewrap(step, (next) => limit(n, next));
    },
    update: (ctx, event) => limit(n, gen.update(ctx, event)),
  };
}
