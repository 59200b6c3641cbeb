// npm run sim -- --seeds N [--from S] [--nodes 3|5] [--steps K]
// npm run sim -- --seed S --nodes N --steps K      (reproduce one run exactly)
// npm run sim -- --seeds N --mutant NAME           (every core built with a deliberate bug)
// Runs seeded simulations of the real core; on a failure prints the command that reproduces it
// and exits 1.

import { MUTANTS, type Mutant } from "../core/mutants.js";
import { runSimulation } from "./run.js";

const USAGE = `usage: npm run sim -- [flags]
  --seeds N          run N seeded simulations (default 20), seeds --from S (default 1) on
  --from S           the first seed
  --seed S           one seed only, printing its figures (reproduces a failure exactly)
  --nodes 3|5        the cluster size (default: 3 for odd seeds, 5 for even ones)
  --steps K          simulation steps per seed (default 3000)
  --mutant NAME      every core built with a deliberate bug (${MUTANTS.join(", ")})
  --verbose          one line of figures per seed
Exit 0 when every seed passes, 1 when one fails (printing the command that reproduces it).
`;

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  process.stdout.write(USAGE);
  process.exit(0);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function num(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name}: expected a non-negative integer, got ${v}`);
    process.exit(3);
  }
  return n;
}

const single = arg("seed");
const from = single !== undefined ? num("seed", 0) : num("from", 1);
const count = single !== undefined ? 1 : num("seeds", 20);
const fixedNodes = arg("nodes");
if (fixedNodes !== undefined && fixedNodes !== "3" && fixedNodes !== "5") {
  console.error(`--nodes: expected 3 or 5, got ${fixedNodes}`);
  process.exit(3);
}
const steps = num("steps", 3000);
const verbose = process.argv.includes("--verbose");
const mutantArg = arg("mutant");
if (mutantArg !== undefined && !(MUTANTS as readonly string[]).includes(mutantArg)) {
  console.error(`--mutant: expected one of ${MUTANTS.join(", ")}, got ${mutantArg}`);
  process.exit(3);
}
const mutant = mutantArg as Mutant | undefined;

let failed = 0;
const started = performance.now();
for (let seed = from; seed < from + count; seed++) {
  const nodes = fixedNodes !== undefined ? (fixedNodes === "5" ? 5 : 3) : seed % 2 ? 3 : 5;
  const res = runSimulation({ seed, nodes, steps, ...(mutant ? { mutant } : {}) });
  const s = res.stats;
  if (verbose || single !== undefined) {
    console.log(
      `seed ${seed} nodes ${nodes}: ${s.check}, ops ok ${s.ok} info ${s.info} fail ${s.fail}, ` +
        `leaders ${s.leaderChanges}, crashes ${s.crashes}, dropped ${s.messagesDropped}/${s.messagesSent}, ` +
        `snapshots installed ${s.snapshotsInstalled}, applied ${s.maxApplied}`,
    );
  }
  if (s.okAfterFaults === 0) {
    console.log(`WARN seed ${seed}: no operation completed after the faults ended (liveness)`);
  }
  if (res.violations.length > 0) {
    failed++;
    console.log(`FAIL seed ${seed}: ${res.violations.slice(0, 5).join("; ")}`);
    const m = mutant ? ` --mutant ${mutant}` : "";
    console.log(`  reproduce: npm run sim -- --seed ${seed} --nodes ${nodes} --steps ${steps}${m}`);
  }
}
const secs = ((performance.now() - started) / 1000).toFixed(1);
console.log(`${count - failed} passed, ${failed} failed (${count} seeds, ${secs} s)`);
process.exit(failed > 0 ? 1 : 0);
