// A ZooKeeper client: one worker process, one ZooKeeper session, to one server only (a connect
// string of one host:port, so the session never moves to another server: what a read sees is
// what that server serves). Key k is the znode /paxos-<k percent-encoded>; values are JSON.
//
//   read      getData (optionally after a sync); no znode = absent (null)
//   write     create-or-set: setData at any version; no znode: create; created meanwhile by
//             another client (NodeExists): setData again
//   cas a b   getData; the value is not a: fail; else setData(b) at the version read:
//             BadVersion (it changed since) = fail
//   add e     the set workload's add: getData (absent = []), setData(old + e) at that version,
//             again from a new read on BadVersion, up to ADD_ATTEMPTS times
//   read-all  a read of the set's key
//
// Outcomes (why each is definite or not):
// - A read applies nothing: whatever goes wrong, it is `fail` (definitely not applied).
// - NoNode, NodeExists, BadVersion, NoAuth, BadArguments, InvalidACL, AuthFailed on a write:
//   `fail`. The leader's request preparation (PrepRequestProcessor) checks these before it
//   proposes the change, so a request that gets one was never applied.
// - ConnectionLoss on a write: `info`. The request may have reached the server and been
//   forwarded to the leader and committed before the connection dropped; the reply is lost.
// - SessionExpired on a write: `info`. The client learns of the expiry only when it
//   reconnects; a request sent before that (the one that failed) may have been committed
//   while the session was still alive.
// - OperationTimeout, the operation's own timeout (the signal) and any other error on a
//   write: `info` (nothing says it did not apply).
// A session the server expired is replaced by a new one at the next operation. A client's
// session comes from options.session(): a spare made ahead (zookeeper-spares.ts), so that the
// client a worker gets after an `info` starts with a session made before the fault in force,
// as a long-lived application's would be (a session cannot be made on a follower cut off from
// the leader: creating one is a write).

import type { Value } from "../../checker/history.js";
import type { Client, Completion, Invocation } from "../types.js";
import { readAllOf } from "./cas-add.js";
import { ADD_ATTEMPTS } from "./http-kv.js";
import { type Versioned, ZK, type ZkResult, type ZkSession } from "./zookeeper-session.js";

export interface ZooKeeperClientOptions {
  /** A sync before each read (read, read-all): the server catches up with the leader first. */
  sync: boolean;
  /** A session of its own, to its node (new, or a spare made ahead: zookeeper-spares.ts). */
  session(): ZkSession;
}

/** Errors that mean the request was refused before it was proposed (see the header). */
const DEFINITE = new Set<number>([
  ZK.NO_NODE,
  ZK.NODE_EXISTS,
  ZK.BAD_VERSION,
  ZK.NO_AUTH,
  ZK.BAD_ARGUMENTS,
  ZK.INVALID_ACL,
  ZK.AUTH_FAILED,
]);

/** The znode of a key. */
export function znodeOf(key: string): string {
  return `/paxos-${encodeURIComponent(key)}`;
}

/** A write's outcome from ZooKeeper's answer: definite errors fail, the others are info. */
export function writeOutcome(error: { code: number; name: string }): Completion {
  return DEFINITE.has(error.code)
    ? { type: "fail", error: error.name }
    : { type: "info", error: error.name };
}

type Timed<T> = T | "timeout";

export class ZooKeeperClient implements Client {
  private session: ZkSession | undefined;

  constructor(private readonly options: ZooKeeperClientOptions) {}

  async invoke(op: Invocation, signal: AbortSignal): Promise<Completion> {
    const path = znodeOf(op.key ?? "");
    switch (op.f) {
      case "read":
        return this.read(path, signal);
      case "read-all":
        return readAllOf(await this.read(path, signal));
      case "write":
        return this.write(path, op.value ?? null, signal);
      case "cas": {
        const [from, to] = Array.isArray(op.value) ? op.value : [null, null];
        return this.cas(path, from ?? null, to ?? null, signal);
      }
      case "add":
        return this.add(path, op.value ?? null, signal);
    }
  }

  async close(): Promise<void> {
    this.session?.close();
    this.session = undefined;
  }

  private async read(path: string, signal: AbortSignal): Promise<Completion> {
    const got = await this.readVersioned(path, signal);
    if ("fail" in got) return { type: "fail", error: got.fail };
    return got.value === undefined
      ? { type: "fail", error: "the znode holds no JSON" }
      : { type: "ok", value: got.value };
  }

