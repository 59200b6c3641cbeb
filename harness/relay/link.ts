// A link of the relay: a listener on `listen` whose every accepted connection is forwarded to
// `target` through two pipes (pipe.ts), one per direction, under the link's settings.
//
// Modes (protocol.ts): `cut` resets every connection (both sockets, RST) and closes the
// listener, so new connects are refused; `blackhole` holds both pipes of every connection and
// does not dial the target for new ones until the link passes again; `pass` releases them.
// Resets travel through: an error on one socket resets the other. A FIN travels after the
// data queued before it.

import net, { type Server, type Socket } from "node:net";
import { Pipe } from "./pipe.js";
import {
  type LinkCounters,
  type LinkSettings,
  type LinkSpec,
  type LinkState,
  PASS,
} from "./protocol.js";
import { Wire } from "./schedule.js";

/** A dial of the target that has not connected after this long is given up (and reset). */
export const DIAL_TIMEOUT_MS = 3000;

export class Link {
  readonly name: string;
  settings: LinkSettings;
  readonly counters: LinkCounters = {
    connections: 0,
    open: 0,
    bytesToTarget: 0,
    bytesFromTarget: 0,
    dialFailures: 0,
  };
  readonly wires = { toTarget: new Wire(), fromTarget: new Wire() };
  private readonly connections = new Set<Connection>();
  private server: Server | undefined;
  private port: number;

  constructor(
    readonly spec: LinkSpec,
    readonly random: () => number = Math.random,
  ) {
    this.name = spec.name;
    this.port = spec.listen.port;
    this.settings = { ...PASS, ...spec.settings };
  }

  /**
   * Binds the listener; rejects when the address is taken. A link added cut binds too (so its
   * port is known, and held), then closes the listener until it passes.
   */
  async open(): Promise<void> {
    await this.listen();
    if (this.settings.mode === "cut") await this.unlisten();
  }

  async set(change: Partial<LinkSettings>): Promise<void> {
    const before = this.settings.mode;
    this.settings = { ...this.settings, ...change };
    const mode = this.settings.mode;
    if (mode === before) return;
    if (mode === "cut") {
      for (const c of this.connections) c.reset();
      await this.unlisten();
      return;
    }
    if (before === "cut") await this.listen();
    for (const c of this.connections) c.apply();
  }

  state(): LinkState {
    return {
      name: this.name,
      listen: { host: this.spec.listen.host, port: this.port },
      target: this.spec.target,
      settings: { ...this.settings },
      counters: { ...this.counters },
    };
  }

  /** Resets every connection and closes the listener. */
  async close(): Promise<void> {
    for (const c of this.connections) c.reset();
    await this.unlisten();
  }

  forget(connection: Connection): void {
    if (this.connections.delete(connection)) this.counters.open--;
  }

  private accept(socket: Socket): void {
    if (this.settings.mode === "cut") {
      resetSocket(socket);
      return;
    }
    this.counters.connections++;
    this.counters.open++;
    const connection = new Connection(this, socket);
    this.connections.add(connection);
    connection.apply();
  }

  private listen(): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true }, (s) => this.accept(s));
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.spec.listen.host, port: this.port, exclusive: true }, () => {
        server.off("error", reject);
        server.on("error", () => {});
        this.port = (server.address() as net.AddressInfo).port;
        this.server = server;
        resolve();
      });
    });
  }

  private unlisten(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

/** One accepted connection and, once dialed, its connection to the target. */
class Connection {
  private upstream: Socket | undefined;
  private connected = false;
  private forward: Pipe | undefined;
  private backward: Pipe | undefined;
  private done = false;

  constructor(
    private readonly link: Link,
    private readonly client: Socket,
  ) {
    client.setNoDelay(true);
    client.pause();
    client.on("error", () => this.reset());
    client.on("close", () => {
      // Gone before the target answered: nothing will ever be delivered.
      if (!this.connected) this.reset();
      this.settle();
    });
  }

  /** Brings the connection in line with the link's mode (dials the target when it passes). */
  apply(): void {
    if (this.done) return;
    const blackhole = this.link.settings.mode === "blackhole";
    if (this.upstream === undefined) {
      if (!blackhole) this.dial();
      return;
    }
    this.forward?.hold(blackhole || !this.connected);
    this.backward?.hold(blackhole);
  }

  /** Resets both sockets (RST) and drops what is queued. */
  reset(): void {
    if (this.done) return;
    this.done = true;
    this.forward?.discard();
    this.backward?.discard();
    resetSocket(this.client);
    if (this.upstream) resetSocket(this.upstream);
    this.settle();
  }

  private dial(): void {
    const { spec, counters } = this.link;
    const upstream = net.connect({
      host: spec.target.host,
      port: spec.target.port,
      ...(spec.dialFrom === undefined ? {} : { localAddress: spec.dialFrom }),
      allowHalfOpen: true,
    });
    this.upstream = upstream;
    upstream.setNoDelay(true);
    const timer = setTimeout(() => upstream.destroy(new Error("dial timeout")), DIAL_TIMEOUT_MS);
    const settings = () => this.link.settings;
    const random = this.link.random;
    this.forward = new Pipe(
      {
        source: this.client,
        destination: upstream,
        settings,
        wire: this.link.wires.toTarget,
        delivered: (n) => {
          counters.bytesToTarget += n;
        },
        random,
      },
      true,
    );
    this.backward = new Pipe(
      {
        source: upstream,
        destination: this.client,
        settings,
        wire: this.link.wires.fromTarget,
        delivered: (n) => {
          counters.bytesFromTarget += n;
        },
        random,
      },
      false,
    );
    upstream.once("connect", () => {
      clearTimeout(timer);
      this.connected = true;
      this.apply();
    });
    upstream.on("error", () => {
      clearTimeout(timer);
      if (!this.connected) counters.dialFailures++;
      this.reset();
    });
    upstream.on("close", () => {
      clearTimeout(timer);
      this.settle();
    });
  }

  /** Leaves the link's set once both sockets are closed. */
  private settle(): void {
    const upstreamGone = this.upstream === undefined || this.upstream.destroyed;
    if (this.client.destroyed && upstreamGone) {
      this.done = true;
      this.link.forget(this);
    }
  }
}

/** RST where the socket is connected, a plain destroy where it is still connecting. */
function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    if (socket.connecting) socket.destroy();
    else socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
