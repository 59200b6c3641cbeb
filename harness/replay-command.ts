// `paxos-harness replay RUN_DIR`: the run again, from what it recorded: its config.yaml (the
// same seed: the same operations per worker) and its nemesis-ops.jsonl (the same nemesis
// operations, with the same parameters, at the same offsets from the start of the main phase).
// The new run's config.yaml names the run it replays (`replay-of`).

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { type RawConfig, readConfigFile, resolveConfig } from "./config.js";
import { type ExitCode, UsageError } from "./exit.js";
import { runResolved } from "./test-command.js";
import { NEMESIS_OPS, type NemesisOpLine, timedTest } from "./test-generator.js";

export function registerReplayCommand(program: Command, done: (code: ExitCode) => void): void {
  program
    .command("replay")
    .description(
      "run a recorded test again: its config and seed, its nemesis operations at the same offsets",
    )
    .argument("<run-dir>", "the run's folder (store/<test>/<timestamp>, or store/latest)")
    .option("--store <dir>", "where the new run goes (default: the recorded run's store)")
    .option("--name <name>", "the new run's test name (default: the recorded one)")
    .action(async (dir: string, opts: { store?: string; name?: string }) => {
      done(await runReplay(dir, opts));
    });
}

export async function runReplay(
  dir: string,
  opts: { store?: string; name?: string },
): Promise<ExitCode> {
  const configFile = path.join(dir, "config.yaml");
  if (!existsSync(configFile))
    throw new UsageError(`replay: ${dir} has no config.yaml (not a run's folder?)`);
  const fields: RawConfig = { ...readConfigFile(configFile) };
  // What only describes the recorded run is not a field of a new one.
  delete (fields as Record<string, unknown>)["replay-of"];
  const flags: RawConfig = {};
  if (opts.store !== undefined) flags.store = opts.store;
  if (opts.name !== undefined) flags.name = opts.name;
  const config = resolveConfig(flags, { path: configFile, fields });
  const recorded = readNemesisOps(path.join(dir, NEMESIS_OPS));
  process.stderr.write(
    `replay: ${dir}: seed ${config.seed}, ${recorded.filter((o) => o.f.startsWith("start-")).length} faults\n`,
  );
  return runResolved(config, {
    replayOf: path.resolve(dir),
    test: (plan, ops) => timedTest(plan, ops, recorded),
  });
}

/** The recorded nemesis operations; one line naming the file and line at fault otherwise. */
export function readNemesisOps(file: string): NemesisOpLine[] {
  if (!existsSync(file))
    throw new UsageError(`replay: ${file} is missing (a run older than replay?)`);
  const lines = readFileSync(file, "utf8").split("\n");
  const ops: NemesisOpLine[] = [];
  for (const [i, text] of lines.entries()) {
    if (text.trim() === "") continue;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      throw new UsageError(`replay: ${file}:${i + 1}: not JSON`);
    }
    const o = line as Partial<NemesisOpLine>;
    if (
      typeof o !== "object" ||
      o === null ||
      typeof o.f !== "string" ||
      typeof o.at_ms !== "number" ||
      !(o.at_ms >= 0)
    ) {
      throw new UsageError(
        `replay: ${file}:${i + 1}: not a nemesis operation ({at_ms, f, value?})`,
      );
    }
    ops.push(
      o.value === undefined
        ? { at_ms: o.at_ms, f: o.f }
        : { at_ms: o.at_ms, f: o.f, value: o.value },
    );
  }
  return ops;
}
