// Builds `FROM scratch` images through the engine (dockerode), tagged by the content hash of
// their root filesystem: an unchanged tree is not rebuilt.

import { createHash } from "node:crypto";
import {
  createReadStream,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type Dockerode from "dockerode";
import { $ } from "zx";
import { type RootfsSpec, sharedLibraries, stageRootfs, treeHash } from "./rootfs.js";

export const IMAGE_LABEL = "io.paxos-harness.image";
/** A hash of the recipe and of every input file's path, size and mtime: the fast cache key. */
export const INPUTS_LABEL = "io.paxos-harness.inputs";

export interface ImageRecipe {
  /** Repository name, e.g. `paxos-harness-node`; the tag is the content hash. */
  name: string;
  rootfs: RootfsSpec;
  /** Absent: none (every container of the image is created with its own). */
  entrypoint?: string[];
  env?: Record<string, string>;
}

export interface BuiltImage {
  tag: string;
  /** False when an image of the same content was already there. */
  built: boolean;
  ms: number;
}

export async function buildImage(docker: Dockerode, recipe: ImageRecipe): Promise<BuiltImage> {
  const started = performance.now();
  // Fast path: an image made from these very inputs (same files, sizes and mtimes) is there.
  // Staging and hashing the root filesystem (~100 MB, ~0.4 s) is left for a real rebuild.
  const inputs = await inputsKey(recipe);
  const known = await docker
    .listImages({ filters: { label: [`${INPUTS_LABEL}=${inputs}`] } })
    .catch(() => []);
  const knownTag = known
    .flatMap((i) => i.RepoTags ?? [])
    .find((t) => t.startsWith(`${recipe.name}:`));
  if (knownTag !== undefined)
    return { tag: knownTag, built: false, ms: performance.now() - started };
  const ctx = mkdtempSync(path.join(tmpdir(), "paxos-image-"));
  try {
    await stageRootfs(path.join(ctx, "rootfs"), recipe.rootfs);
    const dockerfile = [
      "FROM scratch",
      "COPY rootfs/ /",
      ...Object.entries(recipe.env ?? {}).map(([k, v]) => `ENV ${k}=${JSON.stringify(v)}`),
      `LABEL ${IMAGE_LABEL}=${JSON.stringify(recipe.name)}`,
      ...(recipe.entrypoint ? [`ENTRYPOINT ${JSON.stringify(recipe.entrypoint)}`] : []),
      "",
    ].join("\n");
    writeFileSync(path.join(ctx, "Dockerfile"), dockerfile);
    // The tag is the content hash; the inputs label (which mtimes alone may change) is not in it.
    const tag = `${recipe.name}:${treeHash(ctx).slice(0, 16)}`;
    writeFileSync(
      path.join(ctx, "Dockerfile"),
      `${dockerfile}LABEL ${INPUTS_LABEL}=${JSON.stringify(inputs)}\n`,
    );
    // Same content from other inputs (e.g. a rebuild of dist/ without changes): built again,
    // from the engine's layer cache, only to carry this inputs label for the fast path.
    const cached = await imageExists(docker, tag);
    const tarball = path.join(tmpdir(), `${path.basename(ctx)}.tar`);
    try {
      await $`tar -C ${ctx} -cf ${tarball} .`.quiet();
      const stream = await docker.buildImage(createReadStream(tarball), { t: tag, pull: false });
      await followBuild(docker, stream);
    } finally {
      rmSync(tarball, { force: true });
    }
    await pruneImages(docker, recipe.name, tag);
    return { tag, built: !cached, ms: performance.now() - started };
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

/** Older images of a recipe are kept this long (a run side by side may be about to use one). */
const PRUNE_AFTER_S = 15 * 60;
/** And the newest few are kept whatever their age (switching back and forth rebuilds nothing). */
export const KEEP_NEWEST = 3;

/**
 * Removes the images of this recipe other than `keep` and the KEEP_NEWEST newest that are older
 * than PRUNE_AFTER_S, so that rebuilds (one per change of dist/ or of a backend's files) do not
 * pile up. An image still used by a container is refused by the engine and stays.
 */
export async function pruneImages(docker: Dockerode, name: string, keep: string): Promise<void> {
  const images = await docker
    .listImages({ filters: { label: [`${IMAGE_LABEL}=${name}`] } })
    .catch(() => []);
  const cutoff = Date.now() / 1000 - PRUNE_AFTER_S;
  const newest = new Set(
    [...images]
      .sort((a, b) => b.Created - a.Created)
      .slice(0, KEEP_NEWEST)
      .map((i) => i.Id),
  );
  for (const image of images) {
    if ((image.RepoTags ?? []).includes(keep) || newest.has(image.Id)) continue;
    if (image.Created > cutoff) continue;
    await docker
      .getImage(image.Id)
      .remove()
      .catch(() => {});
  }
}

/** The fast cache key: the recipe, and path, size and mtime of every file it copies. */
async function inputsKey(recipe: ImageRecipe): Promise<string> {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ ...recipe, rootfs: { ...recipe.rootfs } }));
  const stamp = (file: string) => {
    const real = realpathSync(file);
    const st = statSync(real);
    hash.update(`${file}\0${real}\0${st.size}\0${st.mtimeMs}\0${st.mode}\n`);
  };
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) stamp(p);
    }
  };
  for (const file of [...recipe.rootfs.binaries, ...(recipe.rootfs.files ?? [])]) {
    stamp(file);
    for (const lib of await sharedLibraries(file)) stamp(lib);
  }
  for (const [host] of recipe.rootfs.trees ?? []) walk(host);
  return hash.digest("hex").slice(0, 32);
}

export async function imageExists(docker: Dockerode, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Waits for a build to end; a build step's error becomes the rejection. */
function followBuild(docker: Dockerode, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
      const failed = err?.message ?? output.find((o) => o.error)?.error;
      if (failed) reject(new Error(`image build failed: ${failed}`));
      else resolve();
    });
  });
}
