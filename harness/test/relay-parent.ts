// A harness-like parent for the relay lifetime test: starts a relay with one link, prints
// its PID on one JSON line, then waits to be killed.

import { RelayProcess } from "../relay/process.js";

const relay = await RelayProcess.start();
await relay.add({
  name: "a->b",
  listen: { host: "127.0.0.1", port: 0 },
  target: { host: "127.0.0.1", port: 9 },
});
process.stdout.write(`${JSON.stringify({ relay: relay.pid })}\n`);
setInterval(() => {}, 1 << 30);