  /** The value (null: no znode) and version (-1: none), or why the read did not happen. */
  private async readVersioned(
    path: string,
    signal: AbortSignal,
  ): Promise<{ value: Value | undefined; version: number } | { fail: string }> {
    const s = this.live();
    if (this.options.sync) {
      const synced = await within(s.sync(path), signal);
      if (synced === "timeout") return { fail: "timeout (sync)" };
      if (!("ok" in synced)) return { fail: `sync: ${synced.name}` };
    }
    const got = await within(s.getData(path), signal);
    if (got === "timeout") return { fail: "timeout" };
    if ("ok" in got) return { value: parse(got.ok), version: got.ok.version };
    if (got.code === ZK.NO_NODE) return { value: null, version: -1 };
    return { fail: got.name };
  }

  private async write(path: string, value: Value, signal: AbortSignal): Promise<Completion> {
    const s = this.live();
    const data = encode(value);
    const set = await within(s.setData(path, data, -1), signal);
    if (set === "timeout") return { type: "info", error: "timeout" };
    if ("ok" in set) return { type: "ok" };
    if (set.code !== ZK.NO_NODE) return writeOutcome(set);
    // No znode yet (setData applied nothing): create it with the value.
    const created = await within(s.create(path, data), signal);
    if (created === "timeout") return { type: "info", error: "timeout" };
    if ("ok" in created) return { type: "ok" };
    if (created.code !== ZK.NODE_EXISTS) return writeOutcome(created);
    // Another client created it between the two: our write goes after theirs.
    const again = await within(s.setData(path, data, -1), signal);
    if (again === "timeout") return { type: "info", error: "timeout" };
    return "ok" in again ? { type: "ok" } : writeOutcome(again);
  }

  private async cas(
    path: string,
    from: Value,
    to: Value,
    signal: AbortSignal,
  ): Promise<Completion> {
    const got = await this.readVersioned(path, signal);
    // The read applies nothing: the cas definitely did not happen.
    if ("fail" in got) return { type: "fail", error: `read: ${got.fail}` };
    if (got.version < 0 || JSON.stringify(got.value) !== JSON.stringify(from)) {
      return { type: "fail", error: `the value is ${JSON.stringify(got.value)}` };
    }
    return this.setAt(path, to, got.version, signal);
  }

  private async add(path: string, element: Value, signal: AbortSignal): Promise<Completion> {
    let lastError = "";
    for (let attempt = 0; attempt < ADD_ATTEMPTS && !signal.aborted; attempt++) {
      const got = await this.readVersioned(path, signal);
      if ("fail" in got) {
        lastError = got.fail;
        continue;
      }
      const current = got.value ?? [];
      if (!Array.isArray(current)) {
        return { type: "fail", error: `the set key holds ${JSON.stringify(current)}` };
      }
      const next = [...current, element];
      const c =
        got.version < 0
          ? writeResult(await within(this.live().create(path, encode(next)), signal))
          : await this.setAt(path, next, got.version, signal);
      if (c.type !== "fail") return c;
      lastError = c.error ?? "fail";
    }
    return { type: "fail", error: `add not applied after ${ADD_ATTEMPTS} attempts: ${lastError}` };
  }

  /** setData at a version: BadVersion (changed since) and the other definite errors fail. */
  private async setAt(
    path: string,
    value: Value,
    version: number,
    signal: AbortSignal,
  ): Promise<Completion> {
    return writeResult(await within(this.live().setData(path, encode(value), version), signal));
  }

  /** The session, a new one if there is none or the server expired it. */
  private live(): ZkSession {
    if (this.session === undefined || this.session.isExpired) {
      this.session?.close();
      this.session = this.options.session();
    }
    return this.session;
  }
}

function writeResult<T>(r: Timed<ZkResult<T>>): Completion {
  if (r === "timeout") return { type: "info", error: "timeout" };
  return "ok" in r ? { type: "ok" } : writeOutcome(r);
}

/** Waits for the call, or for the signal: "timeout". */
function within<T>(call: Promise<T>, signal: AbortSignal): Promise<Timed<T>> {
  if (signal.aborted) return Promise.resolve("timeout");
  return new Promise((resolve) => {
    const onAbort = () => resolve("timeout");
    signal.addEventListener("abort", onAbort, { once: true });
    call.then((v) => {
      signal.removeEventListener("abort", onAbort);
      resolve(v);
    });
  });
}

function encode(value: Value): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** The znode's JSON value; undefined when it holds something else. */
function parse(v: Versioned): Value | undefined {
  try {
    return JSON.parse(v.data.toString("utf8")) as Value;
  } catch {
    return undefined;
  }
}
