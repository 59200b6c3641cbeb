// A structural check of peer messages read off the wire, so a malformed frame is dropped by the
// shell instead of reaching the core. It checks the envelope and the fields the core reads.

import type { PeerMessage } from "./types.js";

type Obj = Record<string, unknown>;

const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);
const isInt = (x: unknown): x is number => Number.isInteger(x);
const isBallot = (x: unknown): boolean => isObj(x) && isInt(x.round) && typeof x.node === "string";
const isRequest = (x: unknown): boolean =>
  isObj(x) &&
  typeof x.clientId === "string" &&
  isInt(x.seq) &&
  isObj(x.command) &&
  typeof x.command.key === "string" &&
  (x.command.op === "read" ||
    (x.command.op === "write" && "value" in x.command) ||
    (x.command.op === "cas" && "from" in x.command && "to" in x.command));
const isValue = (x: unknown): boolean =>
  isObj(x) && Array.isArray(x.requests) && x.requests.every(isRequest);
const isChosen = (x: unknown): boolean => isObj(x) && isInt(x.slot) && isValue(x.value);
const isAccepted = (x: unknown): boolean => isChosen(x) && isBallot((x as Obj).ballot);
const isSnapshot = (x: unknown): boolean =>
  isObj(x) &&
  isInt(x.index) &&
  Array.isArray(x.kv) &&
  Array.isArray(x.sessions) &&
  (x.logDigest === undefined || typeof x.logDigest === "string");
const optSnapshot = (x: unknown): boolean => x === undefined || isSnapshot(x);
const arrayOf = (x: unknown, f: (y: unknown) => boolean): boolean => Array.isArray(x) && x.every(f);

export function isPeerMessage(x: unknown): x is PeerMessage {
  if (!isObj(x)) return false;
  switch (x.type) {
    case "prepare":
      return isBallot(x.ballot) && isInt(x.from);
    case "promise":
      return (
        isBallot(x.ballot) &&
        arrayOf(x.accepted, isAccepted) &&
        arrayOf(x.chosen, isChosen) &&
        optSnapshot(x.snapshot)
      );
    case "accept":
      return isBallot(x.ballot) && isInt(x.slot) && isValue(x.value);
    case "accepted":
      return isBallot(x.ballot) && isInt(x.slot);
    case "reject":
      return isBallot(x.ballot) && isBallot(x.promised);
    case "heartbeat":
    case "heartbeatAck":
      return (
        isBallot(x.ballot) &&
        isInt(x.commit) &&
        (x.at === undefined || isInt(x.at)) &&
        (x.read === undefined || isInt(x.read))
      );
    case "readIndex":
      return isInt(x.id);
    case "readIndexReply":
      return isInt(x.id) && isInt(x.index);
    case "chosen":
      return arrayOf(x.entries, isChosen) && optSnapshot(x.snapshot);
    case "catchup":
      return isInt(x.from);
    case "prevote":
      return isInt(x.round);
    case "prevoteReply":
      return isInt(x.round) && typeof x.granted === "boolean";
    case "forward":
      return arrayOf(x.requests, isRequest);
    default:
      return false;
  }
}
