// Starting one of the checker's worker threads, compiled or from source.
//
// Compiled, a worker is its `.js` module beside the caller's. From source (under tsx: the tests,
// `npm run bench:checker`), a worker does not get the TypeScript loader of its parent, and on
// Node 20 `--import tsx` in its execArgv does not apply to its entry point; so it registers
// tsx's loader first, then imports the worker module.

import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * A worker running the module `name` (without extension) beside `caller` (the caller's
 * `import.meta.url`).
 */
export function spawnWorker(caller: string, name: string, options: WorkerOptions): Worker {
  if (!caller.endsWith(".ts")) return new Worker(new URL(`./${name}.js`, caller), options);
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const entry = JSON.stringify(new URL(`./${name}.ts`, caller).href);
  return new Worker(
    `import(${tsx}).then(({ register }) => { register(); return import(${entry}); })`,
    { ...options, eval: true, execArgv: [] },
  );
}
