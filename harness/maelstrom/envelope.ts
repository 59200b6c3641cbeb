// Maelstrom's envelope (its doc/protocol.md): one JSON object per line, `{src, dest, body}`,
// the body an object with a string `type` (and `msg_id`, `in_reply_to` for RPCs). What the
// shim makes of each line its program prints: a reply to one of its own clients, a message
// for another node, or something it cannot route (logged and counted, never a crash).

import type { Value } from "../../checker/history.js";
import type { Body } from "./translate.js";

export interface Message {
  src: string;
  dest: string;
  body: Body;
}

export type Routed =
  /** To a client of the shim ("c..."): a reply, matched by in_reply_to. */
  | { to: "client"; message: Message; inReplyTo: number | undefined }
  /** To a node of the cluster (another, or this one itself). */
  | { to: "node"; message: Message }
  /** Not a message (not JSON, no dest, ...) or to no one we know (a Maelstrom service). */
  | { to: "nowhere"; why: string };

/** Where a line of the program's output goes, among these node ids. */
export function route(line: string, nodeIds: readonly string[]): Routed {
  const parsed = parseMessage(line);
  if (typeof parsed === "string") return { to: "nowhere", why: parsed };
  const inReplyTo = parsed.body.in_reply_to;
  if (nodeIds.includes(parsed.dest)) return { to: "node", message: parsed };
  if (/^c\d+$/.test(parsed.dest)) {
    return {
      to: "client",
      message: parsed,
      inReplyTo: typeof inReplyTo === "number" ? inReplyTo : undefined,
    };
  }
  return { to: "nowhere", why: `dest ${JSON.stringify(parsed.dest)} is no node or client here` };
}

/** A message, or why the line is not one. */
export function parseMessage(line: string): Message | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return `not JSON: ${clip(line)}`;
  }
  if (!isObject(v)) return `not a JSON object: ${clip(line)}`;
  if (typeof v.src !== "string") return `no string src: ${clip(line)}`;
  if (typeof v.dest !== "string") return `no string dest: ${clip(line)}`;
  const body = v.body;
  if (!isObject(body) || typeof body.type !== "string") {
    return `no body object with a string type: ${clip(line)}`;
  }
  return { src: v.src, dest: v.dest, body: body as Body };
}

function isObject(v: unknown): v is { [field: string]: Value } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function clip(line: string): string {
  const one = line.replace(/\s+/g, " ").trim();
  return JSON.stringify(one.length > 80 ? `${one.slice(0, 80)}...` : one);
}
