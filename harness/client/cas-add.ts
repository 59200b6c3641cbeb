// The set workload's `add` over a store that has only read and cas on one key (the set is one
// key holding an array): a cas loop, shared by the clients of every protocol.
//
// read, then cas [old, old + e]; on a definite mismatch again, from the current value the
// mismatch names if it does, else from a new read. ok once a cas succeeds, fail while every
// attempt definitely did not apply, info as soon as one cas is indeterminate (it may have
// added the element: the add as a whole may have happened).
//
// Elements are unique to one add, so the element in the value after nothing but definite
// refusals means a cas the store said it did not apply did apply (a command applied twice, the
// first time unanswered): the add ends there as fail, which is what the store said, and the
// checker finds the element present though never added. Adding it again would hide that.

import type { Value } from "../../checker/history.js";
import type { Completion } from "../types.js";

/** How many cas attempts an add makes before giving up (fail) under contention. */
export const ADD_ATTEMPTS = 10;

/** What the loop needs of a client: a read of the key, and a cas on it. */
export interface CasStore {
  /** A read of the set's key: ok with its value (null: absent). */
  read(signal: AbortSignal): Promise<Completion>;
  /**
   * A cas from -> to: its completion and, on a definite mismatch, the value found instead when
   * the store names it (so the next attempt need not read).
   */
  cas(from: Value[], to: Value[], signal: AbortSignal): Promise<CasAttempt>;
}

export interface CasAttempt {
  completion: Completion;
  current?: Value;
}

/** Adds `element` to the array held by the store's key. */
export async function addByCas(
  store: CasStore,
  element: Value,
  signal: AbortSignal,
): Promise<Completion> {
  let current: Value[] | undefined;
  let lastError = "";
  for (let attempt = 0; attempt < ADD_ATTEMPTS; attempt++) {
    if (signal.aborted) break;
    if (current === undefined) {
      const read = await store.read(signal);
      // A read applies nothing: whatever it says, no cas of ours may have applied yet.
      if (read.type !== "ok") {
        lastError = read.error ?? read.type;
        continue;
      }
      if (!Array.isArray(read.value)) {
        return { type: "fail", error: `the set key holds ${JSON.stringify(read.value)}` };
      }
      current = read.value;
      if (holds(current, element)) return refusedButPresent(attempt);
    }
    const cas = await store.cas(current, [...current, element], signal);
    if (cas.completion.type === "ok") return { type: "ok" };
    if (cas.completion.type === "info") return cas.completion;
    lastError = cas.completion.error ?? "fail";
    current = Array.isArray(cas.current) ? cas.current : undefined;
    if (current !== undefined && holds(current, element)) return refusedButPresent(attempt + 1);
  }
  return { type: "fail", error: `add not applied after ${ADD_ATTEMPTS} attempts: ${lastError}` };
}

function holds(set: readonly Value[], element: Value): boolean {
  const wanted = JSON.stringify(element);
  return set.some((e) => JSON.stringify(e) === wanted);
}

function refusedButPresent(refusals: number): Completion {
  return {
    type: "fail",
    error:
      refusals === 0
        ? "the element is in the set before this add's first cas"
        : `the element is in the set though the store refused every cas of this add (${refusals})`,
  };
}

/** A read of the set's key as a read-all: absent is the empty set; anything but an array fails. */
export function readAllOf(c: Completion): Completion {
  if (c.type !== "ok") return c;
  if (c.value === null || c.value === undefined) return { type: "ok", value: [] };
  if (!Array.isArray(c.value)) {
    return { type: "fail", error: `the set key holds ${JSON.stringify(c.value)}` };
  }
  return c;
}
