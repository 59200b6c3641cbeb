// Fault periods from the nemesis events: each start-<kind> paired with the next stop-<kind>
// (first in, first out, as fault-tally.ts counts them; kinds may overlap), named after what it
// did ("partition n1 n2 | n3 n4 n5", "kill n4"). A start whose value has an error did not take
// and is no period; a fault still in force at the end lasts until the last event.

import type { Value } from "../../checker/history.js";
import type { NemesisEvent } from "./run-files.js";

export interface FaultPeriod {
  kind: string;
  name: string;
  /** Seconds since the test started. */
  from: number;
  to: number;
  verified: boolean;
}

type Fields = { [field: string]: Value };

export function faultPeriods(events: readonly NemesisEvent[], endNs: number): FaultPeriod[] {
  const open = new Map<string, FaultPeriod[]>();
  const periods: FaultPeriod[] = [];
  for (const e of events) {
    const m = /^(start|stop)-(.+)$/.exec(e.f);
    if (!m) continue;
    const [, phase, kind] = m as unknown as [string, string, string];
    const value = fieldsOf(e.value);
    if (phase === "start") {
      if ("error" in value) continue;
      const p: FaultPeriod = {
        kind,
        name: faultName(kind, value),
        from: e.time / 1e9,
        to: endNs / 1e9,
        verified: value.verified === true,
      };
      periods.push(p);
      open.set(kind, [...(open.get(kind) ?? []), p]);
    } else {
      const p = open.get(kind)?.shift();
      if (p) p.to = e.time / 1e9;
    }
  }
  return periods;
}

/** A fault in a few words, from its start event's value. */
export function faultName(kind: string, v: Fields): string {
  const nodes = (field: string) => {
    const x = v[field];
    return Array.isArray(x) ? x.map(String).join(" ") : "";
  };
  const words: string[] = [kind];
  switch (kind) {
    case "partition": {
      const groups = v.groups;
      if (typeof v.shape === "string") words.push(v.shape);
      if (Array.isArray(groups)) {
        words.push(
          groups.map((g) => (Array.isArray(g) ? g.map(String).join(" ") : "")).join(" | "),
        );
      }
      if (typeof v.bridge === "string") words.push(`(${v.bridge} talks to both)`);
      break;
    }
    case "kill":
      words.push(nodes("killed"));
      break;
    case "pause":
      words.push(nodes("paused"));
      break;
    case "power":
      words.push(nodes("powered_off"));
      break;
    case "clock": {
      const skew = fieldsOf(v.skew_ms);
      words.push(
        Object.entries(skew)
          .map(
            ([id, ms]) => `${id} ${Number(ms) >= 0 ? "+" : ""}${Math.round(Number(ms) / 1000)} s`,
          )
          .join(", "),
      );
      break;
    }
    case "loss":
      if (typeof v.loss === "number") words.push(`${Math.round(v.loss * 100)}%`);
      words.push(nodes("nodes"));
      break;
    case "delay":
      if (typeof v.delay_ms === "number") words.push(`${v.delay_ms} ms`);
      words.push(nodes("nodes"));
      break;
    case "reset":
      words.push(nodes("nodes"));
      break;
    default:
      if (typeof v.target === "string") words.push(v.target);
  }
  return words.filter((w) => w !== "").join(" ");
}

function fieldsOf(v: Value | undefined): Fields {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? v : {};
}
