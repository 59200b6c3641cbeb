// The Docker runtime's must-shows, end to end through the real CLI (child processes, a store in
// a temporary folder): a 3-node run with partition, kill and pause is valid; the broken backend
// is caught in containers; 5 nodes answer within 5 s with the image cached; nothing of ours is
// left after a run, a Ctrl-C, or a SIGKILL followed by a new run; a docker-group user without
// root runs every nemesis; `--runtime auto` and `doctor` say docker; delay is refused (exit 3).
//
// Skipped when no engine answers, unless PAXOS_REQUIRE_DOCKER=1 (then that is a failure).

import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage } from "../../docker/images.js";
import { projectImageRecipe } from "../../docker/project-image.js";
import { fuseMounts } from "../lazyfs/mount.js";
import { staleOutput } from "../runtime/docker.js";
import {
  cleanUp,
  Docker,
  dockerOrSkip,
  historyLines,
  NOTHING,
  ours,
  runCliAsync,
  spawnCli,
  tempStore,
  waitFor,
} from "./docker-helpers.js";
import { ROOT, runCli } from "./run-cli.js";

const enabled = await dockerOrSkip();
const docker = new Docker();
/** PIDs of the harnesses these tests start: their objects are ours even while they run. */
const harnesses: number[] = [];
const CI_USER = "paxos-ci";

function track<T extends { child: { pid?: number } }>(c: T): T {
  if (c.child.pid !== undefined) harnesses.push(c.child.pid);
  return c;
}

/** `test` flags of a short run in containers. */
function testArgs(store: string, extra: string[]): string[] {
  return [
    ...["test", "--runtime", "docker", "--store", store, "--nodes", "3", "--rate", "100"],
    ...["--concurrency", "6", "--recovery", "2", "--op-timeout", "1"],
    ...extra,
  ];
}

function results(store: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(store, "latest", "results.json"), "utf8"));
}

function runDir(store: string): string {
  return path.join(store, "latest");
}

const readiness = (text: string) => {
  const m = text.match(/(\d+) nodes answer \/status after ([\d.]+) s/);
  return m ? { nodes: Number(m[1]), seconds: Number(m[2]) } : undefined;
};

