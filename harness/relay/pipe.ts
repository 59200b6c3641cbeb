// One direction of one relayed connection: chunks read from `source` wait in a queue until
// their due time (schedule.ts), then are written to `destination`, in the order they were read.
//
// Backpressure: reading from the source stops while the bytes held here plus those waiting in
// the destination's write buffer exceed HIGH_WATER, and starts again below half of it. So a
// slow reader (or a bandwidth limit) slows the sender down through TCP instead of filling the
// relay's memory.
//
// A held pipe (the link in blackhole, or the destination not yet connected) delivers nothing
// and reads nothing; when released, what is overdue goes out at once, still in order.

import type { Socket } from "node:net";
import type { LinkSettings } from "./protocol.js";
import { DueTimes, slices, type Wire } from "./schedule.js";

export const HIGH_WATER = 1 << 20;

interface Queued {
  chunk: Buffer;
  due: number;
}

export interface PipeOptions {
  source: Socket;
  destination: Socket;
  /** The link's settings now (read for every chunk, so a change applies to the next one). */
  settings: () => LinkSettings;
  wire: Wire;
  /** Called with the size of every chunk written to the destination. */
  delivered: (bytes: number) => void;
  random?: () => number;
}

export class Pipe {
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private readonly due: DueTimes;
  private timer: NodeJS.Timeout | undefined;
  private sourceEnded = false;
  private finished = false;
  private held: boolean;

  constructor(
    private readonly o: PipeOptions,
    held: boolean,
  ) {
    this.held = held;
    this.due = new DueTimes(o.random);
    o.source.on("data", (chunk: Buffer) => this.read(chunk));
    o.source.on("end", () => {
      this.sourceEnded = true;
      this.flush();
    });
    o.destination.on("drain", () => this.throttle());
    if (held) o.source.pause();
  }

  /** Stops or restarts delivery (and reading). */
  hold(held: boolean): void {
    if (this.held === held) return;
    this.held = held;
    if (held) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.o.source.pause();
    } else {
      this.flush();
      this.throttle();
    }
  }

  /** Drops what is queued (the connection is being reset). */
  discard(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.finished = true;
  }

  private read(chunk: Buffer): void {
    const settings = this.o.settings();
    const now = performance.now();
    for (const piece of slices(chunk, settings.bandwidth)) {
      this.queue.push({
        chunk: piece,
        due: this.due.next(now, piece.length, settings, this.o.wire),
      });
      this.queuedBytes += piece.length;
    }
    this.throttle();
    if (this.timer === undefined) this.flush();
  }

  /** Writes every chunk that is due, then waits for the next one. */
  private flush(): void {
    this.timer = undefined;
    if (this.held || this.finished) return;
    const { destination } = this.o;
    const now = performance.now();
    while (this.queue.length > 0 && (this.queue[0] as Queued).due <= now) {
      const { chunk } = this.queue.shift() as Queued;
      this.queuedBytes -= chunk.length;
      if (destination.destroyed) continue;
      destination.write(chunk);
      this.o.delivered(chunk.length);
    }
    const head = this.queue[0];
    if (head !== undefined) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, head.due - now));
    } else if (this.sourceEnded) {
      this.finished = true;
      if (!destination.destroyed) destination.end();
    }
    this.throttle();
  }

  /** Pauses or resumes reading from the source, by what is held here and in the destination. */
  private throttle(): void {
    const { source, destination } = this.o;
    if (this.held || source.destroyed) return;
    const backlog = this.queuedBytes + destination.writableLength;
    if (backlog > HIGH_WATER) source.pause();
    else if (backlog <= HIGH_WATER / 2 && source.isPaused()) source.resume();
  }
}
