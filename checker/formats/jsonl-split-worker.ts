// The worker thread of jsonl-split.ts: reads the second half of a big jsonl file into event
// columns, with tables of its own, and hands them back.
//
// It takes only the lines the compact reader takes, with a time (the line numbers of the first
// half are not known here), and lines that hold no event (blank, the nemesis's); at anything
// else it gives up, and the main thread reads this half itself. Whatever happens, it posts one
// message and then says so in the shared flag, which the main thread waits on.

import { workerData } from "node:worker_threads";
import type { EventColumns } from "./jsonl-compact.js";
import { CompactLineReader, StringIds, ValueIds } from "./jsonl-compact-line.js";
import { fileSource, forEachLine, type LineEvent, readSlowly } from "./jsonl-scan.js";
import { DONE, type SplitPart, type SplitSetup, STARTED } from "./jsonl-split.js";

/** Growable event columns. */
class Events {
  private size = 0;
  private time: Float64Array;
  private proc: Float64Array;
  private type: Uint8Array;
  private f: Uint8Array;
  private key: Int32Array;
  private kind: Uint8Array;
  private a: Int32Array;
  private b: Int32Array;

  /** `capacity`: the events expected (on the high side: pages never written cost nothing). */
  constructor(capacity: number) {
    const n = Math.max(1 << 16, Math.ceil(capacity));
    this.time = new Float64Array(n);
    this.proc = new Float64Array(n);
    this.type = new Uint8Array(n);
    this.f = new Uint8Array(n);
    this.key = new Int32Array(n);
    this.kind = new Uint8Array(n);
    this.a = new Int32Array(n);
    this.b = new Int32Array(n);
  }

  push(r: CompactLineReader): void {
    if (this.size === this.time.length) this.grow();
    const i = this.size++;
    this.time[i] = r.time;
    this.proc[i] = r.proc;
    this.type[i] = r.type;
    this.f[i] = r.f;
    this.key[i] = r.key;
    this.kind[i] = r.kind;
    this.a[i] = r.a;
    this.b[i] = r.b;
  }

  /** The columns, `size` events long (views: their buffers are transferred, not copied). */
  columns(): EventColumns {
    const n = this.size;
    return {
      size: n,
      time: this.time.subarray(0, n),
      proc: this.proc.subarray(0, n),
      type: this.type.subarray(0, n),
      f: this.f.subarray(0, n),
      key: this.key.subarray(0, n),
      kind: this.kind.subarray(0, n),
      a: this.a.subarray(0, n),
      b: this.b.subarray(0, n),
    };
  }

  private grow(): void {
    const n = this.time.length * 2;
    const more = <T extends Float64Array | Int32Array | Uint8Array>(old: T, made: T): T => {
      made.set(old);
      return made;
    };
    this.time = more(this.time, new Float64Array(n));
    this.proc = more(this.proc, new Float64Array(n));
    this.type = more(this.type, new Uint8Array(n));
    this.f = more(this.f, new Uint8Array(n));
    this.key = more(this.key, new Int32Array(n));
    this.kind = more(this.kind, new Uint8Array(n));
    this.a = more(this.a, new Int32Array(n));
    this.b = more(this.b, new Int32Array(n));
  }
}

const setup = workerData as SplitSetup;
const flag = new Int32Array(setup.flag);
Atomics.store(flag, 0, STARTED);
Atomics.notify(flag, 0);

let part: SplitPart = { ok: false };
try {
  part = readPart();
} finally {
  const transfer = part.ok ? Object.values(part.events).filter((v) => typeof v !== "number") : [];
  setup.port.postMessage(
    part,
    transfer.map((a) => (a as Uint8Array).buffer as ArrayBuffer),
  );
  Atomics.store(flag, 0, DONE);
  Atomics.notify(flag, 0);
}

function readPart(): SplitPart {
  const keys = new StringIds();
  const values = new ValueIds();
  const reader = new CompactLineReader(keys, values);
  // A line of ~100 bytes an event in our histories.
  const e = new Events((setup.to - setup.from) / 64);
  const slow: LineEvent = { time: undefined, type: 0, proc: 0, f: 0, key: "", value: undefined };
  let lines = 0;
  const read = forEachLine(fileSource(setup.fd, setup.from, setup.to), (buf, s, end) => {
    lines++;
    if (reader.read(buf, s, end)) {
      if (!reader.timed) return false;
      e.push(reader);
      return true;
    }
    try {
      // false: a line without an event (which the main thread would skip too).
      return !readSlowly(buf.toString("utf8", s, end), "", lines, slow);
    } catch {
      return false;
    }
  });
  if (!read) return { ok: false };
  return { ok: true, events: e.columns(), keys: keys.strings, values: values.table.values, lines };
}
