// How to run a program of the project: as a local process (compiled, or from source through
// tsx) or inside the project's image; and where the project's root is (examples/ lives there).

import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { IMAGE_DIST, IMAGE_NODE } from "../../docker/project-image.js";
import type { ProcessCommand } from "../types.js";

/** A program of the compiled project inside the project's image (see docker/project-image.ts). */
export function imageCommand(script: string, args: string[]): ProcessCommand {
  return { command: IMAGE_NODE, args: [`${IMAGE_DIST}/${script}`, ...args] };
}

/**
 * How to run a module of the project as a program, by its path from the project's root without
 * extension: the compiled .js directly, or, from source, the .ts through tsx (resolved from
 * this package, so the child's working directory does not matter).
 */
export function scriptArgs(modulePath: string): string[] {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  // This file is harness/backends/script.{ts,js} under the root (source) or dist/ (compiled).
  const file = path.resolve(path.dirname(here), "../..", `${modulePath}${ext}`);
  if (ext !== ".ts") return [file];
  const tsx = createRequire(import.meta.url).resolve("tsx");
  return ["--import", pathToFileURL(tsx).href, file];
}

/** The project's root folder (with examples/), from source or from dist/. */
export function projectRoot(): string {
  const here = fileURLToPath(import.meta.url);
  const up = path.extname(here) === ".ts" ? "../.." : "../../..";
  return path.resolve(path.dirname(here), up);
}
