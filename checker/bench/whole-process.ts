// Whole-process timings for the benchmark: `paxos-harness check` as a user runs it (the compiled
// CLI, bin/paxos-harness.cjs), Go Porcupine over the same files, `check --help` beside `node -e 0`.
// Each figure is the median of several runs, the two sides alternating, so that a noisy machine
// (2 cores, other work running) weighs on both alike.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(root, "bin/paxos-harness.cjs");

export interface Run {
  ms: number;
  /** Peak resident memory in MB (from /usr/bin/time), when known. */
  peakMb?: number;
  /** User and system CPU time in ms (from /usr/bin/time), when known: on a loaded machine it
   * says more than the wall time. */
  cpuMs?: number;
  stdout: string;
}

/** Runs a command to its end; its wall time, and its peak RSS through /usr/bin/time if there. */
export function runTimed(
  cmd: string,
  args: string[],
  cwd = root,
  env: NodeJS.ProcessEnv = process.env,
): Run {
  const time = "/usr/bin/time";
  const withTime = existsSync(time);
  const t0 = performance.now();
  const options = { cwd, env, encoding: "utf8", maxBuffer: 1 << 26 } as const;
  const r = withTime
    ? spawnSync(time, ["-f", "%M %U %S", cmd, ...args], options)
    : spawnSync(cmd, args, options);
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  const last = withTime ? (r.stderr.trim().split("\n").pop() ?? "") : "";
  const [kb, user, system] = last.split(" ").map(Number) as [number, number, number];
  const cpu = (user + system) * 1000;
  return {
    ms,
    stdout: r.stdout,
    ...(Number.isFinite(kb) && kb > 0 ? { peakMb: kb / 1024 } : {}),
    ...(Number.isFinite(cpu) ? { cpuMs: cpu } : {}),
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Runs each command `times` times, alternating; the runs of each, in order. */
export function alternate(commands: (() => Run)[], times: number): Run[][] {
  const runs: Run[][] = commands.map(() => []);
  for (let i = 0; i < times; i++) {
    for (const [k, c] of commands.entries()) runs[k]?.push(c());
  }
  return runs;
}

/** Why the compiled CLI would not be what the sources say, if it would not. */
export function staleBuild(): string | undefined {
  const built = path.join(root, "dist/harness/main.js");
  if (!existsSync(built)) return "dist/ is not built (npm run build)";
  const builtAt = statSync(built).mtimeMs;
  const newer = [
    ...sources(path.join(root, "checker")),
    path.join(root, "harness/check-command.ts"),
  ]
    .filter((f) => statSync(f).mtimeMs > builtAt)
    .map((f) => path.relative(root, f));
  return newer.length > 0
    ? `dist/ is older than ${newer.slice(0, 3).join(", ")}${newer.length > 3 ? ", ..." : ""} (npm run build)`
    : undefined;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "test" || e.name === "bench" ? [] : sources(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** Go Porcupine's corpus checker, built; or why it cannot be (one line). */
export function goPorcupine(): { binary: string } | { missing: string } {
  const dir = process.env.PORCUPINE_GO_DIR ?? "/work/.cache/porcupine-go";
  if (
    !existsSync(path.join(dir, "cmd/check-corpus/main.go")) ||
    !existsSync(path.join(dir, "go.mod"))
  )
    return { missing: `no Go Porcupine at ${dir} (PORCUPINE_GO_DIR; see checker/README.md)` };
  const go = findGo();
  if (go === undefined) return { missing: "Go is not installed (no go on PATH or /usr/bin/go)" };
  const binary = path.join(dir, "check-corpus");
  try {
    execFileSync(go, ["build", "-o", binary, "./cmd/check-corpus"], {
      cwd: dir,
      env: { ...process.env, GOFLAGS: "-mod=mod", GOPROXY: "off" },
      stdio: ["ignore", "ignore", "pipe"],
    });
  } catch (err) {
    const why = String((err as { stderr?: Buffer }).stderr ?? err)
      .trim()
      .split("\n")[0];
    return { missing: `go build in ${dir} failed: ${why}` };
  }
  return { binary };
}

function findGo(): string | undefined {
  for (const d of (process.env.PATH ?? "").split(path.delimiter)) {
    if (d !== "" && existsSync(path.join(d, "go"))) return path.join(d, "go");
  }
  return existsSync("/usr/bin/go") ? "/usr/bin/go" : undefined;
}

/** Verdicts printed by `check` (text) or by the Go checker (`file<TAB>verdict`), by file. */
export function verdicts(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const go = /^(\S+)\t(ok|illegal|unknown)$/.exec(line);
    const ours = /^(.*?): (ok|illegal|unknown) \(/.exec(line);
    const m = go ?? ours;
    if (m) out.set(m[1] as string, m[2] as string);
  }
  return out;
}

/** The expected verdicts of Porcupine's vectors (expected.tsv), by path. */
export function expectedVerdicts(vectors: string): Map<string, string> {
  const rows = readFileSync(path.join(vectors, "expected.tsv"), "utf8").trim().split("\n").slice(1);
  return new Map(
    rows.map((r) => {
      const [file, , , expected] = r.split("\t");
      return [path.join(vectors, file as string), expected as string];
    }),
  );
}
