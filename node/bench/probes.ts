// The compaction bench's probes: they wrap methods of DurableLog and NodeServer on their
// prototypes, at run time, so that the same bench measures an older tree of node/ as well (whose
// log rewrote itself, `rewrite`, where this one starts a segment, `startSegment`).

import { DurableLog } from "../io/durable-log.js";
import { NodeServer } from "../server.js";

type Method = (this: unknown, ...args: unknown[]) => unknown;

function wrap(proto: object, name: string, around: (original: Method) => Method): boolean {
  const table = proto as Record<string, Method | undefined>;
  const original = table[name];
  if (typeof original !== "function") return false;
  table[name] = around(original);
  return true;
}

export interface Probes {
  /** From each append() (or startSegment()) call to its resolution, ms. */
  appendMs: number[];
  /** How long persist() held the event loop, ms: with a compaction started in it, a snapshot, neither. */
  persistMs: { compacting: number[]; snapshot: number[]; other: number[] };
  /** Recording on or off (the warm-up is not measured). */
  on: boolean;
}

export function installProbes(): Probes {
  const probes: Probes = {
    appendMs: [],
    persistMs: { compacting: [], snapshot: [], other: [] },
    on: false,
  };
  let compacted = false;
  const timedAppend = (original: Method): Method =>
    function (this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      const result = original.apply(this, args) as Promise<void>;
      void result.then(
        () => probes.on && probes.appendMs.push(performance.now() - t0),
        () => {},
      );
      return result;
    };
  const marksCompaction = (original: Method): Method =>
    function (this: unknown, ...args: unknown[]) {
      compacted = true;
      return original.apply(this, args);
    };
  wrap(DurableLog.prototype, "append", timedAppend);
  wrap(DurableLog.prototype, "startSegment", (o) => marksCompaction(timedAppend(o)));
  wrap(DurableLog.prototype, "rewrite", marksCompaction);
  const ok = wrap(
    NodeServer.prototype,
    "persist",
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        compacted = false;
        const t0 = performance.now();
        const result = original.apply(this, args);
        const ms = performance.now() - t0;
        const writes = args[0] as { type: string }[];
        if (probes.on) {
          const kind = compacted
            ? "compacting"
            : writes.some((w) => w.type === "snapshot")
              ? "snapshot"
              : "other";
          probes.persistMs[kind].push(ms);
        }
        return result;
      },
  );
  if (!ok) throw new Error("NodeServer has no persist method to probe");
  return probes;
}
