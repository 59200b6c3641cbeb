// The harness's end of a lazyfs daemon's control channel: command lines into one FIFO, one
// JSON reply line for each out of the other. One command at a time, so replies match in order.
//
// Both FIFOs are opened non-blocking (the daemon holds both ends, so neither open waits), and
// the reply FIFO is read through a net.Socket, i.e. libuv's event loop: a blocking fs read
// would hold a thread-pool thread per mount for the life of the mount.

import { closeSync, constants, openSync, writeSync } from "node:fs";
import net from "node:net";

export interface LazyFsCounts {
  /** Files whose unsynced state the command dropped (lose-unsynced) or wrote back (sync-all). */
  files: number;
  /** Bytes of unsynced data among them. */
  bytes: number;
}

export type LazyFsCommand = "lose-unsynced" | "sync-all" | "status";

interface Waiting {
  command: LazyFsCommand;
  resolve: (counts: LazyFsCounts) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class ControlChannel {
  private readonly commandFd: number;
  private readonly replies: net.Socket;
  private buffered = "";
  private waiting: Waiting | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closedBecause: string | undefined;

  constructor(
    commandFifo: string,
    replyFifo: string,
    private readonly timeoutMs = 30_000,
  ) {
    this.commandFd = openSync(commandFifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const replyFd = openSync(replyFifo, constants.O_RDONLY | constants.O_NONBLOCK);
    this.replies = new net.Socket({ fd: replyFd, readable: true, writable: false });
    // The mount does not keep the harness alive: a pending command's timer does.
    this.replies.unref();
    this.replies.setEncoding("utf8");
    this.replies.on("data", (chunk: string) => this.onData(chunk));
    this.replies.on("error", (error) => this.close(`its reply FIFO failed: ${error.message}`));
  }

  /** Sends a command once every earlier one has its reply; resolves with the reply's counts. */
  send(command: LazyFsCommand): Promise<LazyFsCounts> {
    const result = this.queue.then(() => this.sendNow(command));
    this.queue = result.catch(() => {});
    return result;
  }

  /** Rejects the pending command (if any) and every later one with this reason. */
  close(reason: string): void {
    if (this.closedBecause !== undefined) return;
    this.closedBecause = reason;
    this.replies.destroy();
    closeSync(this.commandFd);
    this.settle(new Error(`lazyfs: ${reason}`));
  }

  private sendNow(command: LazyFsCommand): Promise<LazyFsCounts> {
    if (this.closedBecause !== undefined) {
      return Promise.reject(new Error(`lazyfs: ${this.closedBecause}`));
    }
    return new Promise<LazyFsCounts>((resolve, reject) => {
      // A reply that comes later would be taken for the next command's: the channel closes.
      const timer = setTimeout(
        () => this.close(`no reply to ${command} within ${this.timeoutMs} ms (channel closed)`),
        this.timeoutMs,
      );
      this.waiting = { command, resolve, reject, timer };
      try {
        // Shorter than PIPE_BUF: written whole or not at all (EAGAIN: the daemon is stuck).
        writeSync(this.commandFd, `${command}\n`);
      } catch (error) {
        this.settle(new Error(`lazyfs: cannot send ${command}: ${(error as Error).message}`));
      }
    });
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    for (let end = this.buffered.indexOf("\n"); end >= 0; end = this.buffered.indexOf("\n")) {
      const line = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 1);
      this.settle(parseReply(line, this.waiting?.command));
    }
  }

  private settle(outcome: LazyFsCounts | Error): void {
    const waiting = this.waiting;
    if (waiting === undefined) return; // a reply nobody waits for: dropped
    this.waiting = undefined;
    clearTimeout(waiting.timer);
    if (outcome instanceof Error) waiting.reject(outcome);
    else waiting.resolve(outcome);
  }
}

function parseReply(line: string, command: LazyFsCommand | undefined): LazyFsCounts | Error {
  let reply: { cmd?: unknown; files?: unknown; bytes?: unknown; error?: unknown };
  try {
    reply = JSON.parse(line) as typeof reply;
  } catch {
    return new Error(`lazyfs: a reply that is not JSON: ${line}`);
  }
  if (typeof reply.error === "string") return new Error(`lazyfs: ${line}`);
  if (reply.cmd !== command)
    return new Error(`lazyfs: a reply to another command than ${command}: ${line}`);
  if (typeof reply.files !== "number" || typeof reply.bytes !== "number") {
    return new Error(`lazyfs: a reply without files and bytes: ${line}`);
  }
  return { files: reply.files, bytes: reply.bytes };
}
