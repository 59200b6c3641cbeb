// The image of an outside backend's nodes, from its descriptor (harness/backends/descriptor.ts):
// `files:` become an image built FROM scratch (each path at its host path, the shared libraries
// of every executable found by ldd, libfaketime for clock faults), tagged by content and cached
// like the project's image; `image:` names an image already in the local engine, used as is
// and never pulled.

import { accessSync, constants, existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type Dockerode from "dockerode";
import type { NodeImage } from "../harness/types.js";
import { type BuiltImage, buildImage, type ImageRecipe, imageExists } from "./images.js";
import { FAKETIME_LIB } from "./project-image.js";

/** Repository names of backend images: `paxos-harness-backend-<backend name>`. */
export const BACKEND_IMAGE_PREFIX = "paxos-harness-backend-";

/** The recipe of a `files:` image: every path at its host path, executables with their libraries. */
export function filesImageRecipe(backend: string, files: readonly string[]): ImageRecipe {
  const plain: string[] = [];
  const trees: [string, string][] = [];
  for (const file of files) {
    if (statSync(file).isDirectory()) {
      trees.push([file, file]);
      // Executables inside a folder need their libraries too: list them as files (ldd'd).
      plain.push(...executablesUnder(file));
    } else plain.push(file);
  }
  if (existsSync(FAKETIME_LIB)) plain.push(FAKETIME_LIB);
  return {
    name: `${BACKEND_IMAGE_PREFIX}${repositoryName(backend)}`,
    rootfs: { binaries: [], files: plain, trees, dirs: ["/tmp", "/data", "/clock"] },
  };
}

/**
 * The tag to run a backend's nodes from: a `files:` image built (or found cached), or the named
 * `image:` once the engine is seen to hold it. Throws one line naming the image otherwise.
 */
export async function backendImage(
  docker: Dockerode,
  backend: string,
  image: NodeImage,
): Promise<BuiltImage> {
  if (image.kind === "files") return buildImage(docker, filesImageRecipe(backend, image.files));
  const started = performance.now();
  const missing = await missingImage(docker, backend, image.image);
  if (missing !== undefined) throw new Error(missing);
  return { tag: image.image, built: false, ms: performance.now() - started };
}

/** Why a backend's `image:` cannot be used (the engine does not hold it), or undefined. */
export async function missingImage(
  docker: Dockerode,
  backend: string,
  image: string,
): Promise<string | undefined> {
  if (await imageExists(docker, image)) return undefined;
  return `backend ${backend}: image ${image} is not in the local Docker engine (images are never pulled: build or load it first)`;
}

/** A Docker repository name from a backend name: lowercase, runs of other characters as "-". */
function repositoryName(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "") || "backend"
  );
}

function executablesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...executablesUnder(p));
    else if (entry.isFile() && isExecutable(p)) found.push(p);
  }
  return found;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
