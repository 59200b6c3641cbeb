// One ZooKeeper session over node-zookeeper-client, as promises: the few calls the ZooKeeper
// client uses (getData, setData, create, sync), each resolving to a result or to the error code
// ZooKeeper answered (never throwing), plus a close that does not hang on a dead server.
//
// The library has no `sync` (its connection manager drops a connection on a reply it does not
// know). sync is sent here through the library's own queue, in the wire form of ZooKeeper's
// SyncRequest (opcode 9, one path), under a header that reads CREATE (opcode 1) everywhere but
// during its serialization: the reply of a sync (SyncResponse: one path) and of a create
// (CreateResponse: one path) have the same form, so the library decodes it as a create's. The
// internals this touches (connectionManager.queue, jute.Request, the header's type) are typed
// below, on node-zookeeper-client 1.1.3 (package.json pins it).

import { createRequire } from "node:module";
import zookeeper from "node-zookeeper-client";

/** ZooKeeper's error codes (KeeperException.Code), as the library has them. */
export const ZK = {
  CONNECTION_LOSS: zookeeper.Exception.CONNECTION_LOSS,
  OPERATION_TIMEOUT: zookeeper.Exception.OPERATION_TIMEOUT,
  SESSION_EXPIRED: zookeeper.Exception.SESSION_EXPIRED,
  NO_NODE: zookeeper.Exception.NO_NODE,
  NODE_EXISTS: zookeeper.Exception.NODE_EXISTS,
  BAD_VERSION: zookeeper.Exception.BAD_VERSION,
  NO_AUTH: zookeeper.Exception.NO_AUTH,
  BAD_ARGUMENTS: zookeeper.Exception.BAD_ARGUMENTS,
  INVALID_ACL: zookeeper.Exception.INVALID_ACL,
  AUTH_FAILED: zookeeper.Exception.AUTH_FAILED,
} as const;

/** What ZooKeeper answered: the result, or its error (code and name). */
export type ZkResult<T> = { ok: T } | { code: number; name: string };

export interface Versioned {
  data: Buffer;
  version: number;
}

export interface SessionOptions {
  /** The session timeout asked for (the server bounds it by 2 and 20 ticks). */
  sessionTimeoutMs: number;
  /** The longest wait between two connection attempts. */
  spinDelayMs: number;
}

const OP_SYNC = 9;
const OP_CREATE = 1;

// The library's internals used for sync and close (node-zookeeper-client 1.1.3).
interface JuteRecord {
  path?: string;
}
interface RequestHeader extends JuteRecord {
  type: number;
}
interface JuteRequest {
  header: RequestHeader;
  toBuffer(): Buffer;
}
interface Jute {
  OP_CODES: { SYNC: number; CREATE: number };
  protocol: { RequestHeader: new () => RequestHeader; GetACLRequest: new () => JuteRecord };
  Request: new (header: RequestHeader, payload: JuteRecord) => JuteRequest;
}
interface ConnectionManager {
  queue(request: JuteRequest, callback: (error: unknown) => void): void;
  socket?: { destroy(): void };
  pendingBuffer: Buffer | null;
  onSocketData(buffer: Buffer): void;
}
type LibraryClient = zookeeper.Client & { connectionManager: ConnectionManager };

const jute = createRequire(import.meta.url)("node-zookeeper-client/lib/jute") as Jute;
if (jute.OP_CODES.SYNC !== OP_SYNC || jute.OP_CODES.CREATE !== OP_CREATE) {
  throw new Error("node-zookeeper-client: unexpected opcodes (sync needs version 1.1.3)");
}

export class ZkSession {
  private readonly zk: LibraryClient;
  private expired = false;
  private connected = false;
  private closed = false;

