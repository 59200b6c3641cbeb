// Spare ZooKeeper sessions to one node, made ahead: a new client takes one already connected
// when there is one (each session serves one client only, and is closed with it), and a new
// spare is made in its place. Why: the worker that gets an `info` continues with a new client;
// on a follower cut off from the leader no new session can be made (creating one is a write),
// while sessions made before the fault go on being served. Spares are what a long-lived
// application has: sessions of its own, made in quiet times.

import { type SessionOptions, ZkSession } from "./zookeeper-session.js";

export class SpareSessions {
  private spares: ZkSession[] = [];

  constructor(
    private readonly connect: string,
    private readonly options: SessionOptions,
    private readonly count: number,
  ) {}

  /** A session for a new client: a connected spare, else the oldest one, else a new one. */
  take(): ZkSession {
    this.fill();
    const i = this.spares.findIndex((s) => s.isConnected);
    const [taken] = this.spares.splice(Math.max(i, 0), 1);
    this.fill();
    return taken ?? new ZkSession(this.connect, this.options);
  }

  /** Closes the spares not taken. */
  close(): void {
    for (const s of this.spares) s.close();
    this.spares = [];
  }

  private fill(): void {
    this.spares = this.spares.filter((s) => !s.isExpired);
    while (this.spares.length < this.count) {
      this.spares.push(new ZkSession(this.connect, this.options));
    }
  }
}
