// The command line: `paxos-harness <command>`. Every command resolves to an exit code:
// 0 valid, 1 invalid, 2 unknown, 3 error (bad input, set-up failure); see the README.

import { Command, CommanderError, Option } from "commander";
import { FORMATS } from "../checker/formats/index.js";
import { MODEL_NAMES } from "../checker/models/index.js";
import { runCheck } from "./check-command.js";
import { runDoctor } from "./doctor.js";
import { EXIT, UsageError } from "./exit.js";
import { registerTestCommand } from "./test-command.js";

export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command("paxos-harness")
    .description("A Jepsen-style fault-injection harness with a built-in Multi-Paxos backend")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command("check")
    .description("check history files for linearizability (a TypeScript port of Porcupine)")
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
    .option("--timeout <seconds>", "give up with 'unknown' after this long (per file)", seconds)
    .option(
      "--workers <n>",
      "worker threads for hard partitions; 0: one thread (default: the cores but one)",
      workerCount,
    )
    .option("--json", "print one JSON line per file")
    .option("--visualize <out.html>", "write an HTML visualization of the history")
    .action(async (files: string[], opts) => {
      code = await runCheck(files, opts);
    });

  registerTestCommand(program, (c) => {
    code = c;
  });

  program
    .command("doctor")
    .description("what this machine supports: runtimes, and each nemesis (or why not)")
    .action(async () => {
      code = await runDoctor();
    });

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

function seconds(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`--timeout: '${text}' is not a number of seconds`);
  return n;
}

function workerCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--workers: '${text}' is not a number of threads`);
  return n;
}
