// The executable's entry: run the CLI, turn any escaped error into one line and exit code 3.

import { main } from "./cli.js";
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
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  // A bug of ours, not the user's input: still one line, the stack only on request.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`paxos-harness: internal error: ${message}\n`);
  if (process.env.PAXOS_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = EXIT.error;
}
