// The executable's entry: run the CLI, turn any escaped error into one line and exit code 3.

import { EXIT } from "./exit.js";

// `doctor | head -3`: the reader went away. Stop quietly, as Unix tools do, instead of dying
// on an EPIPE stack trace; any other stream error is still ours to report.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? EXIT.ok);
    throw err;
  });
}

try {
  const argv = process.argv.slice(2);
  // `check` (and `help check`) skip commander: see check-cli.ts.
  if (argv[0] === "check" || (argv[0] === "help" && argv[1] === "check")) {
    const { runCheckCommand } = await import("./check-cli.js");
    process.exitCode = await runCheckCommand(argv[0] === "check" ? argv.slice(1) : ["--help"]);
  } else {
    const { main } = await import("./cli.js");
    process.exitCode = await main(argv);
  }
} catch (err) {
  // A bug of ours, not the user's input: still one line, the stack only on request.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`paxos-harness: internal error: ${message}\n`);
  if (process.env.PAXOS_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = EXIT.error;
}
