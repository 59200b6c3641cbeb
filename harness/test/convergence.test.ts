import { describe, expect, it } from "vitest";
import { checkConvergence, describeDivergence, divergence } from "../convergence.js";
import type { NodeHandle, ReplicaState } from "../types.js";

const nodes: NodeHandle[] = ["n1", "n2", "n3"].map((id) => ({
  spec: { id, host: "127.0.0.1", httpPort: 1, peerPort: 2, dataDir: "/x" },
  url: "http://127.0.0.1:1",
}));

/** Replica states per node as a function of how many looks came before. */
function replicas(at: (id: string, look: number) => ReplicaState | undefined) {
  const looks = new Map<string, number>();
  return async (node: NodeHandle) => {
    const n = looks.get(node.spec.id) ?? 0;
    looks.set(node.spec.id, n + 1);
    return at(node.spec.id, n);
  };
}

describe("convergence: replicas at one applied index agree", () => {
  it("waits for a lagging replica, then compares", async () => {
    const r = await checkConvergence(
      nodes,
      replicas((id, look) =>
        id === "n3" && look < 3 ? { applied: 90, digest: "old" } : { applied: 100, digest: "d" },
      ),
      2000,
    );
    expect(r).toEqual({ checked: true, applied: 100, nodes: 3 });
  });

  it("two replicas at one index with different states: diverged at once, naming who holds what", async () => {
    const t = performance.now();
    const r = await checkConvergence(
      nodes,
      replicas((id) =>
        id === "n2" ? { applied: 100, digest: "bbbb" } : { applied: 100, digest: "aaaa" },
      ),
      5000,
    );
    expect(performance.now() - t).toBeLessThan(1000);
    expect(r).toEqual({
      checked: true,
      diverged: {
        applied: 100,
        states: [
          { digest: "aaaa", nodes: ["n1", "n3"] },
          { digest: "bbbb", nodes: ["n2"] },
        ],
      },
    });
    if (!("diverged" in r)) throw new Error("not diverged");
    expect(describeDivergence(r.diverged)).toBe(
      "replicas diverged: at applied index 100, n1, n3 hold state aaaa and n2 holds state bbbb",
    );
  });

  it("a backend that gives no replica state: not checked, saying so", async () => {
    expect(await checkConvergence(nodes, async () => undefined, 1000)).toEqual({
      checked: false,
      reason: "no node gave its replica state",
    });
  });

  it("replicas that never meet: not checked (not a verdict), naming where each stood", async () => {
    const r = await checkConvergence(
      nodes,
      replicas((id) =>
        id === "n3" ? undefined : { applied: id === "n1" ? 10 : 12, digest: `d${id}` },
      ),
      300,
    );
    expect(r).toEqual({
      checked: false,
      reason:
        "the replicas did not reach one applied index within 0.3 s (n1 10, n2 12; 1 did not answer)",
    });
  });

  it("one state reached by different logs is a divergence when every replica there gives a log", () => {
    const split = divergence([
      ["n1", { applied: 7, digest: "x", log: "a" }],
      ["n2", { applied: 7, digest: "x", log: "a" }],
      ["n3", { applied: 7, digest: "x", log: "b" }],
    ]);
    expect(split).toEqual({
      applied: 7,
      states: [
        { digest: "x", log: "a", nodes: ["n1", "n2"] },
        { digest: "x", log: "b", nodes: ["n3"] },
      ],
    });
    expect(describeDivergence(split as NonNullable<typeof split>)).toBe(
      "replicas diverged: at applied index 7, n1, n2 hold state x (log a) and n3 holds state x (log b)",
    );
    // A replica without a log digest: the states alone are compared (equal here).
    expect(
      divergence([
        ["n1", { applied: 7, digest: "x", log: "a" }],
        ["n2", { applied: 7, digest: "x" }],
        ["n3", { applied: 7, digest: "x", log: "b" }],
      ]),
    ).toBeUndefined();
  });

  it("divergence picks the lowest index where states differ", () => {
    expect(
      divergence([
        ["n1", { applied: 7, digest: "x" }],
        ["n2", { applied: 7, digest: "x" }],
        ["n3", { applied: 9, digest: "y" }],
      ]),
    ).toBeUndefined();
    expect(
      divergence([
        ["n1", { applied: 9, digest: "p" }],
        ["n2", { applied: 5, digest: "q" }],
        ["n3", { applied: 9, digest: "r" }],
        ["n4", { applied: 5, digest: "s" }],
      ])?.applied,
    ).toBe(5);
  });
});
