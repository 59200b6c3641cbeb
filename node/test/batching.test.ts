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
    // Requests that arrived between two ready() calls share slots: four slots in flight, full
    // batches, nothing durable yet.
    expect(first.persist).toHaveLength(4);
    n.persisted(first.token as number);
    const rest = drainSync(n);
    const sizes = rest.applied.map((e) => e.value.requests.length);
    expect(sizes).toEqual([8, 8, 8, 8, 8]);
    expect(rest.replies).toHaveLength(40);
    expect(n.stateDigest()).toBe(JSON.stringify([["k", 40]]));
  });

  it("proposes one request per ready() when requests arrive one at a time", () => {
    const n = makeNode("n1", [], undefined, { maxInflight: 4, maxBatch: 8 });
    campaign(n);
    drainSync(n);
    const persisted: number[] = [];
    for (let i = 1; i <= 3; i++) {
      n.clientRequest(i, req("c", i, { op: "write", key: "k", value: i }));
      persisted.push(n.ready().persist.length);
    }
    expect(persisted).toEqual([1, 1, 1]);
    expect(n.hasReady()).toBe(false);
    n.clientRequest(4, req("c", 4, { op: "write", key: "k", value: 4 }));
    expect(n.hasReady()).toBe(true);
  });
});
