// The harness's side of a relay (main.ts): starts it as a child process and talks to it over
// its control channel (JSON lines on its stdin and stdout, protocol.ts).
//
// The child runs in its own process group (a Ctrl-C in the terminal reaches only the harness,
// as with the nodes) and exits by itself when the harness goes away: its stdin ends then.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { createInterface } from "node:readline";
import { scriptArgs } from "../backends/index.js";
import { ownerTag } from "../runtime/procfs.js";
import type { LinkSettings, LinkSpec, LinkState, RelayCommand, RelayReply } from "./protocol.js";

export interface RelayStartOptions {
  /**
   * A command prefix the relay runs under, e.g. ["ip", "netns", "exec", "paxos-n1"] to run it
   * inside a node's network namespace. Default: none.
   */
  wrap?: readonly string[];
  /** Where its stderr goes (appended). Default: kept in memory for error messages. */
  logFile?: string;
  /** How long it may take to say it is ready. Default 15 s (tsx compiles on a busy machine). */
  startTimeoutMs?: number;
  /** How long a command may take. Default 5 s. */
  commandTimeoutMs?: number;
}

/** What RelayDelay needs of a relay: a way to change a link's settings. */
export interface RelayControl {
  set(name: string, settings: Partial<LinkSettings>): Promise<LinkState>;
}

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;
type Pending = { resolve: (reply: RelayReply) => void; reject: (error: Error) => void };

export class RelayProcess implements RelayControl {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly exited: Promise<void>;
  private gone = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    private readonly commandTimeoutMs: number,
    exited: Promise<void>,
  ) {
    this.exited = exited;
  }

  /** Starts a relay and resolves once it has said it is ready; rejects with its stderr. */
  static async start(options: RelayStartOptions = {}): Promise<RelayProcess> {
    const relayArgs = [...scriptArgs("harness/relay/main"), "--owner", ownerTag(process.pid)];
    const [command, ...args] = [...(options.wrap ?? []), process.execPath, ...relayArgs] as [
      string,
      ...string[],
    ];
    const fd = options.logFile === undefined ? undefined : openSync(options.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        stdio: ["pipe", "pipe", fd ?? "pipe"],
        detached: true,
      });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    // A write to a relay that has just died fails with EPIPE: its exit says so, not a crash.
    child.stdin?.on("error", () => {});
    const stderr: string[] = [];
    child.stderr?.on("data", (c: Buffer) => {
      stderr.push(c.toString("utf8"));
      if (stderr.length > 200) stderr.splice(0, 100);
    });
    const exited = new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.once("error", () => resolve());
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timeoutMs = options.startTimeoutMs ?? 15_000;
    const pid = await new Promise<number>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        const tail = stderr.join("").trim().split("\n").slice(-10).join("\n");
        reject(new Error(`relay: ${why}${tail === "" ? "" : `:\n${tail}`}`));
      };
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        fail(`not ready within ${timeoutMs} ms`);
      }, timeoutMs);
      child.once("error", (error) => fail(`could not start ${command}: ${error.message}`));
      child.once("exit", (code, signal) => fail(`exited before it was ready (${code ?? signal})`));
      lines.once("line", (line) => {
        clearTimeout(timer);
        try {
          const ready = JSON.parse(line) as { ready?: unknown; pid?: unknown };
          if (ready.ready === true && typeof ready.pid === "number") resolve(ready.pid);
          else fail(`unexpected first line ${line}`);
        } catch {
          fail(`unexpected first line ${line}`);
        }
      });
    });
    const relay = new RelayProcess(child, pid, options.commandTimeoutMs ?? 5000, exited);
    child.once("exit", () => relay.lost());
    lines.on("line", (line) => relay.reply(line));
    return relay;
  }

  /** Adds a link; resolves to its state (with the port actually bound). */
  async add(link: LinkSpec): Promise<LinkState> {
    const reply = await this.call({ op: "add", link });
    return reply.link as LinkState;
  }

  async set(name: string, settings: Partial<LinkSettings>): Promise<LinkState> {
    const reply = await this.call({ op: "set", name, settings });
    return reply.link as LinkState;
  }

  async remove(name: string): Promise<void> {
    await this.call({ op: "remove", name });
  }

  /** Every link with its settings and counters. */
  async stats(): Promise<LinkState[]> {
    const reply = await this.call({ op: "stats" });
    return reply.links ?? [];
  }

  /** Whether the process is still there. */
  get running(): boolean {
    return !this.gone;
  }

  /** Closes its stdin (it resets its connections and exits); SIGKILL by PID after graceMs. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.gone) return;
    this.child.stdin?.end();
    const late = new Promise<"late">((r) => setTimeout(() => r("late"), graceMs).unref());
    if ((await Promise.race([this.exited, late])) === "late") {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }

  private call(command: WithoutId<RelayCommand>): Promise<RelayReply & { ok: true }> {
    if (this.gone) return Promise.reject(new Error(`relay ${this.pid} has exited`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(`relay ${this.pid}: no answer to ${command.op} in ${this.commandTimeoutMs} ms`),
        );
      }, this.commandTimeoutMs);
      this.pending.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          if (reply.ok) resolve(reply);
          else reject(new Error(`relay: ${command.op}: ${reply.error}`));
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.stdin?.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  private reply(line: string): void {
    let reply: RelayReply;
    try {
      reply = JSON.parse(line) as RelayReply;
    } catch {
      return;
    }
    if (reply.id === null) return;
    const pending = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    pending?.resolve(reply);
  }

  private lost(): void {
    this.gone = true;
    for (const p of this.pending.values()) p.reject(new Error(`relay ${this.pid} exited`));
    this.pending.clear();
  }
}
