// The user's Maelstrom program as a child of the shim: JSON lines to its stdin, lines from its
// stdout, its stderr straight to ours (the node's log). It dies with the shim: through
// setpriv's parent-death signal where the machine has setpriv (a SIGKILL of the shim, the
// kill nemesis, cannot be caught to pass on), and in any case its stdin closes then, which
// ends any program that reads to end of input.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";

const SETPRIV = "/usr/bin/setpriv";

export interface ProgramEvents {
  line(text: string): void;
  exit(code: number | null, signal: NodeJS.Signals | null): void;
  /** It could not be started at all (no such file, not executable). */
  error(error: Error): void;
}

export class Program {
  private readonly child: ChildProcess;

  constructor(command: string, args: readonly string[], events: ProgramEvents) {
    const [file, argv] = existsSync(SETPRIV)
      ? [SETPRIV, ["--pdeathsig", "KILL", "--", command, ...args]]
      : [command, [...args]];
    this.child = spawn(file, argv, { stdio: ["pipe", "pipe", "inherit"] });
    this.child.on("error", (e) => events.error(e));
    this.child.on("exit", (code, signal) => events.exit(code, signal));
    // A program that stops reading (it exited, or is wedged) must not crash us on EPIPE.
    this.child.stdin?.on("error", () => {});
    const lines = createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    lines.on("line", (text) => {
      if (text.trim() !== "") events.line(text);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** One message line to its stdin. */
  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs: number): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    setTimeout(() => this.child.kill("SIGKILL"), graceMs).unref();
  }
}
