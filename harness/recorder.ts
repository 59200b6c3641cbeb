// Records operations as they happen: into the history (through the writer) and into the
// counters and latencies that the progress display and results.json report.

import type { Value } from "../checker/history.js";
import { FaultTally } from "./fault-tally.js";
import type { HistoryWriter } from "./history-writer.js";
import type { Completion, Invocation, NemesisKind } from "./types.js";

export interface Counts {
  invoke: number;
  ok: number;
  fail: number;
  info: number;
  /** Of the info: replies the client could not understand (a backend off the protocol). */
  protocol_errors: number;
}

export interface NemesisEvent {
  f: string;
  kind: NemesisKind;
  phase: "start" | "stop";
  value: Value;
}

export class Recorder {
  readonly counts: Counts = { invoke: 0, ok: 0, fail: 0, info: 0, protocol_errors: 0 };
  /** Latency of every ok operation, ms. */
  readonly okLatencies: number[] = [];
  /** The fault in force, for the progress display. */
  currentFault: string | undefined;
  /** The highest process id used so far. */
  maxProcess = -1;
  nemesisEvents = 0;
  onNemesis: ((event: NemesisEvent) => void) | undefined;

  /** The fault record: started, verified and seconds under each kind (results.json's `faults`). */
  readonly faults: FaultTally;

  constructor(
    readonly writer: HistoryWriter,
    kinds: readonly NemesisKind[] = [],
  ) {
    this.faults = new FaultTally(kinds);
  }

  /** Records an invocation (sent to `node`, when known); returns its time (ns since the start). */
  invoke(process: number, op: Invocation, node?: string): number {
    const time = this.writer.now();
    if (process > this.maxProcess) this.maxProcess = process;
    this.counts.invoke++;
    this.writer.write(
      { process, type: "invoke", f: op.f, key: op.key, value: op.value, node },
      time,
    );
    return time;
  }

  /** Records how an operation ended. The history keeps the invocation's value unless it read one. */
  complete(process: number, op: Invocation, c: Completion, invokedAt: number): void {
    const time = this.writer.now();
    this.counts[c.type]++;
    if (c.protocolError) this.counts.protocol_errors++;
    if (c.type === "ok") this.okLatencies.push((time - invokedAt) / 1e6);
    const value =
      c.type === "ok" && (op.f === "read" || op.f === "read-all") ? (c.value ?? null) : op.value;
    this.writer.write({ process, type: c.type, f: op.f, key: op.key, value, error: c.error }, time);
  }

  nemesis(kind: NemesisKind, phase: "start" | "stop", value: Value): void {
    const f = `${phase}-${kind}`;
    this.nemesisEvents++;
    const time = this.writer.now();
    this.writer.write({ process: "nemesis", type: "info", f, value }, time);
    if (phase === "start") this.faults.start(kind, value, time / 1e9);
    else this.faults.stop(kind, time / 1e9);
    this.currentFault = phase === "start" ? kind : undefined;
    this.onNemesis?.({ f, kind, phase, value });
  }
}
