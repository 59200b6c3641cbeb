// The relay process: `node relay/main.js [--owner PID:START]` (from source, through tsx).
// Serves links (link.ts) set up and changed over its control channel: JSON lines, commands on
// stdin, replies on stdout (protocol.ts; README.md in this folder). Knows nothing of
// namespaces: addresses are data, so the harness may run it inside a node's namespace.
//
// It must never outlive the harness that started it: it exits when its stdin ends (the
// harness's end of the pipe closes when the harness dies, however it dies), when stdout
// breaks, and, as a second guard, when its parent process changes (re-parented to init or a
// subreaper). `--owner` is not read: it puts the owning harness's identity in our command line.

import { createInterface } from "node:readline";
import { Link } from "./link.js";
import {
  type LinkState,
  parseCommand,
  type ReadyLine,
  type RelayCommand,
  type RelayReply,
} from "./protocol.js";

const links = new Map<string, Link>();
let exiting = false;

function send(line: RelayReply | ReadyLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function handle(command: RelayCommand): Promise<RelayReply> {
  switch (command.op) {
    case "add": {
      if (links.has(command.link.name)) throw new Error(`link ${command.link.name} exists`);
      const link = new Link(command.link);
      await link.open();
      links.set(link.name, link);
      return { id: command.id, ok: true, link: link.state() };
    }
    case "set": {
      const link = named(command.name);
      await link.set(command.settings);
      return { id: command.id, ok: true, link: link.state() };
    }
    case "remove": {
      const link = named(command.name);
      links.delete(link.name);
      await link.close();
      return { id: command.id, ok: true };
    }
    case "stats": {
      const states: LinkState[] = [...links.values()].map((l) => l.state());
      return { id: command.id, ok: true, links: states };
    }
  }
}

function named(name: string): Link {
  const link = links.get(name);
  if (link === undefined) throw new Error(`no link ${name}`);
  return link;
}

function exit(): void {
  if (exiting) return;
  exiting = true;
  for (const link of links.values()) void link.close();
  // Give the resets a moment to leave, then go whatever is still open.
  setTimeout(() => process.exit(0), 50);
}

// Commands run one after the other, in the order they came.
let queue: Promise<void> = Promise.resolve();
const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
lines.on("line", (line) => {
  if (line.trim() === "") return;
  queue = queue.then(async () => {
    const parsed = parseCommand(line);
    if (!parsed.ok) {
      send({ id: parsed.id, ok: false, error: parsed.error });
      return;
    }
    try {
      send(await handle(parsed.command));
    } catch (error) {
      send({ id: parsed.command.id, ok: false, error: (error as Error).message });
    }
  });
});
lines.on("close", exit);
process.stdout.on("error", exit);
process.on("SIGTERM", exit);
process.on("SIGINT", exit);

const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) exit();
}, 250).unref();

send({ ready: true, pid: process.pid });
