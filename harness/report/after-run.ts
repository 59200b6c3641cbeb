// The runner's one call into the report: report.html after results.json. A report that cannot
// be written is a line in harness.log and on stderr, never a changed verdict or exit code (the
// run's result is already on disk).

import { writeReport } from "./report.js";

export async function reportAfterRun(
  dir: string,
  log: (message: string, fields?: Record<string, unknown>) => void,
  out: (text: string) => void,
  write: (dir: string) => Promise<string> = writeReport,
): Promise<string | undefined> {
  const began = performance.now();
  try {
    const file = await write(dir);
    log("report", { file, ms: Math.round(performance.now() - began) });
    out(`  report: ${file}\n`);
    return file;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    try {
      log(`report: not written: ${why}`);
    } catch {
      // harness.log itself may be what failed; stderr still says it.
    }
    process.stderr.write(`paxos-harness: report.html not written: ${why}\n`);
    return undefined;
  }
}
