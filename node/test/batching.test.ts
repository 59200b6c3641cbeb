import { describe, expect, it } from "vitest";
import { campaign, drain, drainSync, makeNode, req } from "./helpers.js";

describe("batching and pipelining", () => {
  it("keeps several slots in flight and batches the requests that queue up meanwhile", () => {
    const n = makeNode("n1", [], undefined, { maxInflight: 4, maxBatch: 8 });
    campaign(n);
    drainSync(n);
    for (let i = 1; i <= 40; i++)
      n.clientRequest(i, req("c", i, { op: "write", key: "k", value: i }));
    const first = drain(n);
    expect(first.persist).toHaveLength(4); // four slots in flight, one request each, nothing durable yet
    n.persisted(first.token as number);
    const rest = drainSync(n);
    const sizes = rest.applied.map((e) => e.value.requests.length);
    expect(sizes.slice(0, 4)).toEqual([1, 1, 1, 1]);
    expect(Math.max(...sizes)).toBe(8);
    expect(rest.applied.length).toBeLessThan(12);
    expect(rest.replies).toHaveLength(40);
    expect(n.stateDigest()).toBe(JSON.stringify([["k", 40]]));
  });
});
