// The command line: `paxos-harness <command>`. Every command resolves to an exit code:
// 0 valid, 1 invalid, 2 unknown, 3 error (bad input, set-up failure); see the README.
//
// Each command's modules are loaded only when that command runs (or its help is asked for);
// the other commands are listed by name and description only. `check` does not come here at
// all (main.ts sends it to check-cli.ts): it never loads commander, dockerode, zx, zod or the
// harness's runtimes, nemeses and runner, so it starts at once.

import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { CHECK_DESCRIPTION } from "./check-cli.js";
import { EXIT, UsageError } from "./exit.js";

const DESCRIPTIONS = {
  check: CHECK_DESCRIPTION,
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

/** package.json's version: this file is harness/cli.{ts,js} under the root or under dist/. */
function version(): string {
  const up = import.meta.url.endsWith(".ts") ? "../package.json" : "../../package.json";
  const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as {
    version?: string;
  };
  return pkg.version ?? "unknown";
}
