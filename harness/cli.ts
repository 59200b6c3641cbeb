// The command line: `paxos-harness <command>`. Every command resolves to an exit code:
// 0 valid, 1 invalid, 2 unknown, 3 error (bad input, set-up failure); see the README.
//
// Each command's modules are loaded only when that command runs (or its help is asked for):
// `check` never loads dockerode, zx, zod or the harness's runtimes, nemeses and runner, so it
// starts at once. The other commands are listed by name and description only.

import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { EXIT, UsageError } from "./exit.js";
import { MAX_SECONDS } from "./limits.js";

const DESCRIPTIONS = {
  check: "check history files for linearizability (a TypeScript port of Porcupine)",
  test: "run a test: start a cluster, drive clients, inject faults, check the history",
  doctor: "what this machine supports: runtimes, and each nemesis (or why not)",
  validate: "run a suite against every mutant of the built-in node: is each one caught?",
  replay:
    "run a recorded test again: its config and seed, its nemesis operations at the same offsets",
  suite: "run a suite of tests (a matrix): summary.json, junit.xml, index.html; the worst exit",
  serve: "browse the store on 127.0.0.1: runs and suites, newest first, and their reports",
} as const;
type CommandName = keyof typeof DESCRIPTIONS;

export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const done = (c: number) => {
    code = c;
  };
  const program = new Command("paxos-harness")
    .description("A Jepsen-style fault-injection harness with a built-in Multi-Paxos backend")
    .version(version(), "-V, --version", "print the version")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const named = commandNamed(argv);
  for (const name of Object.keys(DESCRIPTIONS) as CommandName[]) {
    if (name !== named) program.command(name).description(DESCRIPTIONS[name]);
    else if (name === "check") await registerCheck(program, done);
    else if (name === "test") {
      const { registerTestCommand } = await import("./test-command.js");
      registerTestCommand(program, done);
    } else if (name === "validate") {
      const { registerValidateCommand } = await import("./validate/command.js");
      registerValidateCommand(program, DESCRIPTIONS.validate, done);
    } else if (name === "replay") {
      const { registerReplayCommand } = await import("./replay-command.js");
      registerReplayCommand(program, done);
    } else if (name === "suite") {
      const { registerSuiteCommand } = await import("./suite/command.js");
      registerSuiteCommand(program, DESCRIPTIONS.suite, done);
    } else if (name === "serve") {
      const { registerServeCommand } = await import("./serve/command.js");
      registerServeCommand(program, DESCRIPTIONS.serve, done);
    } else {
      program
        .command("doctor")
        .description(DESCRIPTIONS.doctor)
        .action(async () => {
          const { runDoctor } = await import("./doctor.js");
          done(await runDoctor());
        });
    }
  }

  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0; usage errors are bad input.
      return err.exitCode === 0 ? EXIT.ok : EXIT.error;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`paxos-harness: ${err.message}\n`);
      return EXIT.error;
    }
    throw err;
  }
}

/** The command the arguments run (`help check` asks for check's help), if they name one. */
function commandNamed(argv: readonly string[]): CommandName | undefined {
  const first = argv[0] === "help" ? argv[1] : argv[0];
  return first !== undefined && first in DESCRIPTIONS ? (first as CommandName) : undefined;
}

async function registerCheck(program: Command, done: (code: number) => void): Promise<void> {
  const [{ FORMATS }, { MODEL_NAMES }] = await Promise.all([
    import("../checker/formats/names.js"),
    import("../checker/models/names.js"),
  ]);
  program
    .command("check")
    .description(DESCRIPTIONS.check)
    .argument("<file...>", "history files")
    .addOption(
      new Option("--model <model>", "the model (default: from the history's content)").choices([
        "register",
        ...MODEL_NAMES,
      ]),
    )
    .addOption(
      new Option("--format <format>", "the history format")
        .choices(["auto", ...FORMATS])
        .default("auto"),
    )
    .option("--initial <value>", "the register's initial value (JSON, else a string)")
    .option(
      "--timeout <seconds>",
      `give up with 'unknown' after this long (per file; at most ${MAX_SECONDS.checkTimeout})`,
      timeoutSeconds,
    )
    .option(
      "--workers <n>",
      "worker threads for hard partitions; 0: one thread (default: the cores but one)",
      workerCount,
    )
    .option("--json", "print one JSON line per file")
    .option("--visualize <out.html>", "write an HTML visualization of the history")
    .option(
      "--witness",
      "for each illegal key, print its minimal witness in words and write it as a history file " +
        "<file>-witness-<key>.<ext>: in the input's format (porcupine-etcd .log, porcupine-kv .txt, " +
        "jsonl .jsonl), Jepsen EDN as our JSONL; check finds the file illegal",
    )
    .option("--witness-dir <dir>", "where --witness writes its files (default: the current folder)")
    .action(async (files: string[], opts) => {
      const { runCheck } = await import("./check-command.js");
      done(await runCheck(files, opts));
    });
}

/** package.json's version: this file is harness/cli.{ts,js} under the root or under dist/. */
function version(): string {
  const up = import.meta.url.endsWith(".ts") ? "../package.json" : "../../package.json";
  const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as {
    version?: string;
  };
  return pkg.version ?? "unknown";
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
