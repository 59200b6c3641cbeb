// `paxos-harness test`: the flags (the README), an optional --config FILE.yaml with the same
// fields (flags win), and the glue that joins the runner to a runtime, a backend and nemeses.
//
// Ctrl-C / SIGTERM: the first one stops the run gracefully (faults healed, nodes stopped, the
// history so far checked and kept; the exit code is the verdict on that history, 0..3 as
// the README says, and results.json has "interrupted": true). A second one quits at once with
// 130; the history is already on disk.

import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import Docker from "dockerode";
import { missingImage } from "../docker/backend-image.js";
import { DOCKER_HOST_UNSUPPORTED, DOCKER_SOCKET, engineAnswers } from "../docker/engine-ping.js";
import { resolveBackend } from "./backends/index.js";
import {
  type Field,
  type RawConfig,
  readConfigFile,
  resolveConfig,
  type TestConfig,
} from "./config.js";
import { EXIT, type ExitCode, UsageError } from "./exit.js";
import { makeNemeses, nodeProgramOf, supportedKinds } from "./nemesis/index.js";
import { createProgress } from "./progress.js";
import { type RunnerDeps, type RunOutcome, runTest } from "./runner.js";
import { DockerRuntime, dockerNodeSpecs } from "./runtime/docker.js";
import { LocalRuntime } from "./runtime/local.js";
import type { Backend, Nemesis, NemesisKind, NodeSpec, Runtime } from "./types.js";

/** The repository root: this file is harness/test-command.{ts,js} under it or under dist/. */
const PROJECT_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  import.meta.url.endsWith(".ts") ? ".." : "../..",
);

/** The flags, as commander names them (camelCase), and their config field. */
const FLAG_FIELDS: Record<string, Field> = {
  name: "name",
  backend: "backend",
  runtime: "runtime",
  nodes: "nodes",
  workload: "workload",
  nemesis: "nemesis",
  nemesisInterval: "nemesis-interval",
  timeLimit: "time-limit",
  rate: "rate",
  concurrency: "concurrency",
  keys: "keys",
  distribution: "distribution",
  seed: "seed",
  store: "store",
  opTimeout: "op-timeout",
  recovery: "recovery",
  checkTimeout: "check-timeout",
};

export function registerTestCommand(program: Command, done: (code: ExitCode) => void): void {
  program
    .command("test")
    .description("run a test: start a cluster, drive clients, inject faults, check the history")
    .option("--config <file.yaml>", "a YAML file with any of these fields (flags win)")
    .option("--backend <name|path>", "the system under test (default builtin)")
    .option("--runtime <auto|local|docker>", "where nodes run (default auto)")
    .option("--nodes <n>", "cluster size (default 5)")
    .option("--workload <register|kv|set>", "what clients do (default kv)")
    .option(
      "--nemesis <list>",
      "none, all, or some of partition,kill,pause,clock,loss,delay (default partition,kill,pause)",
    )
    .option("--nemesis-interval <s>", "seconds between faults (default 10)")
    .option("--time-limit <s>", "seconds of workload (default 60)")
    .option("--rate <ops/s>", "operations per second, all clients together (default 200)")
    .option("--concurrency <n>", "client workers (default 10)")
    .option("--keys <n>", "keys (default 10 for kv, 1 for register)")
    .option("--distribution <uniform|zipfian>", "kv key choice (default uniform)")
    .option("--seed <n>", "random seed (default random; recorded in config.yaml)")
    .option("--store <dir>", "where runs are kept (default store)")
    .option("--op-timeout <s>", "an operation slower than this is indeterminate (default 3)")
    .option("--recovery <s>", "seconds after the last heal before the final phase (default 5)")
    .option("--check-timeout <s>", "seconds the checker may take (default 300)")
    .option("--name <name>", "the test's name in the store (default <backend>-<workload>)")
    .action(async (opts: Record<string, string | undefined>) => {
      done(await runTestCommand(opts));
    });
}

export async function runTestCommand(opts: Record<string, string | undefined>): Promise<ExitCode> {
  const flags: RawConfig = {};
  for (const [flag, field] of Object.entries(FLAG_FIELDS)) {
    if (opts[flag] !== undefined) flags[field] = opts[flag];
  }
  const file =
    opts.config === undefined
      ? undefined
      : { path: opts.config, fields: readConfigFile(opts.config) };
  return runResolved(resolveConfig(flags, file));
}

/** What a run may add to the default test: another generator, the run it replays. */
export type RunExtras = Pick<RunnerDeps, "test" | "replayOf">;

