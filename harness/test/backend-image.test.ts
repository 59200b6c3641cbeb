// The image recipes of outside backends (docker/backend-image.ts) and the pruning rule of every
// image of ours (docker/images.ts), without an engine: recipes are data, and pruning is checked
// against a stand-in for the engine's image list.

import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type Dockerode from "dockerode";
import { describe, expect, it } from "vitest";
import { BACKEND_IMAGE_PREFIX, filesImageRecipe } from "../../docker/backend-image.js";
import { KEEP_NEWEST, pruneImages } from "../../docker/images.js";

describe("filesImageRecipe", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "paxos-recipe-"));
  const program = path.join(dir, "node-bin");
  writeFileSync(program, "#!/bin/sh\n");
  chmodSync(program, 0o755);
  const data = path.join(dir, "share");
  mkdirSync(path.join(data, "tools"), { recursive: true });
  writeFileSync(path.join(data, "table.txt"), "data\n");
  writeFileSync(path.join(data, "tools", "helper"), "#!/bin/sh\n");
  chmodSync(path.join(data, "tools", "helper"), 0o755);

  it("files at their host paths, folders as trees, their executables ldd'd, a repository name of ours", () => {
    const recipe = filesImageRecipe("My_KV.v2", [program, data]);
    expect(recipe.name).toBe(`${BACKEND_IMAGE_PREFIX}my-kv-v2`);
    expect(recipe.rootfs.binaries).toEqual([]);
    expect(recipe.rootfs.trees).toEqual([[data, data]]);
    // The program and the executable inside the folder (their libraries come along); the data
    // file only with its folder.
    const files = recipe.rootfs.files ?? [];
    expect(files.slice(0, 2)).toEqual([program, path.join(data, "tools", "helper")]);
    expect(files).not.toContain(path.join(data, "table.txt"));
    expect(recipe.rootfs.dirs).toEqual(expect.arrayContaining(["/tmp", "/data", "/clock"]));
    expect(recipe.entrypoint).toBeUndefined();
  });
});

describe("pruneImages", () => {
  const now = Date.now() / 1000;
  /** Eight images of one recipe, the first (newest) made a minute ago, then one an hour older each. */
  const images = Array.from({ length: 8 }, (_, i) => ({
    Id: `sha256:${i}`,
    RepoTags: [`paxos-harness-backend-x:${i}`],
    Created: now - 60 - i * 3600,
  }));
  const removed: string[] = [];
  const engine = {
    listImages: async () => images,
    getImage: (id: string) => ({
      remove: async () => {
        removed.push(id);
      },
    }),
  } as unknown as Dockerode;

  it("keeps the one in use, the newest few and the recent; removes the rest", async () => {
    await pruneImages(engine, "paxos-harness-backend-x", "paxos-harness-backend-x:6");
    const kept = images.map((i) => i.Id).filter((id) => !removed.includes(id));
    expect(KEEP_NEWEST).toBe(3);
    expect(kept).toEqual(["sha256:0", "sha256:1", "sha256:2", "sha256:6"]);
  });
});
