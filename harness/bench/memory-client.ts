// An in-process, in-memory http-kv "cluster" for the bench and tests: one Map shared by every
// node, each operation applied atomically at once (so it is linearizable), no network.

import type { Value } from "../../checker/history.js";
import { valueEqual } from "../../checker/history.js";
import type { Client, ClientFactory, Completion, Invocation } from "../types.js";

export class MemoryStore implements ClientFactory {
  readonly data = new Map<string, Value>();

  client(): Client {
    return new MemoryClient(this.data);
  }

  close(): void {}
}

class MemoryClient implements Client {
  constructor(private readonly data: Map<string, Value>) {}

  async invoke(op: Invocation, _signal: AbortSignal): Promise<Completion> {
    const key = op.key ?? "";
    const current = this.data.get(key) ?? null;
    switch (op.f) {
      case "read":
        return { type: "ok", value: current };
      case "write":
        this.data.set(key, op.value ?? null);
        return { type: "ok" };
      case "cas": {
        const [from, to] = op.value as [Value, Value];
        if (!this.data.has(key) || !valueEqual(current, from)) return { type: "fail" };
        this.data.set(key, to);
        return { type: "ok" };
      }
      case "add": {
        const set = Array.isArray(current) ? current : [];
        this.data.set(key, [...set, op.value ?? null]);
        return { type: "ok" };
      }
      case "read-all":
        return { type: "ok", value: Array.isArray(current) ? current : [] };
    }
  }

  async close(): Promise<void> {}
}
