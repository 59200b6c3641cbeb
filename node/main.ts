// The node process: `tsx node/main.ts --id n1 --peers ...` or `node dist/node/main.js ...`.
// Exit codes: 0 after SIGTERM/SIGINT, 1 on a fatal error (a failed disk write), 3 on a
// configuration or start-up error (one line on stderr naming the flag at fault).

import { ConfigError, type NodeConfig, parseConfig, USAGE } from "./io/config.js";
import { createLogger } from "./io/logger.js";
import { NodeServer } from "./server.js";

async function main(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let config: NodeConfig;
  try {
    config = parseConfig(argv, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`paxos-node: ${error.message}\n`);
    process.exit(3);
  }
  const logger = createLogger({ node: config.id, level: config.logLevel });
  process.on("uncaughtException", (error) => {
    logger.error("uncaught exception", { error });
    process.exit(1);
  });
  process.on("unhandledRejection", (error) => {
    logger.error("unhandled rejection", { error });
    process.exit(1);
  });

  let server: NodeServer;
  try {
    server = await NodeServer.start({
      config,
      logger,
      onFatal: (error) => {
        // What is on disk is no longer known: stop at once, a restart recovers from the log.
        logger.error("fatal error, exiting", { error });
        process.exit(1);
      },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.error("start-up failed", { error });
    process.stderr.write(`paxos-node: ${message}\n`);
    process.exit(3);
  }

  let signals = 0;
  const stop = (signal: string) => {
    if (++signals > 1) process.exit(1);
    logger.info("shutting down", { signal });
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

await main(process.argv.slice(2));
