// Runs a writer script (it prints "synced N" for each record the log reported durable) and kills
// it with SIGKILL once `enough` were reported: what the durable-log tests then look for on disk.

import { spawn } from "node:child_process";

export async function syncedBeforeKill(
  script: string,
  cwd: string,
  enough: number,
): Promise<Set<number>> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const synced = new Set<number>();
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise((r) => child.on("exit", r));
  await new Promise<void>((done, fail) => {
    let buffered = "";
    child.stdout.on("data", (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) synced.add(Number(line.split(" ")[1]));
      if (synced.size >= enough) {
        child.kill("SIGKILL");
        done();
      }
    });
    child.on("exit", () => fail(new Error(`child exited early: ${stderr}`)));
  });
  await exited;
  return synced;
}
