// The project image's npm packages: what the built-in node imports at run time (pino) and its
// dependencies go in, nothing else of node_modules. No engine needed: the recipe is data.

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  NODE_RUNTIME_PACKAGES,
  projectImageRecipe,
  runtimePackages,
} from "../../docker/project-image.js";
import { ROOT } from "./run-cli.js";

/** The bare package names node/'s own sources (not its tests or benchmarks) import. */
function nodeImports(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "test" && entry.name !== "bench") walk(p);
      } else if (entry.name.endsWith(".ts")) {
        const text = readFileSync(p, "utf8");
        for (const m of text.matchAll(/\bfrom\s+"([^".][^"]*)"/g)) {
          const spec = m[1] as string;
          if (spec.startsWith("node:")) continue;
          names.add(
            spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!,
          );
        }
      }
    }
  };
  walk(path.join(ROOT, "node"));
  return names;
}

describe("the project image's node_modules", () => {
  it("holds exactly the packages the built-in node imports (and their dependencies)", () => {
    expect([...nodeImports()].sort()).toEqual([...NODE_RUNTIME_PACKAGES].sort());
  });

  it("the closure comes from package-lock.json: pino's own dependencies, not dockerode's", () => {
    const closure = runtimePackages(ROOT, NODE_RUNTIME_PACKAGES);
    expect(closure).toContain("pino");
    expect(closure).toContain("sonic-boom");
    expect(closure).not.toContain("dockerode");
    expect(closure).not.toContain("zx");
  });

  it("the recipe copies each of them to /app/node_modules", () => {
    const trees = projectImageRecipe(ROOT).rootfs.trees ?? [];
    for (const pkg of runtimePackages(ROOT, NODE_RUNTIME_PACKAGES)) {
      expect(trees).toContainEqual([
        path.join(ROOT, "node_modules", pkg),
        path.join("/app/node_modules", pkg),
      ]);
    }
  });
});
