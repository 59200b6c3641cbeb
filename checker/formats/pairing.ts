// Pairs invocations with their completions, process by process, as every format needs.
//
// Operations are created at their invoke, so the finished list is in call order as long as
// events are fed in time order. An open call is known by its slot in that list (no record per
// call: a million-op history should allocate little beyond its operations).

import {
  HistoryError,
  type HistoryOp,
  type OpInput,
  type OpOutput,
  type Value,
} from "../history.js";
import { UNKNOWN } from "../model.js";

export class Pairing {
  private readonly ops: (HistoryOp | null)[] = [];
  /** For each slot, the line of its invoke, for messages. */
  private readonly lines: number[] = [];
  /** process -> slot of its open call */
  private readonly open = new Map<number, number>();
  private dropped = 0;

  constructor(private readonly file: string) {}

  invoke(process: number, input: OpInput, time: number, line: number): void {
    const prev = this.open.get(process);
    if (prev !== undefined) {
      throw new HistoryError(
        this.file,
        line,
        `process ${process} invoked at line ${line} while its invoke at line ${this.lines[prev]} is still open`,
      );
    }
    this.open.set(process, this.ops.length);
    this.lines.push(line);
    this.ops.push({ clientId: process, input, call: time, output: UNKNOWN, return: Infinity });
  }

  /** Closes the open call of `process`, completed with `f`; its slot. */
  complete(process: number, f: string, line: number): number {
    const slot = this.open.get(process);
    const op = slot === undefined ? undefined : this.ops[slot];
    if (slot === undefined || op == null) {
      throw new HistoryError(
        this.file,
        line,
        `a return without a call: process ${process} has no open invoke of ${f}`,
      );
    }
    if (op.input.f !== f) {
      throw new HistoryError(
        this.file,
        line,
        `process ${process} completes ${f} but its invoke at line ${this.lines[slot]} is ${op.input.f}`,
      );
    }
    this.open.delete(process);
    return slot;
  }

  /** A closed call returned: what and when. */
  returned(slot: number, output: OpOutput | typeof UNKNOWN, time: number): void {
    const op = this.ops[slot];
    if (op == null) return;
    op.output = output;
    op.return = time;
  }

  /** A closed call definitely did not happen: it leaves the history. */
  drop(slot: number): void {
    this.ops[slot] = null;
    this.dropped++;
  }

  /**
   * The operations in call order. Calls still open return UNKNOWN at `end` (Infinity: never;
   * Porcupine's logs put them at the end of the history instead).
   */
  finish(end: number): HistoryOp[] {
    for (const slot of this.open.values()) {
      const op = this.ops[slot];
      if (op != null) op.return = end;
    }
    this.open.clear();
    if (this.dropped === 0) return this.ops as HistoryOp[];
    return this.ops.filter((op): op is HistoryOp => op !== null);
  }
}

/** The operations our formats record. */
export const OP_FUNCTIONS = ["read", "write", "cas", "add", "read-all"] as const;
export type OpFunction = (typeof OP_FUNCTIONS)[number];

// Outputs that carry nothing of their own are shared: a big history need not allocate one per op.
/** The output of an op that returns nothing (a write, a put, an append, an add). */
export const NOTHING: OpOutput = Object.freeze({});
/** The output of a cas that succeeded. */
export const CAS_OK: OpOutput = Object.freeze({ ok: true });

/**
 * An operation's input from what a history recorded: its f, key and value. Undefined for a cas
 * whose value is not `[from, to]`, which the caller reports with its line.
 */
export function opInput(f: OpFunction, key: string, value: Value | undefined): OpInput | undefined {
  switch (f) {
    case "read":
    case "read-all":
      return { f, key };
    case "write":
    case "add":
      return { f, key, value: value ?? null };
    case "cas":
      if (!Array.isArray(value) || value.length !== 2) return undefined;
      return { f, key, from: value[0] as Value, to: value[1] as Value };
  }
}
