// The Docker runtime's FaultProbe: probe agents exec'ed in the node containers, states from the
// engine; every nemesis kind verified on a live 3-node memory cluster (skipped without an
// engine unless PAXOS_REQUIRE_DOCKER=1).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryBackend } from "../backends/index.js";
import { makeNemeses } from "../nemesis/index.js";
import { DockerRuntime, dockerNodeSpecs } from "../runtime/docker.js";
import type { ClusterView, NemesisKind, NodeHandle } from "../types.js";
import { dockerOrSkip } from "./docker-helpers.js";
import { runContext, tempStore, view } from "./local-helpers.js";
import { ROOT } from "./run-cli.js";

const enabled = await dockerOrSkip();

describe.runIf(enabled)("Docker runtime: every fault verified through its probe", () => {
  const store = tempStore();
  const run = runContext(store);
  const runtime = new DockerRuntime({ root: ROOT });
  let nodes: NodeHandle[] = [];
  let cluster: ClusterView;

  beforeAll(async () => {
    nodes = await runtime.start(dockerNodeSpecs(3), memoryBackend(), run);
    cluster = view(nodes, runtime, 3);
  }, 120_000);
  afterAll(() => runtime.stop(), 60_000);

  it("the agents reach each other across the run's network", async () => {
    const probes = await runtime.probe.reach(
      [
        ["n1", "n2"],
        ["n2", "n3"],
        ["n3", "n1"],
      ],
      1000,
    );
    expect(probes.map((p) => p.outcome)).toEqual(["connected", "connected", "connected"]);
  });

  const kinds: [NemesisKind, Record<string, unknown>, Record<string, unknown>][] = [
    ["partition", { verified: true, probes: { timed_out: 4 } }, { verified: true }],
    [
      "kill",
      { verified: true, states: { n1: "gone" } },
      { verified: true, states: { n1: "running" } },
    ],
    [
      "pause",
      { verified: true, states: { n1: "stopped" } },
      { verified: true, states: { n1: "running" } },
    ],
    ["loss", { verified: true }, { verified: true }],
  ];
  for (const [kind, started, stopped] of kinds) {
    it(`${kind}: start and stop verified`, async () => {
      const [nemesis] = await makeNemeses([kind], runtime, {
        partition: { shape: "isolate-one" },
        kill: { target: "leader" },
        pause: { target: "leader" },
        loss: { target: "one" },
      });
      const began = performance.now();
      const value = await nemesis?.start(cluster);
      console.log(
        `docker ${kind}: start ${Math.round(performance.now() - began)} ms`,
        JSON.stringify(value),
      );
      expect(value).toMatchObject(started);
      expect((value as { probe_ms: number }).probe_ms).toBeLessThan(300);
      expect(await nemesis?.stop(cluster)).toMatchObject(stopped);
    }, 60_000);
  }

  it("clock: verified as root (libfaketime mapped in the container's node process), else said why not", async () => {
    const [nemesis] = await makeNemeses(["clock"], runtime, { clock: { target: "one" } });
    const value = await nemesis?.start(cluster);
    if (process.getuid?.() === 0) {
      expect(value).toMatchObject({ verified: true, faketime: "loaded" });
      expect((value as { probe_ms: number }).probe_ms).toBeLessThan(300);
    } else {
      expect(value).toMatchObject({
        verified: false,
        unverified: "this runtime cannot see a node's mapped files",
      });
    }
    await nemesis?.stop(cluster);
  });
});