  /** Connects (in the background: calls wait in the library's queue until it is connected). */
  constructor(connect: string, options: SessionOptions) {
    // retries 0: the library would resend a request after a connection loss, and a write that
    // had applied would then answer BadVersion or NodeExists: a false `fail`.
    this.zk = zookeeper.createClient(connect, {
      sessionTimeout: options.sessionTimeoutMs,
      spinDelay: options.spinDelayMs,
      retries: 0,
    }) as LibraryClient;
    this.zk.on("expired", () => {
      this.expired = true;
      this.connected = false;
    });
    this.zk.on("connected", () => {
      this.connected = true;
    });
    this.zk.on("disconnected", () => {
      this.connected = false;
    });
    guardReplies(this.zk.connectionManager);
    this.zk.connect();
  }

  /** Connected to its server now (the session established). */
  get isConnected(): boolean {
    return this.connected && !this.expired && !this.closed;
  }

  /** True once the server said the session is gone: it cannot be used again. */
  get isExpired(): boolean {
    return this.expired;
  }

  getData(path: string): Promise<ZkResult<Versioned>> {
    return new Promise((resolve) =>
      this.zk.getData(path, (error, data, stat) =>
        resolve(
          error ? errorOf(error) : { ok: { data: data ?? Buffer.alloc(0), version: stat.version } },
        ),
      ),
    );
  }

  /** setData conditioned on a version (-1: any). */
  setData(path: string, data: Buffer, version: number): Promise<ZkResult<number>> {
    return new Promise((resolve) =>
      this.zk.setData(path, data, version, (error, stat) =>
        resolve(error ? errorOf(error) : { ok: stat.version }),
      ),
    );
  }

  /** A persistent znode with the open ACL. */
  create(path: string, data: Buffer): Promise<ZkResult<string>> {
    return new Promise((resolve) =>
      this.zk.create(path, data, (error, created) =>
        resolve(error ? errorOf(error) : { ok: created }),
      ),
    );
  }

  /** ZooKeeper's sync: the server this session talks to catches up with the leader (see above). */
  sync(path: string): Promise<ZkResult<true>> {
    const header = new jute.protocol.RequestHeader();
    header.type = OP_CREATE;
    const payload = new jute.protocol.GetACLRequest(); // SyncRequest's form: one path
    payload.path = path;
    const request = new jute.Request(header, payload);
    const toBuffer = request.toBuffer.bind(request);
    request.toBuffer = () => {
      header.type = OP_SYNC;
      try {
        return toBuffer();
      } finally {
        header.type = OP_CREATE;
      }
    };
    return new Promise((resolve) =>
      this.zk.connectionManager.queue(request, (error) =>
        resolve(error ? errorOf(error) : { ok: true }),
      ),
    );
  }

  /** Closes the session; a server that does not answer within graceMs has its socket cut. */
  close(graceMs = 500): void {
    if (this.closed) return;
    this.closed = true;
    this.zk.close();
    setTimeout(() => this.zk.connectionManager.socket?.destroy(), graceMs).unref();
  }
}

/**
 * The library throws from its socket's data handler on a reply it cannot decode (a connect
 * reply that arrives after close(), when it no longer expects one: "Unknown code"), which
 * would end the harness. Each new socket binds `onSocketData` when it is made, so an own
 * property here catches that, drops the half-read bytes and cuts the socket instead: the
 * requests in flight then end with ConnectionLoss, and an open session reconnects.
 */
function guardReplies(cm: ConnectionManager): void {
  const decode = cm.onSocketData;
  cm.onSocketData = function (this: ConnectionManager, buffer: Buffer) {
    try {
      decode.call(this, buffer);
    } catch {
      this.pendingBuffer = null;
      this.socket?.destroy();
    }
  };
}

function errorOf(error: unknown): { code: number; name: string } {
  if (error instanceof zookeeper.Exception) return { code: error.getCode(), name: error.getName() };
  // The library asserts its arguments with Error; ours are well formed, so this is unexpected.
  return { code: Number.NaN, name: error instanceof Error ? error.message : String(error) };
}
