// Structured logs: one JSON object per line, so the harness can collect nodes/<id>.log and
// tools can filter them without parsing free text. Written by pino; the line keeps the fields
// node/README.md documents (`t` ISO time, `level` by name, `node`, `msg`) plus the call's own.

import { type DestinationStream, type Logger as Pino, pino } from "pino";

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
  /** Receives each line without its newline; default: stdout, written synchronously. */
  write?: (line: string) => void;
  now?: () => Date;
}

/** The envelope a log reader keys on: a field of the same name is renamed `field_<name>`. */
const RESERVED = new Set(["t", "level", "node", "msg"]);

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(options: LoggerOptions): Logger {
  const now = options.now ?? (() => new Date());
  const write = options.write;
  const destination: DestinationStream =
    write === undefined
      ? pino.destination({ dest: 1, sync: true })
      : { write: (line: string) => write(line.endsWith("\n") ? line.slice(0, -1) : line) };
  const logger = pino(
    {
      level: options.level ?? "info",
      base: { node: options.node },
      timestamp: () => `,"t":"${now().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }), log: plainFields },
    },
    destination,
  );
  return wrap(logger);
}

function wrap(logger: Pino): Logger {
  const log = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (fields === undefined) logger[level](msg);
    else logger[level](renamed(fields), msg);
  };
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    enabled: (level) => logger.isLevelEnabled(level),
    child: (fields) => wrap(logger.child(plainFields(renamed(fields)))),
  };
}

/** Fields named as the envelope's get a `field_` prefix, so they cannot overwrite it. */
function renamed(fields: LogFields): LogFields {
  let out: LogFields | undefined;
  for (const key of Object.keys(fields)) {
    if (!RESERVED.has(key)) continue;
    out ??= { ...fields };
    out[`field_${key}`] = out[key];
    delete out[key];
  }
  return out ?? fields;
}

/** An Error anywhere at the top: its name, message and stack; a BigInt: its digits. */
function plainFields(fields: LogFields): LogFields {
  let out: LogFields | undefined;
  for (const [key, value] of Object.entries(fields)) {
    const plain =
      value instanceof Error
        ? { name: value.name, message: value.message, stack: value.stack }
        : typeof value === "bigint"
          ? value.toString()
          : value;
    if (plain === value) continue;
    out ??= { ...fields };
    out[key] = plain;
  }
  return out ?? fields;
}
