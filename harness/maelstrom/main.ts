// The shim's command line (protocols/maelstrom.ts writes it):
//
//   main --id n1 --host 10.214.7.1 --http-port 8000 --peer-port 7000 \
//        --peers n1=10.214.7.1:7000,n2=... [--reply-timeout-ms 5000] -- PROGRAM [ARGS...]
//
// Logs one JSON line per event to stderr (the node's log). SIGTERM/SIGINT stop the program
// and then the shim.

import { parseArgs } from "node:util";
import { parsePeerFlag } from "../peer-flag.js";
import { Shim } from "./shim.js";

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ time: Date.now(), msg, ...fields })}\n`);
}

function fail(why: string): never {
  log(`maelstrom shim: ${why}`);
  process.exit(3);
}

const split = process.argv.indexOf("--", 2);
if (split < 0 || split === process.argv.length - 1) fail("no program after --");
const [command, ...args] = process.argv.slice(split + 1) as [string, ...string[]];
const { values } = parseArgs({
  args: process.argv.slice(2, split),
  options: {
    id: { type: "string" },
    host: { type: "string" },
    "http-port": { type: "string" },
    "peer-port": { type: "string" },
    peers: { type: "string", default: "" },
    "reply-timeout-ms": { type: "string", default: "5000" },
  },
  strict: true,
});

const id = values.id ?? fail("--id is required");
const host = values.host ?? fail("--host is required");
const port = (flag: string, text: string | undefined): number => {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : fail(`${flag} must be a port`);
};
const positive = (flag: string, text: string | undefined): number => {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fail(`${flag} must be a positive integer`);
};
const parsed = parsePeerFlag(values.peers);
const peers = "error" in parsed ? fail(parsed.error) : parsed;
if (!peers.some((p) => p.id === id)) fail(`--peers does not list ${id}`);

const shim = new Shim({
  self: { id, host, port: port("--peer-port", values["peer-port"]) },
  httpPort: port("--http-port", values["http-port"]),
  peers,
  command,
  args,
  replyTimeoutMs: positive("--reply-timeout-ms", values["reply-timeout-ms"]),
  log,
  exit: (code) => process.exit(code),
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping the program`);
    shim.stop(1000);
    // The program's exit ends us (exit above); this is the backstop.
    setTimeout(() => process.exit(0), 1500).unref();
  });
}
