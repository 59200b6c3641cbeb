// What a running test shows. On a terminal: one line redrawn 4 times a second (elapsed and
// remaining time, ok/fail/info counts, ops/s, the fault in force). Otherwise (CI, a pipe):
// a plain log line every few seconds and one per nemesis event.

import type { NemesisEvent, Recorder } from "./recorder.js";

export interface Progress {
  /** The workload phase began; it lasts `seconds`. */
  start(recorder: Recorder, seconds: number): void;
  /** A line of its own (phases, nemesis events). */
  note(line: string): void;
  stop(): void;
}

export function createProgress(
  stream: NodeJS.WriteStream = process.stderr,
  options: { tty?: boolean; everyMs?: number } = {},
): Progress {
  const tty = options.tty ?? stream.isTTY === true;
  let timer: NodeJS.Timeout | undefined;
  let recorder: Recorder | undefined;
  let began = 0;
  let seconds = 0;
  let lastOk = 0;
  let lastAt = 0;
  let drawn = false;

  const line = () => {
    if (!recorder) return "";
    const now = performance.now();
    const elapsed = (now - began) / 1000;
    const c = recorder.counts;
    const done = c.ok + c.fail + c.info;
    const rate =
      lastAt === 0 ? done / Math.max(elapsed, 1e-3) : ((c.ok - lastOk) * 1000) / (now - lastAt);
    lastOk = c.ok;
    lastAt = now;
    const fault = recorder.currentFault ?? "none";
    return `${clock(elapsed)} elapsed, ${clock(Math.max(0, seconds - elapsed))} left | ok ${c.ok} fail ${c.fail} info ${c.info} | ${Math.round(rate)} ok/s | fault: ${fault}`;
  };
  const clear = () => {
    if (tty && drawn) stream.write("\r\x1b[K");
    drawn = false;
  };

  return {
    start(r, s) {
      recorder = r;
      seconds = s;
      began = performance.now();
      r.onNemesis = (e: NemesisEvent) => this.note(`nemesis: ${e.f} ${JSON.stringify(e.value)}`);
      const every = options.everyMs ?? (tty ? 250 : 5000);
      timer = setInterval(() => {
        if (tty) {
          stream.write(`\r\x1b[K${line()}`);
          drawn = true;
        } else stream.write(`${line()}\n`);
      }, every);
      timer.unref();
    },
    note(text) {
      clear();
      stream.write(`${text}\n`);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (recorder) recorder.onNemesis = undefined;
      clear();
    },
  };
}

/** A progress that shows nothing (tests, bench). */
export const quietProgress: Progress = { start() {}, note() {}, stop() {} };

function clock(s: number): string {
  const m = Math.floor(s / 60);
  const r = Math.floor(s % 60);
  return `${m}:${String(r).padStart(2, "0")}`;
}
