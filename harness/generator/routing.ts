// Combinators of threads: which threads a generator may use, one copy per thread, and several
// generators side by side.

import { DONE, rewrap } from "./basic.js";
import type { Context, Generator, Step, Thread } from "./types.js";

/** The generator sees only the threads `keep` accepts, and only their events. */
export function onThreads(keep: (thread: Thread) => boolean, gen: Generator): Generator {
  const narrow = (ctx: Context): Context => ({
    ...ctx,
    threads: ctx.threads.filter(keep),
    free: ctx.free.filter(keep),
  });
  return {
    op: (ctx) => rewrap(gen.op(narrow(ctx)), (n) => onThreads(keep, n)),
    update(ctx, event) {
      return keep(event.thread) ? onThreads(keep, gen.update(narrow(ctx), event)) : this;
    },
  };
}

/** Only the client threads (the workers). */
export function clients(gen: Generator): Generator {
  return onThreads((t) => t !== "nemesis", gen);
}

/** Only the nemesis thread. */
export function nemesis(gen: Generator): Generator {
  return onThreads((t) => t === "nemesis", gen);
}

/** Of several steps, the one to act on: a log first, else the soonest operation, else a wait. */
function choose(
  steps: readonly Step[],
): { index: number; step: Step } | { pending: true; until: number | undefined } | undefined {
  let soonest: { index: number; step: Step; time: number } | undefined;
  let until: number | undefined;
  let waiting = false;
  for (const [index, step] of steps.entries()) {
    if (step.kind === "log") return { index, step };
    if (step.kind === "op") {
      if (soonest === undefined || step.op.time < soonest.time) {
        soonest = { index, step, time: step.op.time };
      }
    } else if (step.kind === "pending") {
      waiting = true;
      if (step.until !== undefined) until = Math.min(until ?? step.until, step.until);
    }
  }
  if (soonest) return { index: soonest.index, step: soonest.step };
  return waiting ? { pending: true, until } : undefined;
}

/** Every generator side by side: at each ask, the soonest operation of any; done when all are. */
export function any(...gens: Generator[]): Generator {
  return {
    op(ctx) {
      const steps = gens.map((g) => g.op(ctx));
      const choice = choose(steps);
      if (choice === undefined) return DONE;
      // Waiting steps are adopted with the chosen one (their next is what they would be after it).
      const after = steps.map((s, i) => (s.kind === "pending" ? s.next : (gens[i] as Generator)));
      if ("pending" in choice) {
        const next = any(...after);
        return choice.until === undefined
          ? { kind: "pending", next }
          : { kind: "pending", until: choice.until, next };
      }
      const { index, step } = choice;
      return rewrap(step, (n) => any(...after.map((g, i) => (i === index ? n : g))));
    },
    update: (ctx, event) => any(...gens.map((g) => g.update(ctx, event))),
  };
}

/**
 * A copy of the generator for each thread, asked with that thread alone; done when every copy
 * is. Of threads whose operations are due at the same time, the one after the thread last given
 * an operation goes first (round robin): with operations that end at once, the first thread
 * would otherwise take every one, and the workers bound to the other nodes none.
 */
export function each(gen: Generator): Generator {
  const from = (copies: ReadonlyMap<Thread, Generator>, last: Thread | undefined): Generator => {
    const copyOf = (t: Thread): Generator => copies.get(t) ?? gen;
    const alone = (ctx: Context, t: Thread): Context => ({
      ...ctx,
      threads: [t],
      free: ctx.free.includes(t) ? [t] : [],
    });
    return {
      op(ctx) {
        const at = last === undefined ? -1 : ctx.threads.indexOf(last);
        const order = [...ctx.threads.slice(at + 1), ...ctx.threads.slice(0, at + 1)];
        const steps = order.map((t) => copyOf(t).op(alone(ctx, t)));
        const choice = choose(steps);
        if (choice === undefined) return DONE;
        const after = new Map(copies);
        steps.forEach((s, i) => {
          if (s.kind === "pending") after.set(order[i] as Thread, s.next);
        });
        if ("pending" in choice) {
          const next = from(after, last);
          return choice.until === undefined
            ? { kind: "pending", next }
            : { kind: "pending", until: choice.until, next };
        }
        const thread = order[choice.index] as Thread;
        const chosen = choice.step.kind === "op" ? thread : last;
        return rewrap(choice.step, (n) => from(new Map(after).set(thread, n), chosen));
      },
      update(ctx, event) {
        if (!ctx.threads.includes(event.thread)) return this;
        const copy = copyOf(event.thread).update(alone(ctx, event.thread), event);
        return from(new Map(copies).set(event.thread, copy), last);
      },
    };
  };
  return from(new Map(), undefined);
}
