// The relay's pure parts: the peer view each node gets, the links each relay serves, and the
// delivery schedule (delay, jitter that never reorders, bandwidth).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { linkName, peerView, relayLinks, relayPorts } from "../relay/peer-view.js";
import { PASS, parseCommand } from "../relay/protocol.js";
import { DueTimes, sampleDelay, slices, Wire } from "../relay/schedule.js";
import type { NodeSpec } from "../types.js";

const cluster: NodeSpec[] = [1, 2, 3].map((i) => ({
  id: `n${i}`,
  host: `127.0.9.${i}`,
  httpPort: 8000,
  peerPort: 7000,
  dataDir: `/d/n${i}`,
}));

describe("peer view", () => {
  const links = new Map(cluster.map((n) => [n.id, relayLinks(n, cluster)]));
  // What the relays would answer: port 20000 + 100 * from + 10 * to (+1 for http).
  const states = new Map(
    [...links].map(([from, specs]) => [
      from,
      specs.map((s, i) => ({
        name: s.name,
        listen: { host: s.listen.host, port: 20_000 + Number(from.slice(1)) * 100 + i },
        target: s.target,
        settings: PASS,
        counters: {
          connections: 0,
          open: 0,
          bytesToTarget: 0,
          bytesFromTarget: 0,
          dialFailures: 0,
        },
      })),
    ]),
  );
  const ports = relayPorts(cluster, states);

  it("each relay listens on its node's address, dials from it, one peer and one http link per peer", () => {
    const n1 = links.get("n1") ?? [];
    expect(n1.map((l) => l.name)).toEqual(["n1->n2", "n1->n2:http", "n1->n3", "n1->n3:http"]);
    for (const l of n1) {
      expect(l.listen).toEqual({ host: "127.0.9.1", port: 0 });
      expect(l.dialFrom).toBe("127.0.9.1");
    }
    expect(n1[0]?.target).toEqual({ host: "127.0.9.2", port: 7000 });
    expect(n1[1]?.target).toEqual({ host: "127.0.9.2", port: 8000 });
  });

  it("a node sees itself as it is and every peer at its own relay's port for that link", () => {
    const view = peerView(cluster[0] as NodeSpec, cluster, ports);
    expect(view[0]).toEqual(cluster[0]);
    expect(view[1]).toEqual({
      ...cluster[1],
      host: "127.0.9.1",
      peerPort: 20_100,
      httpPort: 20_101,
    });
    expect(view[2]).toEqual({
      ...cluster[2],
      host: "127.0.9.1",
      peerPort: 20_102,
      httpPort: 20_103,
    });
    const n3 = peerView(cluster[2] as NodeSpec, cluster, ports);
    expect(n3[0]).toMatchObject({ id: "n1", host: "127.0.9.3", peerPort: 20_300 });
    expect(n3[2]).toEqual(cluster[2]);
  });

  it("a missing port is an error naming the link", () => {
    expect(() => peerView(cluster[0] as NodeSpec, cluster, new Map())).toThrow(/n1->n2/);
    expect(linkName("n1", "n2", "http")).toBe("n1->n2:http");
  });
});

describe("delivery schedule", () => {
  const settings = (delayMs: number, jitterMs = 0, bandwidth: number | null = null) => ({
    ...PASS,
    delayMs,
    jitterMs,
    bandwidth,
  });

  it("jitter is uniform within delay +- jitter, never below 0", () => {
    expect(sampleDelay(settings(100, 20), () => 0)).toBe(80);
    expect(sampleDelay(settings(100, 20), () => 0.5)).toBe(100);
    expect(sampleDelay(settings(100, 20), () => 0.9999)).toBeCloseTo(120, 1);
    expect(sampleDelay(settings(10, 50), () => 0)).toBe(0);
  });

  it("a later chunk is never due before an earlier one, whatever the jitter", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(50), fc.double({ min: 0, max: 0.999, noNaN: true })), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.nat(200),
        fc.nat(200),
        (chunks, delay, jitter) => {
          let r = 0;
          const due = new DueTimes(() => chunks[r++ % chunks.length]?.[1] ?? 0);
          const wire = new Wire();
          let now = 0;
          let last = -1;
          for (const [gap] of chunks) {
            now += gap;
            const t = due.next(now, 10, settings(delay, jitter), wire);
            expect(t).toBeGreaterThanOrEqual(last);
            expect(t).toBeGreaterThanOrEqual(now + Math.max(0, delay - jitter));
            last = t;
          }
        },
      ),
    );
  });

  it("bandwidth: the wire carries one chunk after another, shared by the link's connections", () => {
    const wire = new Wire();
    const a = new DueTimes();
    const b = new DueTimes();
    expect(a.next(0, 1000, settings(0, 0, 1000), wire)).toBe(1000);
    expect(b.next(0, 500, settings(0, 0, 1000), wire)).toBe(1500);
    expect(a.next(2000, 100, settings(50, 0, 1000), wire)).toBe(2150);
    expect(slices(Buffer.alloc(100_000), 50_000).map((s) => s.length)).toEqual(
      Array(100).fill(1000),
    );
    expect(slices(Buffer.alloc(100_000), null)).toHaveLength(1);
  });
});

describe("control commands", () => {
  it("names the field at fault", () => {
    expect(parseCommand("{")).toMatchObject({ ok: false, id: null });
    expect(parseCommand('{"id":3,"op":"set","name":"x","settings":{"mode":"open"}}')).toMatchObject(
      { ok: false, id: 3, error: expect.stringMatching(/^settings\.mode/) },
    );
    expect(parseCommand('{"id":4,"op":"fly"}')).toMatchObject({ ok: false, id: 4 });
    expect(parseCommand('{"id":5,"op":"stats"}')).toEqual({
      ok: true,
      command: { id: 5, op: "stats" },
    });
  });
});
