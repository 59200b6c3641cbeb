// A client for etcd v3 (the etcd3 package over gRPC): one worker process talking to one member.
//
// read = a range of the key (linearizable, or serializable: member-local, when asked); write =
// a put; cas [a, b] = a txn: if the key's value is a then put b, else range the key (so that a
// failed cas names the current value); ok when the txn succeeded, fail when it did not (it ran
// and the value was not a). Absent and null are the same in the model, so a write or cas of
// null deletes the key, and a cas from null compares the key's create revision with 0 (a
// value compare on an absent key is always false in etcd). Values are JSON, so arrays (the set
// workload's) round-trip. add = the cas loop of cas-add.ts, read-all = a read.
//
// No retries anywhere: a retried put could apply twice. etcd3's default fault handling (a
// global retry of "recoverable" errors, three attempts across hosts, and a circuit breaker per
// host) is replaced by cockatiel's noop policies; grpc-js's own retries (transparent ones
// included) are off (grpc.enable_retries 0); each client has its one host. The op's
// AbortSignal ends the wait (info); the call itself is abandoned, with a gRPC deadline as a
// backstop, and cancelled when the client closes.
//
// Errors: etcd-errors.ts (definite only when rejected before proposing, or never sent).

import { noop } from "cockatiel";
import { Etcd3, type IOptions } from "etcd3";
import type { Value } from "../../checker/history.js";
import type { Client, Completion, Invocation } from "../types.js";
import { addByCas, type CasAttempt, readAllOf } from "./cas-add.js";
import { etcdErrorCompletion } from "./etcd-errors.js";

export type EtcdReads = "linearizable" | "serializable";

/** How long an abandoned call may live on the channel (the op's signal ends the wait long before). */
const BACKSTOP_MS = 60_000;

/**
 * etcd3 options for a connection to one member and no other, with every retry off. Reconnects
 * are quick (a killed member restarts in about a second; grpc-js's default backoff grows to
 * two minutes), and each client has a connection of its own (a local subchannel pool), so one
 * client's reset does not touch another's calls.
 */
export function memberOptions(url: string): IOptions {
  return {
    hosts: url,
    dialTimeout: 2000,
    faultHandling: { host: () => noop, global: noop },
    grpcOptions: {
      "grpc.enable_retries": 0,
      "grpc.use_local_subchannel_pool": 1,
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.min_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 1000,
    },
  };
}

/** How a call ended: its result, or the completion of its error (or of the op's timeout). */
type Called<T> = { result: T } | { completion: Completion };

export class EtcdClient implements Client {
  private readonly etcd: Etcd3;

  constructor(
    url: string,
    private readonly reads: EtcdReads,
  ) {
    this.etcd = new Etcd3(memberOptions(url));
  }

  async invoke(op: Invocation, signal: AbortSignal): Promise<Completion> {
    const key = op.key ?? "";
    switch (op.f) {
      case "read":
        return this.read(key, signal);
      case "write":
        return this.write(key, op.value ?? null, signal);
      case "cas": {
        const [from, to] = Array.isArray(op.value) ? op.value : [null, null];
        return (await this.cas(key, from ?? null, to ?? null, signal)).completion;
      }
      case "read-all":
        return readAllOf(await this.read(key, signal));
      case "add":
        return addByCas(
          { read: (s) => this.read(key, s), cas: (from, to, s) => this.cas(key, from, to, s) },
          op.value ?? null,
          signal,
        );
    }
  }

  async close(): Promise<void> {
    this.etcd.close();
  }

  private async read(key: string, signal: AbortSignal): Promise<Completion> {
    const called = await this.call(signal, (options) =>
      this.etcd.kv.range(
        { key: Buffer.from(key), serializable: this.reads === "serializable" },
        options,
      ),
    );
    if ("completion" in called) return called.completion;
    return decoded(called.result.kvs[0]?.value);
  }

  private async write(key: string, value: Value, signal: AbortSignal): Promise<Completion> {
    const called = await this.call<unknown>(signal, (options) =>
      value === null
        ? this.etcd.kv.deleteRange({ key: Buffer.from(key) }, options)
        : this.etcd.kv.put({ key: Buffer.from(key), value: encoded(value) }, options),
    );
    return "completion" in called ? called.completion : { type: "ok" };
  }

  private async cas(key: string, from: Value, to: Value, signal: AbortSignal): Promise<CasAttempt> {
    const k = Buffer.from(key);
    const compare =
      from === null
        ? { key: k, target: "Create" as const, result: "Equal" as const, create_revision: 0 }
        : { key: k, target: "Value" as const, result: "Equal" as const, value: encoded(from) };
    const then =
      to === null
        ? { request_delete_range: { key: k } }
        : { request_put: { key: k, value: encoded(to) } };
    const called = await this.call(signal, (options) =>
      this.etcd.kv.txn(
        { compare: [compare], success: [then], failure: [{ request_range: { key: k } }] },
        options,
      ),
    );
    if ("completion" in called) return { completion: called.completion };
    if (called.result.succeeded) return { completion: { type: "ok" } };
    // The txn ran and its compare was false: definitely not applied. Its failure branch read
    // the value it found, for the set's next attempt.
    const found = decoded(called.result.responses[0]?.response_range?.kvs[0]?.value);
    const mismatch: Completion = { type: "fail", error: "cas mismatch" };
    return found.type === "ok"
      ? { completion: mismatch, current: found.value ?? null }
      : { completion: mismatch };
  }

  /** Runs one call, ended early (info) by the op's signal; never throws. */
  private call<T>(
    signal: AbortSignal,
    run: (options: { deadline: number }) => Promise<T>,
  ): Promise<Called<T>> {
    if (signal.aborted) return Promise.resolve({ completion: { type: "info", error: "timeout" } });
    return new Promise((resolve) => {
      const onAbort = () => resolve({ completion: { type: "info", error: "timeout" } });
      signal.addEventListener("abort", onAbort, { once: true });
      let pending: Promise<T>;
      try {
        pending = run({ deadline: Date.now() + BACKSTOP_MS });
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        (result) => resolve({ result }),
        (err: unknown) => resolve({ completion: etcdErrorCompletion(err) }),
      );
      pending.finally(() => signal.removeEventListener("abort", onAbort)).catch(() => {});
    });
  }
}

function encoded(value: Value): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** A range's value as the model sees it: absent is null; a value that is not JSON is a protocol error. */
function decoded(bytes: Buffer | undefined): Completion {
  if (bytes === undefined) return { type: "ok", value: null };
  const text = bytes.toString("utf8");
  try {
    return { type: "ok", value: JSON.parse(text) as Value };
  } catch {
    return {
      type: "info",
      error: `protocol error: the key holds ${JSON.stringify(text.slice(0, 40))}, which is not JSON`,
      protocolError: true,
    };
  }
}
