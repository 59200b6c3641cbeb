// The nemesis schedule: after a short warm-up the first fault starts, then every `interval`
// another (the nemeses in turn, from a random one); each is healed half an interval after it
// started, so that the cluster has the other half to recover before the next one. Events go to
// the history as process "nemesis", type "info", f "start-<kind>" / "stop-<kind>", value = what
// the nemesis says it did.

import type { Value } from "../checker/history.js";
import type { Recorder } from "./recorder.js";
import type { ClusterView, Nemesis } from "./types.js";
import { sleep } from "./workers.js";

export interface ScheduleOptions {
  nemeses: readonly Nemesis[];
  cluster: ClusterView;
  intervalMs: number;
  /** Before the first fault: a short warm-up (the runner: at most a quarter of the time limit). */
  warmupMs: number;
  recorder: Recorder;
  log(message: string, fields?: Record<string, unknown>): void;
  /** Stop starting faults (the end of the workload phase, or Ctrl-C). */
  stop: AbortSignal;
  /** A fault could not be made or did not take, or a heal did not: the run must end (exit 3). */
  onFailure?(error: Error): void;
}

export class NemesisSchedule {
  private active: Nemesis | undefined;
  private healing: Promise<void> | undefined;
  /** The first fault (or heal) that failed or did not take: the run's error. No more faults start. */
  failure: Error | undefined;
  readonly done: Promise<void>;

  constructor(private readonly o: ScheduleOptions) {
    this.done = o.nemeses.length === 0 ? Promise.resolve() : this.loop();
  }

  private async loop(): Promise<void> {
    const { nemeses, cluster, intervalMs, stop } = this.o;
    let next = Math.floor(cluster.random() * nemeses.length);
    for (let wait = this.o.warmupMs; ; wait = intervalMs / 2) {
      await sleep(wait, stop);
      if (stop.aborted) return;
      const nemesis = nemeses[next % nemeses.length] as Nemesis;
      next++;
      await this.start(nemesis);
      if (this.failure === undefined) await sleep(intervalMs / 2, stop);
      await this.heal();
      if (stop.aborted || this.failure !== undefined) return;
    }
  }

  private async start(nemesis: Nemesis): Promise<void> {
    this.active = nemesis;
    try {
      const value = await nemesis.start(this.o.cluster);
      this.o.recorder.nemesis(nemesis.kind, "start", value);
      this.o.log(`nemesis: start ${nemesis.kind}`, { value });
    } catch (err) {
      // The fault may be partly in place: keep it active so that heal() still stops it.
      const error = message(err);
      this.o.recorder.nemesis(nemesis.kind, "start", { error });
      this.o.log(`nemesis: start ${nemesis.kind} failed: ${error}`);
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.o.onFailure?.(this.failure);
  }

  /** Heals the fault in force, if any. Safe to call at any time, and more than once. */
  heal(): Promise<void> {
    if (this.healing) return this.healing;
    const nemesis = this.active;
    if (!nemesis) return Promise.resolve();
    this.healing = (async () => {
      let value: Value;
      try {
        value = await nemesis.stop(this.o.cluster);
        this.o.log(`nemesis: stop ${nemesis.kind}`, { value });
      } catch (err) {
        value = { error: message(err) };
        this.o.log(`nemesis: stop ${nemesis.kind} failed: ${message(err)}`);
        this.fail(err);
      }
      this.o.recorder.nemesis(nemesis.kind, "stop", value);
      this.active = undefined;
      this.healing = undefined;
    })();
    return this.healing;
  }

  /** Stops the schedule and heals what is in force. */
  async finish(): Promise<void> {
    await this.done;
    await this.heal();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
