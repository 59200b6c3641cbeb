// Every fault is checked before it counts, and every heal before the run goes on: one place,
// used by every nemesis, on top of the runtime's FaultProbe (types.ts).
//
// - partition / cut: a TCP connect each way across every cut link must time out (our rules
//   DROP, so a refusal is an answer: packets still pass), and each way across every kept link
//   must connect; after the heal every link must connect.
// - kill: the process is gone; restart: it runs again. pause: stopped (state T); resume: not.
// - loss: datagrams echoed between the probe agents come back at about the rate asked for,
//   within a tolerance of 4 standard deviations of the binomial count (plus 2), per target.
// - clock: libfaketime is mapped into the node's process (and, when the nemesis is made, the
//   node program is one libfaketime can reach: clockRefusal in clock.ts).
// - delay: not verified here; the network that delays measures it (NetworkFaults.verifyDelay).
//
// A fault that does not take throws FaultNotTaken, naming the fault and what the probe saw;
// the run ends with it (exit 3). Probes run in parallel with short timeouts, so a check costs
// about one timeout (150 ms); a kept link that fails once is tried again with a longer one
// before it counts (a busy machine), which costs time only when something is wrong.

import type { Value } from "../../checker/history.js";
import type {
  DatagramProbe,
  FaultProbe,
  NodeId,
  NodePair,
  ProcessState,
  ReachProbe,
} from "../types.js";

/** A fault that did not take, or a heal that did not: the run's error. */
export class FaultNotTaken extends Error {
  override name = "FaultNotTaken";
}

/** What a check adds to the nemesis event's value. */
export type Measured = { [key: string]: Value };

/** How long a probe across a cut link waits for a connect that must not come. */
export const CUT_TIMEOUT_MS = 150;
/** The second chance of a kept link that did not connect within CUT_TIMEOUT_MS. */
export const RETRY_TIMEOUT_MS = 1000;
/** How long a process may take to reach the state a signal asks for. */
export const STATE_WAIT_MS = 300;
/** Datagrams per pair when checking loss, and when checking its heal. */
export const LOSS_PROBES = 100;
export const HEAL_PROBES = 50;
const DATAGRAM_WAIT_MS = 150;

const NONE_TARGETED: Measured = { verified: false, unverified: "no node was targeted" };

/** The checks of one runtime; without a probe every check says it could not verify, and why. */
export class Verifier {
  constructor(
    private readonly probe: FaultProbe | undefined,
    private readonly why = "this runtime has no fault probe",
  ) {}

  /** Cut links silent both ways, kept links connecting both ways. */
  async cut(ids: readonly NodeId[], links: readonly NodePair[], what: string): Promise<Measured> {
    const probe = this.probe;
    if (probe === undefined) return this.unverified();
    const began = performance.now();
    const isCut = (a: NodeId, b: NodeId) =>
      links.some(([x, y]) => (x === a && y === b) || (x === b && y === a));
    const pairs = orderedPairs(ids);
    const cut = pairs.filter(([a, b]) => isCut(a, b));
    const kept = pairs.filter(([a, b]) => !isCut(a, b));
    const results = await probe.reach([...cut, ...kept], CUT_TIMEOUT_MS);
    // Results come back in any order: sort them by link, not by position.
    for (const r of results.filter((r) => isCut(r.from, r.to))) {
      if (r.outcome === "connected") {
        throw new FaultNotTaken(`${what}: ${r.from} -> ${r.to} still connects after the cut`);
      }
      if (r.outcome !== "timeout") {
        throw new FaultNotTaken(
          `${what}: ${r.from} -> ${r.to} is answered after the cut (${describe(r)}): packets still pass`,
        );
      }
    }
    await this.connectAll(
      probe,
      results.filter((r) => !isCut(r.from, r.to)),
      (r) =>
        `${what}: ${r.from} -> ${r.to} does not connect (${describe(r)}), though that link is kept`,
    );
    return {
      verified: true,
      probes: { cut: cut.length, timed_out: cut.length, kept: kept.length, connected: kept.length },
      probe_ms: ms(began),
    };
  }

