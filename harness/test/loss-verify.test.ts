import { describe, expect, it } from "vitest";
import { FaultNotTaken, Verifier } from "../nemesis/verify.js";
import type { DatagramProbe, FaultProbe, NodePair } from "../types.js";

/** A probe whose datagrams come back at `share` (each pair, each attempt). */
function probe(share: number): FaultProbe {
  return {
    reach: async () => [],
    processState: async () => "running",
    datagrams: async (pairs: readonly NodePair[], count: number): Promise<DatagramProbe[]> =>
      pairs.map(([from, to]) => ({ from, to, sent: count, received: Math.round(count * share) })),
  };
}

const IDS = ["n1", "n2", "n3"];

describe("loss verification", () => {
  it("about the share asked for comes back: verified", async () => {
    const m = await new Verifier(probe(0.7)).loss(IDS, ["n1"], 0.3, "loss 0.3 from n1");
    expect(m).toMatchObject({ verified: true, datagrams: { n1: { received: 140, sent: 200 } } });
  });

  it("everything comes back: the loss did not take, an error", async () => {
    await expect(new Verifier(probe(1)).loss(IDS, ["n1"], 0.3, "loss 0.3 from n1")).rejects.toThrow(
      FaultNotTaken,
    );
  });

  it("far fewer come back than the loss explains (a loaded host drops more): verified, and said", async () => {
    const m = await new Verifier(probe(0.3)).loss(IDS, ["n1"], 0.3, "loss 0.3 from n1");
    expect(m).toMatchObject({
      verified: true,
      datagrams: { n1: { received: 60, expected: 140, more_loss_than_asked: true } },
    });
  });
});
