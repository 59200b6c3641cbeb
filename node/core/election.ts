// Election timing, in ticks: a follower or candidate that hears from no leader for a randomized
// timeout (electionTicks + a random 0..electionTicks-1, drawn from the injected random function)
// starts phase 1; a leader sends heartbeats every heartbeatTicks and steps down if it has not heard
// from a quorum within an election timeout (check-quorum), so a leader cut off in a minority stops
// accepting requests.

import type { NodeId } from "./types.js";

export class ElectionTimer {
  /** Ticks since the last word from a live leader (or since our own campaign started). */
  elapsed = 0;
  timeout: number;
  heartbeatElapsed = 0;
  /** Leader: peers heard from in the current check-quorum window. */
  readonly heard = new Set<NodeId>();
  windowElapsed = 0;

  constructor(
    private readonly electionTicks: number,
    private readonly random: () => number,
  ) {
    this.timeout = this.randomized();
  }

  /**
   * Timeouts in a row that found no leader. Each doubles the next timeout (up to 8 times), so a
   * network slower than one timeout (a round trip of 400 ms against 200-380 ms) still elects.
   */
  private fruitless = 0;

  private randomized(): number {
    const base = this.electionTicks + Math.floor(this.random() * this.electionTicks);
    return base * 2 ** Math.min(this.fruitless, 3);
  }

  reset(): void {
    this.elapsed = 0;
    this.timeout = this.randomized();
  }

  /** The timeout ran out without a leader: the next one is longer. */
  backOff(): void {
    this.fruitless++;
  }

  /** A live leader (or our own leadership): timeouts back to their normal length. */
  heardLeader(): void {
    this.fruitless = 0;
  }

  expired(): boolean {
    return this.elapsed >= this.timeout;
  }

  /** True while a leader was heard from recently: refuse to promise to others (stickiness). */
  leaderFresh(): boolean {
    return this.elapsed < this.electionTicks;
  }

  startWindow(): void {
    this.heard.clear();
    this.windowElapsed = 0;
  }
}