/** Runs a resolved test config: the runtime, backend and nemeses it names, Ctrl-C handled. */
export async function runResolved(resolved: TestConfig, extras: RunExtras = {}): Promise<ExitCode> {
  const { config, backend, runtime, specs, nemeses } = await prepareTest(
    resolved,
    pickBackend(resolved),
  );

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(
        `\n${name}: stopping: healing faults, stopping nodes, checking the history so far (again to quit now)\n`,
      );
      controller.abort();
    } else process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const outcome = await runTest(config, {
      ...extras,
      runtime,
      backend,
      nemeses,
      nodeSpecs: specs,
      signal: controller.signal,
      progress: createProgress(process.stderr),
    });
    return outcome.code;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** A run that never started: its set-up failed before the run had a folder (exit 3). */
export interface SetupFailure {
  code: typeof EXIT.error;
  error: string;
}

/**
 * One run of a resolved test, as `test` makes it (prepared for this machine, then run), for the
 * commands that run tests one after the other (`validate`, `suite`): a set-up that fails is
 * returned, not thrown, so that the caller goes on. Progress on stderr; the run's summary to
 * `out`. `backend` default: the one the configuration names.
 */
export async function runOneTest(
  resolved: TestConfig,
  options: { signal: AbortSignal; out: (text: string) => void; backend?: Backend },
): Promise<RunOutcome | SetupFailure> {
  let prepared: PreparedTest;
  try {
    prepared = await prepareTest(resolved, options.backend ?? pickBackend(resolved));
  } catch (err) {
    return { code: EXIT.error, error: err instanceof Error ? err.message : String(err) };
  }
  return runTest(prepared.config, {
    runtime: prepared.runtime,
    backend: prepared.backend,
    nemeses: prepared.nemeses,
    nodeSpecs: prepared.specs,
    signal: options.signal,
    progress: createProgress(process.stderr),
    out: options.out,
  });
}

/** A test ready to run: its configuration as narrowed to this machine, and its parts. */
export interface PreparedTest {
  config: TestConfig;
  backend: Backend;
  runtime: Runtime;
  specs: NodeSpecsFor;
  nemeses: Nemesis[];
}

/**
 * The runtime, the nodes' layout and the nemeses for a resolved configuration and backend
 * (`test`, and `validate` for each test of its suite); a UsageError when this machine cannot.
 * Nothing starts: each run needs its own (a runtime is used once).
 */
export async function prepareTest(resolved: TestConfig, backend: Backend): Promise<PreparedTest> {
  const { runtime, specs } = await pickRuntime(resolved, backend);
  const nodeProgram = nodeProgramOf(backend, runtime.name);
  const refuses = backend.protocol.unsupportedFaults;
  const config = fitInterval(await narrowAll(resolved, runtime, nodeProgram, refuses));
  const nemeses = await makeNemesesFor(config, runtime, nodeProgram, refuses);
  return { config, backend, runtime, specs, nemeses };
}

/**
 * The runtime, and how it lays out nodes. `auto`: Docker when the backend can run in
 * containers and an engine answers, else local, saying which and why in one line.
 */
async function pickRuntime(
  config: TestConfig,
  backend: Backend,
): Promise<{ runtime: Runtime; specs: NodeSpecsFor }> {
  const why = await whyNotDocker(config.runtime, backend);
  if (config.runtime === "docker" && why !== undefined)
    throw new UsageError(`--runtime docker: ${why}`);
  if (config.runtime !== "local" && why === undefined) {
    // An `image:` the engine lacks is bad input whichever way docker was chosen: one line, exit 3.
    const image = backend.nodeImage?.kind === "image" ? backend.nodeImage.image : undefined;
    const missing = image && (await missingImage(new Docker(), backend.name, image));
    if (missing) throw new UsageError(`--backend ${config.backend}: ${missing}`);
    if (config.runtime === "auto")
      process.stderr.write(`runtime: docker (engine at unix://${DOCKER_SOCKET})\n`);
    return {
      runtime: new DockerRuntime({ root: PROJECT_ROOT }),
      specs: (count) => dockerNodeSpecs(count),
    };
  }
  if (config.runtime === "auto") process.stderr.write(`runtime: local (${why})\n`);
  // Relays (delay on any kernel) only for runs that may delay (never for a backend refusing it).
  const delays = config.nemesis.includes("delay") && !backend.protocol.unsupportedFaults?.delay;
  const local = new LocalRuntime({ relays: delays });
  const noNamespaces = await local.namespacesUnavailable();
  if (noNamespaces !== undefined) {
    process.stderr.write(
      `local runtime: no network namespaces (${noNamespaces}): nodes on 127.0.x.y, no partition or loss\n`,
    );
  }
  return { runtime: local, specs: (count, dir) => local.nodeSpecs(count, dir) };
}

