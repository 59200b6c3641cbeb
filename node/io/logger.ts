// Structured logs: one JSON object per line, so the harness can collect nodes/<id>.log and
// tools can filter them without parsing free text.

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  node: string;
  level?: LogLevel;
  /** Receives each line without its newline; default: stdout. */
  write?: (line: string) => void;
  now?: () => Date;
}

const RESERVED = new Set(["t", "level", "node", "msg"]);

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  return make(options.node, threshold, write, now, {});
}

function make(
  node: string,
  threshold: number,
  write: (line: string) => void,
  now: () => Date,
  base: LogFields,
): Logger {
  const enabled = (level: LogLevel) => LOG_LEVELS.indexOf(level) >= threshold;
  const log = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (!enabled(level)) return;
    write(formatLine({ t: now().toISOString(), level, node, msg }, { ...base, ...fields }));
  };
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    enabled,
    child: (fields) => make(node, threshold, write, now, { ...base, ...fields }),
  };
}

function formatLine(head: LogFields, fields: LogFields): string {
  const entry: LogFields = { ...head };
  // A field may not overwrite the envelope a log reader keys on.
  for (const [key, value] of Object.entries(fields)) {
    entry[RESERVED.has(key) ? `field_${key}` : key] = value;
  }
  try {
    return JSON.stringify(entry, replacer);
  } catch (error) {
    // A cyclic or BigInt-bearing field must not lose the line itself.
    return JSON.stringify({ ...head, unserializable: String(error) });
  }
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error)
    return { name: value.name, message: value.message, stack: value.stack };
  if (typeof value === "bigint") return value.toString();
  return value;
}
