// `paxos-harness check`'s command line, parsed with Node's own `util.parseArgs`: loading commander
// costs ~15-20 ms of the ~25 ms that `check --help` spent over a bare `node` (measured with
// `npm run bench:checker`), and `check` is the command that must start at once. The other
// commands keep commander (cli.ts); this file answers for check the way commander does there:
// the same help layout, "error: ..." and "(run with --help for usage)" on bad input, exit 3.

import { parseArgs } from "node:util";
import { FORMATS } from "../checker/formats/names.js";
import type { FormatName } from "../checker/history.js";
import { MODEL_NAMES } from "../checker/models/names.js";
import type { CheckFlags } from "./check-command.js";
import { EXIT, UsageError } from "./exit.js";
import { MAX_SECONDS } from "./limits.js";

export const CHECK_DESCRIPTION =
  "check history files for linearizability (a TypeScript port of Porcupine)";

const MODELS = ["register", ...MODEL_NAMES];
const FORMAT_CHOICES = ["auto", ...FORMATS];

interface Flag {
  name: string;
  /** The value's placeholder; none for a switch. */
  value?: string;
  help: string;
}

const FLAGS: readonly Flag[] = [
  {
    name: "model",
    value: "model",
    help: `the model (default: from the history's content) (choices: ${quoted(MODELS)})`,
  },
  {
    name: "format",
    value: "format",
    help: `the history format (choices: ${quoted(FORMAT_CHOICES)}, default: "auto")`,
  },
  { name: "initial", value: "value", help: "the register's initial value (JSON, else a string)" },
  {
    name: "timeout",
    value: "seconds",
    help: `give up with 'unknown' after this long (per file; at most ${MAX_SECONDS.checkTimeout})`,
  },
  {
    name: "workers",
    value: "n",
    help: "worker threads for hard partitions; 0: one thread (default: the cores but one)",
  },
  { name: "json", help: "print one JSON line per file" },
  { name: "visualize", value: "out.html", help: "write an HTML visualization of the history" },
  {
    name: "witness",
    help:
      "for each illegal key, print its minimal witness in words and write it as a history file " +
      "<file>-witness-<key>.<ext>: in the input's format (porcupine-etcd .log, porcupine-kv .txt, " +
      "jsonl .jsonl), Jepsen EDN as our JSONL; check finds the file illegal",
  },
  {
    name: "witness-dir",
    value: "dir",
    help: "where --witness writes its files (default: the current folder)",
  },
];

/** `check ARGS...` (the arguments after `check`): its exit code. */
export async function runCheckCommand(args: readonly string[]): Promise<number> {
  try {
    const parsed = parseCheckArgs(args);
    if (parsed === "help") {
      process.stdout.write(checkHelp());
      return EXIT.ok;
    }
    const { runCheck } = await import("./check-command.js");
    return await runCheck(parsed.files, parsed.flags);
  } catch (err) {
    if (err instanceof SyntaxUsageError) {
      process.stderr.write(`error: ${err.message}\n(run with --help for usage)\n`);
      return EXIT.error;
    }
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`paxos-harness: ${err.message}\n`);
    return EXIT.error;
  }
}

/** What commander would call a usage error (it prints the hint to --help after it). */
class SyntaxUsageError extends UsageError {}

/** The files and flags, or "help"; a UsageError names what is wrong. */
export function parseCheckArgs(
  args: readonly string[],
): { files: string[]; flags: CheckFlags } | "help" {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const f of FLAGS) options[f.name] = { type: f.value ? "string" : "boolean" };
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: valuesJoined(args),
      options,
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    throw new SyntaxUsageError(parseError(err));
  }
  if (values.help === true) return "help";
  if (positionals.length === 0) throw new SyntaxUsageError("missing required argument 'file'");
  const text = (name: string) => values[name] as string | undefined;
  const flags: CheckFlags = {
    format: choice("format", text("format") ?? "auto", FORMAT_CHOICES) as FormatName | "auto",
  };
  const model = text("model");
  if (model !== undefined) flags.model = choice("model", model, MODELS);
  if (text("initial") !== undefined) flags.initial = text("initial");
  const timeout = text("timeout");
  if (timeout !== undefined) flags.timeout = timeoutSeconds(timeout);
  const workers = text("workers");
  if (workers !== undefined) flags.workers = workerCount(workers);
  if (values.json === true) flags.json = true;
  if (text("visualize") !== undefined) flags.visualize = text("visualize");
  if (values.witness === true) flags.witness = true;
  if (text("witness-dir") !== undefined) flags.witnessDir = text("witness-dir");
  return { files: positionals, flags };
}

/** The help, laid out as commander lays out the other commands'. */
export function checkHelp(): string {
  const rows: [string, string][] = [
    ...FLAGS.map((f): [string, string] => [`--${f.name}${f.value ? ` <${f.value}>` : ""}`, f.help]),
    ["-h, --help", "display help for command"],
  ];
  const width = Math.max(...rows.map(([t]) => t.length), "file".length) + 2;
  const wrap = (term: string, help: string) => {
    const lines: string[] = [];
    let line = "";
    for (const word of help.split(" ")) {
      if (line && width + 2 + line.length + 1 + word.length > 80) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
    const pad = " ".repeat(width + 2);
    return `  ${term.padEnd(width)}${lines.join(`\n${pad}`)}\n`;
  };
  return [
    "Usage: paxos-harness check [options] <file...>\n\n",
    `${CHECK_DESCRIPTION}\n\n`,
    "Arguments:\n",
    wrap("file", "history files"),
    "\nOptions:\n",
    ...rows.map(([t, h]) => wrap(t, h)),
  ].join("");
}

/**
 * `--initial -1` as `--initial=-1`: commander gives a flag that takes a value the next argument
 * whatever it starts with, where parseArgs would call a leading dash ambiguous.
 */
function valuesJoined(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const takesValue = FLAGS.some((f) => f.value !== undefined && arg === `--${f.name}`);
    const next = args[i + 1];
    if (takesValue && next !== undefined) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** parseArgs's error as commander words it: "unknown option '--x'", "option '--x <v>' argument missing". */
function parseError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option '${unknown[1]}'`;
  const missing = /^Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(message);
  if (missing) {
    const flag = FLAGS.find((f) => `--${f.name}` === missing[1]);
    return `option '${missing[1]} <${flag?.value ?? "value"}>' argument missing`;
  }
  const extra = /^Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(message);
  if (extra) return `option '${extra[1]}' does not take an argument`;
  return message.split("\n")[0] ?? message;
}

function choice(name: string, value: string, choices: readonly string[]): string {
  if (choices.includes(value)) return value;
  const flag = FLAGS.find((f) => f.name === name);
  throw new SyntaxUsageError(
    `option '--${name} <${flag?.value ?? name}>' argument '${value}' is invalid. Allowed choices are ${choices.join(", ")}.`,
  );
}

function timeoutSeconds(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`--timeout: '${text}' is not a number of seconds`);
  if (n > MAX_SECONDS.checkTimeout)
    throw new UsageError(`--timeout: ${text} is more than ${MAX_SECONDS.checkTimeout} seconds`);
  return n;
}

function workerCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--workers: '${text}' is not a number of threads`);
  return n;
}

function quoted(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(", ");
}
