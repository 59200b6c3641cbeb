// The protocol adapters by name: a descriptor's `protocol:` (and its `options:`) picks one.
// Each adapter is a small module of this folder behind the Protocol interface (types.ts).

import type { Protocol, ProtocolName } from "../types.js";
import { etcdOptions, etcdProtocol } from "./etcd.js";
import { httpKvProtocol } from "./http-kv.js";
import { maelstromProtocol } from "./maelstrom.js";
import { zookeeperOptions, zookeeperProtocol } from "./zookeeper.js";

/**
 * Makes an adapter from a descriptor's options (a map, `{}` when none was given). Throws one
 * line naming the option at fault ("options.reads must be linearizable or serializable").
 */
export type ProtocolMaker = (options: Readonly<Record<string, unknown>>) => Protocol;

const PROTOCOLS = new Map<ProtocolName, ProtocolMaker>([
  ["http-kv", plain("http-kv", () => httpKvProtocol())],
  ["maelstrom", plain("maelstrom", maelstromProtocol)],
  ["etcd", (options) => etcdProtocol(etcdOptions(options))],
  ["zookeeper", (options) => zookeeperProtocol(zookeeperOptions(options))],
]);

export function protocolNames(): ProtocolName[] {
  return [...PROTOCOLS.keys()];
}

/** The adapter of this name; throws naming the known ones when there is none. */
export function makeProtocol(
  name: string,
  options: Readonly<Record<string, unknown>> = {},
): Protocol {
  const make = PROTOCOLS.get(name as ProtocolName);
  if (make === undefined) {
    throw new Error(`no protocol "${name}" (known: ${protocolNames().join(", ")})`);
  }
  return make(options);
}

/** The maker of an adapter that takes no options. */
function plain(name: ProtocolName, make: () => Protocol): ProtocolMaker {
  return (options) => {
    noOptions(name, options);
    return make();
  };
}

/** For adapters that take no options. */
export function noOptions(name: string, options: Readonly<Record<string, unknown>>): void {
  const extra = Object.keys(options);
  if (extra.length > 0) throw new Error(`options.${extra[0]}: ${name} takes no options`);
}
