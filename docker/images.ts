// Builds `FROM scratch` images through the engine (dockerode), tagged by the content hash of
// their root filesystem: an unchanged tree is not rebuilt.

import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type Dockerode from "dockerode";
import { $ } from "zx";
import { type RootfsSpec, stageRootfs, treeHash } from "./rootfs.js";

export const IMAGE_LABEL = "io.paxos-harness.image";

export interface ImageRecipe {
  /** Repository name, e.g. `paxos-harness-node`; the tag is the content hash. */
  name: string;
  rootfs: RootfsSpec;
  entrypoint: string[];
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
  const ctx = mkdtempSync(path.join(tmpdir(), "paxos-image-"));
  try {
    await stageRootfs(path.join(ctx, "rootfs"), recipe.rootfs);
    const dockerfile = [
      "FROM scratch",
      "COPY rootfs/ /",
      ...Object.entries(recipe.env ?? {}).map(([k, v]) => `ENV ${k}=${JSON.stringify(v)}`),
      `LABEL ${IMAGE_LABEL}=${JSON.stringify(recipe.name)}`,
      `ENTRYPOINT ${JSON.stringify(recipe.entrypoint)}`,
      "",
    ].join("\n");
    writeFileSync(path.join(ctx, "Dockerfile"), dockerfile);
    const tag = `${recipe.name}:${treeHash(ctx).slice(0, 16)}`;
    if (await imageExists(docker, tag)) {
      return { tag, built: false, ms: performance.now() - started };
    }
    const tarball = path.join(tmpdir(), `${path.basename(ctx)}.tar`);
    try {
      await $`tar -C ${ctx} -cf ${tarball} .`.quiet();
      const stream = await docker.buildImage(createReadStream(tarball), { t: tag, pull: false });
      await followBuild(docker, stream);
    } finally {
      rmSync(tarball, { force: true });
    }
    return { tag, built: true, ms: performance.now() - started };
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
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