describe.runIf(enabled)("Docker runtime, end to end", () => {
  beforeAll(async () => {
    // The compiled CLI (bin/) and the image both hold dist/: make it current, then build (or
    // find) the image, so that every run below finds it cached.
    const stale = staleOutput(ROOT);
    if (stale !== undefined) {
      const t = performance.now();
      execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "ignore" });
      console.log(`dist was stale (${stale}): built in ${Math.round(performance.now() - t)} ms`);
    }
    const built = await buildImage(docker, projectImageRecipe(ROOT));
    console.log(
      `image ${built.tag} ${built.built ? "built" : "cached"} in ${Math.round(built.ms)} ms`,
    );
  }, 120_000);

  afterAll(async () => {
    await cleanUp(docker, harnesses);
  });

  it("3 nodes, partition, kill, pause: every kind fires, VALID, logs per node, nothing left", async () => {
    const store = tempStore();
    const t = performance.now();
    const r = await runCliAsync(
      testArgs(store, [
        ...["--nemesis", "partition,kill,pause", "--nemesis-interval", "1"],
        ...["--time-limit", "10", "--seed", "7"],
      ]),
    );
    console.log(`partition,kill,pause run: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain("VALID");
    expect(results(store)).toMatchObject({ valid: true, runtime: "docker", nodes: 3 });
    const events = historyLines(runDir(store)).filter((l) => l.process === "nemesis");
    for (const kind of ["partition", "kill", "pause"]) {
      const starts = events.filter((e) => e.f === `start-${kind}`);
      expect(starts.length, `start-${kind} in history.jsonl`).toBeGreaterThan(0);
      for (const s of starts) expect(JSON.stringify(s.value)).not.toContain('"error"');
    }
    for (const id of ["n1", "n2", "n3"]) {
      const log = path.join(runDir(store), "nodes", `${id}.log`);
      expect(existsSync(log) && statSync(log).size > 0, `${log} is non-empty`).toBe(true);
    }
    // After a normal run: nothing of ours.
    expect(await ours(docker)).toEqual(NOTHING);
  }, 90_000);

  it("reset in containers: the connections a node dialed are reset (counted), the run is valid", async () => {
    const store = tempStore();
    const r = await runCliAsync(
      testArgs(store, [
        ...["--nemesis", "reset", "--nemesis-interval", "2"],
        ...["--time-limit", "8", "--seed", "11"],
      ]),
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(results(store)).toMatchObject({ valid: true, runtime: "docker", nemesis: ["reset"] });
    const events = historyLines(runDir(store)).filter((l) => l.process === "nemesis");
    const starts = events.filter((e) => e.f === "start-reset");
    expect(starts.length).toBeGreaterThanOrEqual(2);
    for (const s of starts) {
      const v = s.value as {
        verified: boolean;
        nodes: string[];
        connections: Record<string, number>;
      };
      expect(v.verified, JSON.stringify(v)).toBe(true);
      // Each target had its connections to the two others (read from /proc in its namespace).
      for (const id of v.nodes) expect(v.connections[id]).toBeGreaterThanOrEqual(2);
    }
    const stops = events.filter((e) => e.f === "stop-reset");
    expect(stops).toHaveLength(starts.length);
    for (const s of stops) {
      const v = s.value as { reset_packets: Record<string, number> };
      for (const packets of Object.values(v.reset_packets)) expect(packets).toBeGreaterThan(0);
    }
    expect(await ours(docker)).toEqual(NOTHING);
  }, 90_000);

  it("power in containers: each node's data is a lazyfs view bound in, cut and restarted; nothing left", async () => {
    const store = tempStore();
    const r = await runCliAsync(
      testArgs(store, [
        ...["--nemesis", "power", "--nemesis-interval", "2.5"],
        ...["--time-limit", "8", "--seed", "11"],
      ]),
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(results(store)).toMatchObject({ valid: true, runtime: "docker", nemesis: ["power"] });
    const events = historyLines(runDir(store)).filter((l) => l.process === "nemesis");
    const starts = events.filter((e) => e.f === "start-power");
    expect(starts.length).toBeGreaterThanOrEqual(2);
    for (const s of starts) {
      const v = s.value as { verified: boolean; powered_off: string[]; lost: object };
      expect(v.verified, JSON.stringify(v)).toBe(true);
      expect(Object.keys(v.lost).sort()).toEqual([...v.powered_off].sort());
    }
    expect(events.filter((e) => e.f === "stop-power")).toHaveLength(starts.length);
    // The data went through the views into the run's folder, and the views are unmounted.
    for (const id of ["n1", "n2", "n3"]) {
      // The node's log: segment files `log`, `log.00000001`, ... (node/io/log-segments.ts).
      const dir = path.join(runDir(store), "data", id);
      const segments = readdirSync(dir).filter((n) => /^log(\.\d+)?$/.test(n));
      const bytes = segments.map((n) => statSync(path.join(dir, n)).size);
      expect(bytes.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    }
    expect(fuseMounts().filter((m) => m.source.startsWith("paxos-lazyfs-"))).toEqual([]);
    expect(await ours(docker)).toEqual(NOTHING);
  }, 90_000);

  it("the broken backend in containers: exit 1, the summary names a violating key", async () => {
    const store = tempStore();
    const r = await runCliAsync(
      testArgs(store, [
        ...["--backend", "broken", "--nemesis", "none", "--time-limit", "6", "--keys", "3"],
      ]),
    );
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stdout).toMatch(/INVALID/);
    const keys = results(store).violating_keys as string[];
    expect(keys.length).toBeGreaterThan(0);
    expect(r.stdout).toContain(keys[0] as string);
    expect(results(store).runtime).toBe("docker");
  }, 60_000);

  it("--runtime auto says docker; 5 nodes with the image cached answer within 5 s", async () => {
    const store = tempStore();
    const t = performance.now();
    const c = spawnCli([
      ...["test", "--runtime", "auto", "--store", store, "--nodes", "5", "--nemesis", "none"],
      ...["--time-limit", "2", "--recovery", "0", "--rate", "50"],
    ]);
    await waitFor("the readiness line", () => readiness(c.stderr()) !== undefined, 30_000).catch(
      () => {},
    );
    const fromSpawn = (performance.now() - t) / 1000;
    const r = { code: await c.exit, stdout: c.stdout(), stderr: c.stderr() };
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toMatch(/^runtime: docker/m);
    const ready = readiness(r.stderr);
    expect(ready, r.stderr).toBeDefined();
    console.log(
      `5 nodes (image cached) answer /status after ${ready?.seconds} s (printed), ` +
        `${fromSpawn.toFixed(1)} s after the CLI was spawned`,
    );
    expect(ready?.nodes).toBe(5);
    expect(ready?.seconds).toBeLessThan(5);
    expect(readFileSync(path.join(runDir(store), "harness.log"), "utf8")).toMatch(/cached/);
    expect(results(store)).toMatchObject({ runtime: "docker", nodes: 5 });
  }, 60_000);

  it("Ctrl-C mid-run: exit 0..2, the history kept, nothing of ours left", async () => {
    const store = tempStore();
    const c = track(
      spawnCli(testArgs(store, ["--nemesis", "partition", "--nemesis-interval", "1"]), {
        timeoutMs: 60_000,
      }),
    );
    await waitFor(
      "a partition in the history",
      () => historyLines(runDir(store)).some((l) => l.f === "start-partition"),
      40_000,
    );
    const t = performance.now();
    c.child.kill("SIGINT");
    const code = await c.exit;
    console.log(`SIGINT to exit: ${Math.round(performance.now() - t)} ms`);
    expect([0, 1, 2], c.stderr()).toContain(code);
    expect(c.stdout()).toContain("interrupted");
    expect(results(store).interrupted).toBe(true);
    expect(historyLines(runDir(store)).length).toBeGreaterThan(0);
    expect(await ours(docker, harnesses)).toEqual(NOTHING);
  }, 90_000);

  it("SIGKILL mid-run leaves things behind; the next run removes them, and then leaves nothing", async () => {
    const store = tempStore();
    const c = track(
      spawnCli(testArgs(store, ["--nemesis", "partition", "--nemesis-interval", "1"]), {
        timeoutMs: 60_000,
      }),
    );
    const pid = c.child.pid as number;
    await waitFor(
      "a partition in the history",
      () => historyLines(runDir(store)).some((l) => l.f === "start-partition"),
      40_000,
    );
    c.child.kill("SIGKILL");
    await c.exit;
    const left = await ours(docker, harnesses);
    // 3 nodes and the network helper, the network, a volume per node, our chain and its jump.
    expect(left.containers.length, JSON.stringify(left)).toBe(4);
    expect(left.networks).toHaveLength(1);
    expect(left.volumes).toHaveLength(3);
    expect(left.chains).toHaveLength(1);
    expect(left.jumps).toHaveLength(1);
    const own = await docker.listContainers({
      all: true,
      filters: { label: [`io.paxos-harness.owner`] },
    });
    expect(own.some((x) => x.Labels["io.paxos-harness.owner"]?.startsWith(`${pid}:`))).toBe(true);

    const next = tempStore();
    const t = performance.now();
    const r = await runCliAsync(testArgs(next, ["--nemesis", "none", "--time-limit", "2"]));
    console.log(`run after a SIGKILL: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const log = readFileSync(path.join(runDir(next), "harness.log"), "utf8");
    expect(log).toMatch(/removed 8 containers, networks and volumes of earlier runs/);
    expect(log).toContain(`removed iptables chains of earlier runs: ${left.chains[0]}`);
    expect(await ours(docker, harnesses)).toEqual(NOTHING);
  }, 120_000);

  it("two runs side by side: separate subnets, neither removes the other's objects", async () => {
    const [a, b] = [tempStore(), tempStore()];
    const first = track(
      spawnCli(
        testArgs(a, ["--nemesis", "partition", "--nemesis-interval", "1", "--time-limit", "8"]),
      ),
    );
    await waitFor(
      "the first run's workload",
      () => historyLines(runDir(a)).some((l) => l.f === "start-partition"),
      40_000,
    );
    const second = await runCliAsync(
      testArgs(b, ["--nemesis", "partition", "--nemesis-interval", "1", "--time-limit", "3"]),
    );
    expect(second.code, second.stderr + second.stdout).toBe(0);
    expect(await first.exit, first.stderr() + first.stdout()).toBe(0);
    const log = readFileSync(path.join(runDir(b), "harness.log"), "utf8");
    expect(log).not.toMatch(/removed \d+ containers/);
    expect(log).toMatch(/subnet 10\.213\.\d+\.0\/24 is taken; using 10\.213\.\d+\.0\/24/);
    const lastOk = historyLines(runDir(a)).filter((l) => l.type === "ok").length;
    expect(lastOk).toBeGreaterThan(0);
    expect(results(a)).toMatchObject({ valid: true });
    expect(results(b)).toMatchObject({ valid: true });
    expect(await ours(docker, harnesses)).toEqual(NOTHING);
  }, 90_000);

  it("a docker-group user without root runs every nemesis but delay", async (ctx) => {
    if (process.getuid?.() !== 0) {
      if (process.env.PAXOS_REQUIRE_DOCKER === "1") {
        throw new Error(`this test creates the user ${CI_USER} and needs root`);
      }
      ctx.skip();
    }
    ensureCiUser();
    const bin = path.join(ROOT, "dist", "harness", "main.js");
    expect(existsSync(bin), `${bin}: run npm run build`).toBe(true);
    const store = tempStore("paxos-ci-");
    chownSync(store, uid(CI_USER), gid(CI_USER));
    const t = performance.now();
    const r = await runCliAsync(
      testArgs(store, [
        ...["--nemesis", "partition,kill,pause,clock,loss", "--nemesis-interval", "1"],
        ...["--time-limit", "12", "--seed", "11"],
      ]),
      {
        command: ["runuser", "-u", CI_USER, "--", "node", path.join(ROOT, "bin/paxos-harness.cjs")],
        timeoutMs: 90_000,
      },
    );
    console.log(`run as ${CI_USER}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(results(store)).toMatchObject({ valid: true, runtime: "docker" });
    const kinds = new Set(
      historyLines(runDir(store))
        .filter((l) => l.process === "nemesis" && String(l.f).startsWith("start-"))
        .filter((l) => !JSON.stringify(l.value).includes('"error"'))
        .map((l) => String(l.f).slice("start-".length)),
    );
    expect([...kinds].sort()).toEqual(["clock", "kill", "loss", "partition", "pause"]);
    // Everything in the run's folder belongs to that user.
    for (const f of readdirSync(runDir(store), { recursive: true }) as string[]) {
      expect(statSync(path.join(runDir(store), f)).uid, f).toBe(uid(CI_USER));
    }
    expect(await ours(docker, harnesses)).toEqual(NOTHING);
  }, 120_000);

  it("doctor reports the docker runtime and its nemeses; --nemesis delay exits 3 saying why", () => {
    const d = runCli(["doctor"]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/^runtime docker: yes$/m);
    for (const kind of ["partition", "loss", "kill", "pause", "clock", "power"]) {
      expect(d.stdout).toMatch(new RegExp(`^nemesis ${kind} \\(docker\\): yes$`, "m"));
    }
    expect(d.stdout).toMatch(/^nemesis delay \(docker\): no: delay needs the kernel's sch_netem/m);

    const store = tempStore();
    const r = runCli(["test", "--runtime", "docker", "--nemesis", "delay", "--store", store]);
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--nemesis delay: .*sch_netem/);
  });
});

function ensureCiUser(): void {
  if (spawnSync("id", ["-u", CI_USER]).status !== 0) {
    execFileSync("useradd", ["--system", "-G", "docker", CI_USER]);
  } else {
    const groups = execFileSync("id", ["-nG", CI_USER], { encoding: "utf8" }).split(/\s+/);
    if (!groups.includes("docker")) execFileSync("usermod", ["-aG", "docker", CI_USER]);
  }
}

function uid(user: string): number {
  return Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
}

function gid(user: string): number {
  return Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
}
