// The relay's control channel: one JSON object per line, commands on the relay's stdin,
// replies and the ready line on its stdout (README.md in this folder has the whole page).
// Both sides import these types; the relay validates every command with the schema below, so
// a bad command gets `{"id":..,"ok":false,"error":".."}` and never stops the relay.

import { z } from "zod";

/**
 * What a link does with traffic: `pass` delivers it (after the delay); `cut` resets every open
 * connection and refuses new ones (the listener is closed); `blackhole` keeps connections open
 * and delivers nothing (reading stops, so the senders' buffers fill as behind a DROP rule; what
 * was held is delivered, in order, once the link passes again).
 */
export type RelayMode = "pass" | "cut" | "blackhole";
export const RELAY_MODES: readonly RelayMode[] = ["pass", "cut", "blackhole"];

export interface Endpoint {
  host: string;
  port: number;
}

/** A link's behaviour; changed at any time with a `set` command. */
export interface LinkSettings {
  /** Added to every chunk, each direction. */
  delayMs: number;
  /**
   * Each chunk's delay is drawn uniformly from [delayMs - jitterMs, delayMs + jitterMs]
   * (clamped at 0), but a chunk is never delivered before the one read before it.
   */
  jitterMs: number;
  /** Bytes per second, each direction, shared by the link's connections; null: unlimited. */
  bandwidth: number | null;
  mode: RelayMode;
}

export const PASS: LinkSettings = { delayMs: 0, jitterMs: 0, bandwidth: null, mode: "pass" };

/** A link: listens on `listen` and forwards each accepted connection to `target`. */
export interface LinkSpec {
  /** Unique within one relay, e.g. "n1->n2". */
  name: string;
  /** Port 0: any free port (the reply says which). */
  listen: Endpoint;
  target: Endpoint;
  /** The local address the relay dials the target from (so source-keyed rules apply). */
  dialFrom?: string;
  settings?: Partial<LinkSettings>;
}

export interface LinkCounters {
  /** Connections accepted since the link was added. */
  connections: number;
  /** Connections open now. */
  open: number;
  /** Bytes delivered to the target, and back to the connecting side. */
  bytesToTarget: number;
  bytesFromTarget: number;
  /** Dials of the target that failed (the accepted connection was then reset). */
  dialFailures: number;
}

export interface LinkState {
  name: string;
  /** The address it listens on, with the port actually bound. */
  listen: Endpoint;
  target: Endpoint;
  settings: LinkSettings;
  counters: LinkCounters;
}

export type RelayCommand =
  | { id: number; op: "add"; link: LinkSpec }
  | { id: number; op: "set"; name: string; settings: Partial<LinkSettings> }
  | { id: number; op: "remove"; name: string }
  | { id: number; op: "stats" };

export type RelayReply =
  | { id: number; ok: true; link?: LinkState; links?: LinkState[] }
  | { id: number | null; ok: false; error: string };

/** The first line the relay writes, once it reads commands. */
export interface ReadyLine {
  ready: true;
  pid: number;
}

const endpoint = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(0).max(65535),
});

const settings = z
  .strictObject({
    delayMs: z.number().min(0).max(600_000),
    jitterMs: z.number().min(0).max(600_000),
    bandwidth: z.number().positive().nullable(),
    mode: z.enum(RELAY_MODES),
  })
  .partial();

const command = z.discriminatedUnion("op", [
  z.strictObject({
    id: z.number().int(),
    op: z.literal("add"),
    link: z.strictObject({
      name: z.string().min(1),
      listen: endpoint,
      target: endpoint.extend({ port: z.number().int().min(1).max(65535) }),
      dialFrom: z.string().min(1).optional(),
      settings: settings.optional(),
    }),
  }),
  z.strictObject({
    id: z.number().int(),
    op: z.literal("set"),
    name: z.string().min(1),
    settings,
  }),
  z.strictObject({ id: z.number().int(), op: z.literal("remove"), name: z.string().min(1) }),
  z.strictObject({ id: z.number().int(), op: z.literal("stats") }),
]);

/** A command line parsed and checked, or why not (naming the field at fault). */
export function parseCommand(
  line: string,
): { ok: true; command: RelayCommand } | { ok: false; id: number | null; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, id: null, error: `not JSON: ${line.slice(0, 80)}` };
  }
  const id =
    typeof raw === "object" && raw !== null && typeof (raw as { id?: unknown }).id === "number"
      ? (raw as { id: number }).id
      : null;
  const parsed = command.safeParse(raw);
  if (parsed.success) return { ok: true, command: parsed.data as RelayCommand };
  const issue = parsed.error.issues[0];
  const where = issue?.path.join(".") || "command";
  return { ok: false, id, error: `${where}: ${issue?.message ?? "invalid"}` };
}