  /** After a heal: every link connects both ways. */
  async healed(ids: readonly NodeId[], what: string): Promise<Measured> {
    const probe = this.probe;
    if (probe === undefined) return this.unverified();
    const began = performance.now();
    const pairs = orderedPairs(ids);
    const results = await probe.reach(pairs, CUT_TIMEOUT_MS);
    await this.connectAll(
      probe,
      results,
      (r) => `heal of ${what}: ${r.from} -> ${r.to} still does not connect (${describe(r)})`,
    );
    return { verified: true, probes: { connected: pairs.length }, probe_ms: ms(began) };
  }

  /** The nodes' processes reach `want` (within STATE_WAIT_MS: signals land asynchronously). */
  async state(
    nodes: readonly NodeId[],
    want: ProcessState,
    what: (node: NodeId, seen: ProcessState) => string,
  ): Promise<Measured> {
    if (nodes.length === 0) return NONE_TARGETED;
    const probe = this.probe;
    if (probe === undefined) return this.unverified();
    const began = performance.now();
    const states: { [id: string]: string } = {};
    await Promise.all(
      nodes.map(async (id) => {
        let seen = await probe.processState(id);
        while (seen !== want && performance.now() - began < STATE_WAIT_MS) {
          await new Promise((r) => setTimeout(r, 10));
          seen = await probe.processState(id);
        }
        if (seen !== want) throw new FaultNotTaken(what(id, seen));
        states[id] = seen;
      }),
    );
    return { verified: true, states, probe_ms: ms(began) };
  }

  /**
   * Datagrams from each target to every other node, echoed back: the share that returns is
   * (1 - p) per lossy leg (the echo leg is lossy when the peer is a target too).
   */
  async loss(
    ids: readonly NodeId[],
    targets: readonly NodeId[],
    p: number,
    what: string,
  ): Promise<Measured> {
    if (targets.length === 0) return NONE_TARGETED;
    const probe = this.probe;
    if (probe === undefined) return this.unverified();
    const began = performance.now();
    const pairs = targets.flatMap((t) => ids.filter((o) => o !== t).map((o): NodePair => [t, o]));
    const judge = (results: readonly DatagramProbe[]) =>
      targets.map((t) => {
        let sent = 0;
        let received = 0;
        let expected = 0;
        let variance = 0;
        for (const r of results.filter((r) => r.from === t)) {
          const q = (1 - p) ** (targets.includes(r.to) ? 2 : 1);
          sent += r.sent;
          received += r.received;
          expected += r.sent * q;
          variance += r.sent * q * (1 - q);
        }
        const tolerance = 4 * Math.sqrt(variance) + 2;
        const ok = Math.abs(received - expected) <= tolerance;
        return {
          t,
          ok,
          sent,
          received,
          expected: Math.round(expected),
          tolerance: Math.round(tolerance),
          // Fewer back than the loss explains, even waiting longer: the loss is in force and
          // the machine drops more (UDP buffers of a loaded host), which is not a fault that
          // failed to take. Recorded, not an error; too many back is.
          more: received < expected - tolerance,
        };
      });
    let verdicts = judge(await probe.datagrams(pairs, LOSS_PROBES, DATAGRAM_WAIT_MS));
    // Too few back may be echoes late on a busy machine: once more, waiting longer.
    if (verdicts.some((v) => !v.ok && v.received < v.expected)) {
      verdicts = judge(await probe.datagrams(pairs, LOSS_PROBES, RETRY_TIMEOUT_MS));
    }
    const measured: { [id: string]: Value } = {};
    for (const { t, ok, more, ...counts } of verdicts) {
      if (more) {
        measured[t] = { ...counts, more_loss_than_asked: true };
        continue;
      }
      if (!ok) {
        throw new FaultNotTaken(
          `${what}: ${counts.received} of ${counts.sent} probe datagrams from ${t} came back (expected ${counts.expected} ± ${counts.tolerance})`,
        );
      }
      measured[t] = counts;
    }
    return { verified: true, datagrams: measured, probe_ms: ms(began) };
  }

