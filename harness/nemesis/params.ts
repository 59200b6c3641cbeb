// What a nemesis operation's parameters name: one string field of its value, one of a list.

import type { Value } from "../../checker/history.js";

/**
 * The field `name` of an operation's parameters when it is one of `choices`; undefined when the
 * parameters do not give it; throws naming `what` and the choices when they give another.
 */
export function choiceParam<T extends string>(
  params: Value | undefined,
  name: string,
  choices: readonly T[],
  what: string,
): T | undefined {
  if (
    params === undefined ||
    params === null ||
    typeof params !== "object" ||
    Array.isArray(params)
  ) {
    return undefined;
  }
  const given = params[name];
  if (given === undefined) return undefined;
  if (typeof given !== "string" || !(choices as readonly string[]).includes(given)) {
    throw new Error(`${what} ${JSON.stringify(given)} is not one of ${choices.join(", ")}`);
  }
  return given as T;
}