/** Why this backend cannot run in Docker here, or undefined when it can (`local`: not asked). */
async function whyNotDocker(
  runtime: TestConfig["runtime"],
  backend: Backend,
): Promise<string | undefined> {
  if (runtime === "local") return undefined;
  if (backend.containerCommand === undefined) {
    return `backend ${backend.name} has no container command, files or image`;
  }
  if (DOCKER_HOST_UNSUPPORTED !== undefined) return DOCKER_HOST_UNSUPPORTED;
  if (!(await engineAnswers(DOCKER_SOCKET))) {
    return runtime === "docker"
      ? `no Docker engine answers at ${DOCKER_SOCKET} (\`npm run docker:engine\` installs and starts one)`
      : `no Docker engine answers at unix://${DOCKER_SOCKET}`;
  }
  return undefined;
}

export type NodeSpecsFor = (count: number, dir: string) => NodeSpec[] | Promise<NodeSpec[]>;

/** The backend a configuration names; one that does not resolve is bad input. */
export function pickBackend(config: TestConfig): Backend {
  try {
    return resolveBackend(config.backend);
  } catch (err) {
    throw new UsageError(
      `--backend ${config.backend}: ${err instanceof Error ? err.message : err}`,
    );
  }
}

/**
 * `--nemesis all`: every kind this runtime can do on this machine. The kinds it cannot are left
 * out, one line on stderr saying which and why (a named kind it cannot do is refused instead).
 * The same for the default kinds when none was given: `npm start` runs on any machine with the
 * faults it supports, naming those it left out.
 */
async function narrowAll(
  config: TestConfig,
  runtime: Runtime,
  nodeProgram: string | undefined,
  refuses: Partial<Record<NemesisKind, string>> | undefined,
): Promise<TestConfig> {
  if (!config.nemesisAll && !config.nemesisDefault) return config;
  const { supported, leftOut } = await supportedKinds(
    config.nemesis,
    runtime,
    nodeProgram,
    refuses,
  );
  if (leftOut.length > 0) {
    const why = leftOut.map((l) => `${l.kind} (${l.why})`).join("; ");
    const label = config.nemesisAll ? "all" : `(default ${config.nemesis.join(",")})`;
    process.stderr.write(
      `nemesis ${label}: ${supported.join(",") || "none"}; left out on this machine: ${why}\n`,
    );
  }
  return { ...config, nemesis: supported };
}

/**
 * The kinds take turns, one an interval. With no interval given and a run too short for every
 * kind at the default, the interval is shortened so that each gets its turn with one to spare
 * (a kind that never happened makes the run NO FAULT, runner.ts), saying so in one line.
 */
export function fitInterval(config: TestConfig): TestConfig {
  const kinds = config.nemesis.length;
  if (!config.nemesisIntervalDefault || config.schedule !== undefined || kinds === 0) return config;
  const fitted = Math.round((config.timeLimit / (kinds + 1)) * 100) / 100;
  if (fitted >= config.nemesisInterval) return config;
  process.stderr.write(
    `nemesis interval: ${fitted} s (the default ${config.nemesisInterval} s, shortened so that each of ${kinds} kinds gets its turn in ${config.timeLimit} s)\n`,
  );
  return { ...config, nemesisInterval: fitted };
}

async function makeNemesesFor(
  config: TestConfig,
  runtime: Runtime,
  nodeProgram: string | undefined,
  refuses: Partial<Record<NemesisKind, string>> | undefined,
): Promise<Nemesis[]> {
  try {
    return await makeNemeses(config.nemesis, runtime, {
      nodeProgram,
      ...(refuses ? { backendRefuses: refuses } : {}),
    });
  } catch (err) {
    // A nemesis this runtime cannot do on this machine: say which and why, before any node starts.
    // makeNemeses names the kind ("nemesis delay: ..."); with one kind the flag already does.
    const message = err instanceof Error ? err.message : String(err);
    const why = config.nemesis.length === 1 ? message.replace(/^nemesis \w+: /, "") : message;
    throw new UsageError(`--nemesis ${config.nemesis.join(",")}: ${why}`);
  }
}