  /** After loss is healed: (almost) every datagram from the healed nodes comes back. */
  async lossHealed(
    ids: readonly NodeId[],
    nodes: readonly NodeId[],
    what: string,
  ): Promise<Measured> {
    if (nodes.length === 0) return NONE_TARGETED;
    const probe = this.probe;
    if (probe === undefined) return this.unverified();
    const began = performance.now();
    const pairs = nodes.flatMap((t) => ids.filter((o) => o !== t).map((o): NodePair => [t, o]));
    const count = async (waitMs: number) => {
      const results = await probe.datagrams(pairs, HEAL_PROBES, waitMs);
      return {
        sent: results.reduce((s, r) => s + r.sent, 0),
        received: results.reduce((s, r) => s + r.received, 0),
      };
    };
    // Nothing is lost on a healthy bridge; 2% leaves room for a busy machine, a residual
    // loss rule of even 10% would fall far below it. Late echoes get a second, longer wait.
    const healthy = (c: { sent: number; received: number }) => c.received >= c.sent * 0.98;
    let counts = await count(DATAGRAM_WAIT_MS);
    if (!healthy(counts)) counts = await count(RETRY_TIMEOUT_MS);
    if (!healthy(counts)) {
      throw new FaultNotTaken(
        `heal of ${what}: only ${counts.received} of ${counts.sent} probe datagrams came back`,
      );
    }
    return { verified: true, datagrams: counts, probe_ms: ms(began) };
  }

  /** libfaketime is loaded in each node's process. */
  async faketime(nodes: readonly NodeId[], what: string): Promise<Measured> {
    if (nodes.length === 0) return NONE_TARGETED;
    const probe = this.probe;
    if (probe === undefined) return this.unverified();
    if (probe.mappedFiles === undefined) {
      return { verified: false, unverified: "this runtime cannot see a node's mapped files" };
    }
    const began = performance.now();
    for (const id of nodes) {
      const files = await probe.mappedFiles(id);
      if (!files.some((f) => /libfaketime/.test(f))) {
        throw new FaultNotTaken(
          `${what}: libfaketime is not loaded in ${id}'s process, so its clock cannot move`,
        );
      }
    }
    return { verified: true, faketime: "loaded", probe_ms: ms(began) };
  }

  private unverified(): Measured {
    return { verified: false, unverified: this.why };
  }

  /** Kept links must connect: those that did not get one more, longer try. */
  private async connectAll(
    probe: FaultProbe,
    results: readonly ReachProbe[],
    message: (r: ReachProbe) => string,
  ): Promise<void> {
    const failed = results.filter((r) => r.outcome !== "connected");
    if (failed.length === 0) return;
    const again = await probe.reach(
      failed.map((r): NodePair => [r.from, r.to]),
      RETRY_TIMEOUT_MS,
    );
    const still = again.find((r) => r.outcome !== "connected");
    if (still) throw new FaultNotTaken(message(still));
  }
}

/** A partition in one short line: groups as n1|n2,n3 (the bridge node named), else the shape. */
export function partitionName(p: {
  shape: string;
  groups?: readonly (readonly NodeId[])[];
  bridge?: NodeId;
}): string {
  if (p.groups === undefined) return `partition ${p.shape}`;
  const groups = p.groups.map((g) => g.join(",")).join("|");
  return `partition ${groups}${p.bridge ? ` (${p.bridge} bridging)` : ""}`;
}

function orderedPairs(ids: readonly NodeId[]): NodePair[] {
  return ids.flatMap((a) => ids.filter((b) => b !== a).map((b): NodePair => [a, b]));
}

function describe(r: ReachProbe): string {
  return r.outcome === "error" ? (r.error ?? "error") : r.outcome;
}

function ms(began: number): number {
  return Math.round((performance.now() - began) * 10) / 10;
}
