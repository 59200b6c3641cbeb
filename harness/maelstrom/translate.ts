// What the shim says to a Maelstrom program for one http-kv request, and what the program's
// reply means as an http-kv answer (doc/protocol.md). Pure functions: the shim does the I/O.
//
// Maelstrom's lin-kv RPCs (its doc/workloads.md): `read {key}` -> `read_ok {value}`,
// `write {key, value}` -> `write_ok`, `cas {key, from, to}` -> `cas_ok`; or an `error`
// `{code, text}` (its doc/protocol.md, "Errors"). Each error is definite (the operation
// definitely did not, and never will, happen) or indefinite (it may have, or may later).
// The http-kv answers are chosen so that the harness's http-kv client (client/http-kv.ts)
// reads them right: 200 ok; 404 a read of an absent key; 409 a cas whose `from` did not
// match (fail); 503 with `definite: true` fail; 500 info (maybe applied).

import type { Value } from "../../checker/history.js";

export type KvRequest =
  | { f: "read"; key: string }
  | { f: "write"; key: string; value: Value }
  | { f: "cas"; key: string; from: Value; to: Value };

/** A Maelstrom message body: a type, and whatever fields that type has. */
export type Body = { type: string; [field: string]: Value };

/** An http-kv answer of the shim. */
export interface HttpAnswer {
  status: number;
  body: { [field: string]: Value };
}

/** Maelstrom's defined errors, with its own "definite" column. */
export const MAELSTROM_ERRORS: Readonly<Record<number, { name: string; definite: boolean }>> = {
  0: { name: "timeout", definite: false },
  1: { name: "node-not-found", definite: true },
  10: { name: "not-supported", definite: true },
  11: { name: "temporarily-unavailable", definite: true },
  12: { name: "malformed-request", definite: true },
  13: { name: "crash", definite: false },
  14: { name: "abort", definite: true },
  20: { name: "key-does-not-exist", definite: true },
  21: { name: "key-already-exists", definite: true },
  22: { name: "precondition-failed", definite: true },
  30: { name: "txn-conflict", definite: true },
};

export const KEY_DOES_NOT_EXIST = 20;
export const PRECONDITION_FAILED = 22;

/** The body of the Maelstrom request for an http-kv request (the shim adds msg_id). */
export function requestBody(req: KvRequest): Body {
  switch (req.f) {
    case "read":
      return { type: "read", key: req.key };
    case "write":
      return { type: "write", key: req.key, value: req.value };
    case "cas":
      return { type: "cas", key: req.key, from: req.from, to: req.to };
  }
}

/**
 * The http-kv answer to the program's reply to `f`. An error code Maelstrom does not define
 * (including a program's own, 1000 and up) is indefinite: we cannot know that the operation
 * did not happen, and a false `fail` would make a false red. A reply of another type (a
 * `write_ok` to a read, a `read_ok` without a value) is outside the protocol: maybe applied.
 */
export function answerOf(f: KvRequest["f"], reply: Body): HttpAnswer {
  if (reply.type === "error") return errorAnswer(f, reply);
  if (reply.type === `${f}_ok`) {
    if (f !== "read") return { status: 200, body: {} };
    if ("value" in reply) return { status: 200, body: { value: reply.value ?? null } };
    return protocolError(`read_ok without a value`);
  }
  return protocolError(`expected ${f}_ok or error, got ${JSON.stringify(reply.type)}`);
}

function errorAnswer(f: KvRequest["f"], reply: Body): HttpAnswer {
  const code = typeof reply.code === "number" && Number.isInteger(reply.code) ? reply.code : -1;
  const known = MAELSTROM_ERRORS[code];
  const text = typeof reply.text === "string" && reply.text !== "" ? `: ${reply.text}` : "";
  const error = `maelstrom error ${code === -1 ? JSON.stringify(reply.code ?? null) : code} ${known?.name ?? "(unknown code)"}${text}`;
  // A read of a key that does not exist is a read of "absent" (ok, null).
  if (f === "read" && code === KEY_DOES_NOT_EXIST) return { status: 404, body: { error } };
  // A cas whose precondition failed, or on a key that does not exist (Maelstrom's lin-kv
  // answers 20 then): it ran and did not apply, a cas mismatch.
  if (f === "cas" && (code === PRECONDITION_FAILED || code === KEY_DOES_NOT_EXIST)) {
    return { status: 409, body: { error } };
  }
  if (known?.definite) return { status: 503, body: { error, definite: true } };
  return { status: 500, body: { error } };
}

/** A reply the protocol does not have: maybe applied (500 is info to the client). */
export function protocolError(why: string): HttpAnswer {
  return { status: 500, body: { error: `maelstrom protocol error: ${why}` } };
}
