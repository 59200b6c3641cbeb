// RelayDelay: NetworkFaults' `delay(nodes, ms)` over the relays' control channels, plus jitter
// and a check that the delay took (a round trip through a delayed link).
//
// A delay is asked per node and applies to every link from and to it: a link between two
// nodes gets the larger of their delays, so delaying n1 and then healing n2 leaves n1's links
// delayed. Each relayed link delays both directions of its connections: a message between a
// delayed node and any other takes `ms` more, a request/answer round trip 2 x ms more.
// Only delayMs and jitterMs are changed: a link cut or blackholed by someone else stays so.

import type { NetworkFaults, NodeId } from "../types.js";
import { linkName } from "./peer-view.js";
import { type RoundTripOptions, roundTrips } from "./probe.js";
import type { RelayControl } from "./process.js";

export interface RelayDelayOptions {
  /** Each node's relay, serving its outgoing links. */
  relays: ReadonlyMap<NodeId, RelayControl>;
  /** The names of the links carrying from -> to on from's relay. Default: peer and http. */
  linksOf?: (from: NodeId, to: NodeId) => string[];
  /**
   * Where to send a round trip that goes through the link from -> to and gets an answer (e.g.
   * from's relay port for to's HTTP port, with HTTP_STATUS_REQUEST). Without it, verify rejects.
   */
  probe?: (from: NodeId, to: NodeId) => RoundTripOptions;
  /** Jitter that delay() adds (see LinkSettings.jitterMs: uniform, +-). Default 0. */
  jitterMs?: number;
}

export interface Lag {
  delayMs: number;
  jitterMs: number;
}

/** What a round trip through a delayed link measured (the nemesis's "verified" value). */
export interface DelayCheck {
  link: string;
  delay_ms: number;
  jitter_ms: number;
  /** At least what the delay alone makes a round trip take: 2 x (delay - jitter). */
  expected_min_rtt_ms: number;
  rtt_ms: { min: number; median: number; max: number };
  verified: boolean;
}

/** Timers fire on whole milliseconds: a round trip may come in this much under the sum. */
const TIMER_SLACK_MS = 2;

export class RelayDelay implements Pick<NetworkFaults, "delay"> {
  private readonly asked = new Map<NodeId, Lag>();
  private readonly nodes: NodeId[];

  constructor(private readonly o: RelayDelayOptions) {
    this.nodes = [...o.relays.keys()];
  }

  /** Delays every link from and to these nodes by ms (+- jitterMs, default: the options'); 0 heals them. */
  delay(nodes: readonly NodeId[], ms: number, jitterMs?: number): Promise<void> {
    const jitter = ms === 0 ? 0 : (jitterMs ?? this.o.jitterMs ?? 0);
    return this.lag(nodes, { delayMs: ms, jitterMs: jitter });
  }

  /** Delays every link from and to these nodes; a delay of 0 heals them. */
  async lag(nodes: readonly NodeId[], lag: Lag): Promise<void> {
    if (!(lag.delayMs >= 0 && lag.jitterMs >= 0)) {
      throw new Error(`delay: ${lag.delayMs} ms +- ${lag.jitterMs} ms is not >= 0`);
    }
    for (const id of nodes) {
      if (!this.o.relays.has(id)) throw new Error(`delay: no relay for node ${id}`);
      if (lag.delayMs === 0) this.asked.delete(id);
      else this.asked.set(id, lag);
    }
    const touched = new Set(nodes);
    const changes: Promise<unknown>[] = [];
    for (const from of this.nodes) {
      const relay = this.o.relays.get(from) as RelayControl;
      for (const to of this.nodes) {
        if (from === to || !(touched.has(from) || touched.has(to))) continue;
        const settings = this.linkLag(from, to);
        for (const name of this.linksOf(from, to)) changes.push(relay.set(name, settings));
      }
    }
    await Promise.all(changes);
  }

  /** Heals every delay this object made. */
  heal(): Promise<void> {
    return this.lag([...this.asked.keys()], { delayMs: 0, jitterMs: 0 });
  }

  /** The lag of the link from -> to now: the larger of its two ends'. */
  linkLag(from: NodeId, to: NodeId): Lag {
    const a = this.asked.get(from) ?? { delayMs: 0, jitterMs: 0 };
    const b = this.asked.get(to) ?? { delayMs: 0, jitterMs: 0 };
    return a.delayMs >= b.delayMs ? a : b;
  }

  /** Round trips through the link from -> to, against what its delay must make them take. */
  async verify(from: NodeId, to: NodeId, count = 3): Promise<DelayCheck> {
    if (this.o.probe === undefined) throw new Error("delay: no probe target to verify with");
    const { delayMs, jitterMs } = this.linkLag(from, to);
    const rtt = await roundTrips(this.o.probe(from, to), count);
    const expected = 2 * Math.max(0, delayMs - jitterMs);
    return {
      link: linkName(from, to),
      delay_ms: delayMs,
      jitter_ms: jitterMs,
      expected_min_rtt_ms: expected,
      rtt_ms: { min: rtt.min, median: rtt.median, max: rtt.max },
      verified: rtt.min >= expected - TIMER_SLACK_MS,
    };
  }

  private linksOf(from: NodeId, to: NodeId): string[] {
    return this.o.linksOf?.(from, to) ?? [linkName(from, to, "peer"), linkName(from, to, "http")];
  }
}
