// The formats' names alone: what a command line offers, without loading the parsers.

import type { FormatName } from "../history.js";

export const FORMATS: readonly FormatName[] = [
  "jsonl",
  "porcupine-etcd",
  "porcupine-kv",
  "jepsen-edn",
];
