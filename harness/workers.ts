// One client operation, recorded (invoke, then exactly one completion), and a sleep that a
// signal cuts short. The workers' loop is the test's generator (test-generator.ts), run by
// the generator's interpreter; the runner's WorkerThreads gives each its process and client.

import type { Recorder } from "./recorder.js";
import type { Client, Completion, Invocation } from "./types.js";

/** One operation, recorded: invoke, then exactly one completion, whatever the client does. */
export async function invokeOnce(
  client: Client,
  op: Invocation,
  process: number,
  o: { recorder: Recorder; opTimeoutMs: number; stop?: AbortSignal },
): Promise<Completion> {
  const at = o.recorder.invoke(process, op);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), o.opTimeoutMs);
  const onStop = () => controller.abort();
  o.stop?.addEventListener("abort", onStop, { once: true });
  let c: Completion;
  try {
    c = await client.invoke(op, controller.signal);
  } catch (err) {
    // Clients must not throw; one that does has left the outcome unknown.
    c = { type: "info", error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
    o.stop?.removeEventListener("abort", onStop);
  }
  o.recorder.complete(process, op, c, at);
  return c;
}

/** Waits `ms`, or less if the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
