// Node configuration from flags and environment. Flags win over PAXOS_* variables, so a
// runtime can set a cluster-wide environment and override one node on its command line.
import { isIP } from "node:net";
import { parseArgs } from "node:util";
import { MUTANTS, type Mutant } from "../core/mutants.js";
import { isLogLevel, type LogLevel } from "./logger.js";
import type { PeerAddress } from "./transport.js";

export interface NodeConfig {
  id: string;
  /** The other nodes (never this one). */
  peers: PeerAddress[];
  /** The address this node listens on and dials its peers from. */
  host: string;
  peerPort: number;
  httpPort: number;
  dataDir: string;
  tickMs: number;
  /** How long an HTTP request waits for its reply before it is answered indeterminate. */
  requestTimeoutMs: number;
  logLevel: LogLevel;
  /** A deliberate bug (core/mutants.ts), for testing the tests; absent in every normal run. */
  mutant?: Mutant;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export const USAGE = `usage: node dist/node/main.js --id ID --peers ID=HOST:PORT,... [options]
  --id ID             this node's id                         (PAXOS_NODE_ID)
  --peers LIST        every node as id=host:port, comma-separated;
                      this node's own entry is optional       (PAXOS_PEERS)
  --host IP           address to listen on and dial from      (PAXOS_HOST; default: own peers
                      entry, else 127.0.0.1)
  --peer-port N       peer transport port                     (PAXOS_PEER_PORT; default: own
                      peers entry, else 7000)
  --http-port N       client API port, 0 = any free one       (PAXOS_HTTP_PORT; default 8000)
  --data-dir DIR      durable state                           (PAXOS_DATA_DIR; default data/ID)
  --tick-ms N         consensus tick interval                 (PAXOS_TICK_MS; default 20)
  --request-timeout-ms N  a client request unanswered this long gets an
                      indeterminate 500 (PAXOS_REQUEST_TIMEOUT_MS; default 2000)
  --log-level LEVEL   debug|info|warn|error                   (PAXOS_LOG_LEVEL; default info)
  --mutant NAME       run with a deliberate Paxos bug, to test  (PAXOS_MUTANT; default none)
                      a test harness: ${MUTANTS.join(", ")}`;

const FLAGS = {
  id: "PAXOS_NODE_ID",
  peers: "PAXOS_PEERS",
  host: "PAXOS_HOST",
  "peer-port": "PAXOS_PEER_PORT",
  "http-port": "PAXOS_HTTP_PORT",
  "data-dir": "PAXOS_DATA_DIR",
  "tick-ms": "PAXOS_TICK_MS",
  "request-timeout-ms": "PAXOS_REQUEST_TIMEOUT_MS",
  "log-level": "PAXOS_LOG_LEVEL",
  mutant: "PAXOS_MUTANT",
} as const;
type Flag = keyof typeof FLAGS;

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Throws ConfigError naming the flag (or variable) at fault. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): NodeConfig {
  const options = Object.fromEntries(
    Object.keys(FLAGS).map((flag) => [flag, { type: "string" as const }]),
  );
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const get = (flag: Flag): { value: string; source: string } | undefined => {
    const fromFlag = values[flag];
    if (typeof fromFlag === "string") return { value: fromFlag, source: `--${flag}` };
    const fromEnv = env[FLAGS[flag]];
    if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, source: FLAGS[flag] };
    return undefined;
  };

  const idArg = get("id");
  if (idArg === undefined) throw new ConfigError(`--id (or ${FLAGS.id}) is required`);
  const id = idArg.value;
  if (!ID.test(id)) throw new ConfigError(`${idArg.source}: bad node id "${id}"`);

  const peersArg = get("peers");
  if (peersArg === undefined) throw new ConfigError(`--peers (or ${FLAGS.peers}) is required`);
  const all = parsePeers(peersArg.value, peersArg.source);
  const own = all.find((p) => p.id === id);

  const hostArg = get("host");
  const host = hostArg?.value ?? own?.host ?? "127.0.0.1";
  if (isIP(host) === 0) {
    throw new ConfigError(
      `${hostArg?.source ?? peersArg.source}: host "${host}" is not an IP address`,
    );
  }
  const peerPortArg = get("peer-port");
  const peerPort = peerPortArg ? port(peerPortArg, 1) : (own?.port ?? 7000);
  if (own && (own.host !== host || own.port !== peerPort)) {
    throw new ConfigError(
      `${peersArg.source}: entry ${id}=${own.host}:${own.port} contradicts this node's ${host}:${peerPort}`,
    );
  }

  const httpPortArg = get("http-port");
  const tickArg = get("tick-ms");
  const timeoutArg = get("request-timeout-ms");
  const levelArg = get("log-level");
  const logLevel = levelArg?.value ?? "info";
  if (!isLogLevel(logLevel)) {
    throw new ConfigError(`${levelArg?.source}: log level must be debug, info, warn or error`);
  }
  const mutantArg = get("mutant");
  if (mutantArg && !(MUTANTS as readonly string[]).includes(mutantArg.value)) {
    throw new ConfigError(
      `${mutantArg.source}: "${mutantArg.value}" is not a mutant (${MUTANTS.join(", ")})`,
    );
  }
  return {
    ...(mutantArg ? { mutant: mutantArg.value as Mutant } : {}),
    id,
    peers: all.filter((p) => p.id !== id),
    host,
    peerPort,
    httpPort: httpPortArg ? port(httpPortArg, 0) : 8000,
    dataDir: get("data-dir")?.value ?? `data/${id}`,
    tickMs: tickArg ? integer(tickArg, 1, 60_000) : 20,
    requestTimeoutMs: timeoutArg ? integer(timeoutArg, 1, 3_600_000) : 2000,
    logLevel,
  };
}

export function parsePeers(spec: string, source: string): PeerAddress[] {
  const peers: PeerAddress[] = [];
  for (const raw of spec.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    // host may be an IPv6 literal in brackets: n1=[::1]:7000
    const m = /^([^=]+)=(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (m === null) throw new ConfigError(`${source}: "${entry}" is not id=host:port`);
    const [, id, rawHost, rawPort] = m as unknown as [string, string, string, string];
    if (!ID.test(id)) throw new ConfigError(`${source}: bad node id "${id}" in "${entry}"`);
    if (peers.some((p) => p.id === id)) throw new ConfigError(`${source}: node id "${id}" twice`);
    const host = rawHost.replace(/^\[(.*)\]$/, "$1");
    peers.push({ id, host, port: port({ value: rawPort, source: `${source} (${id})` }, 1) });
  }
  if (peers.length === 0) throw new ConfigError(`${source}: no peers given`);
  return peers;
}

function port(arg: { value: string; source: string }, min: number): number {
  return integer(arg, min, 65535);
}

function integer(arg: { value: string; source: string }, min: number, max: number): number {
  const n = Number(arg.value);
  if (!/^\d+$/.test(arg.value) || n < min || n > max) {
    throw new ConfigError(`${arg.source}: "${arg.value}" is not an integer in ${min}..${max}`);
  }
  return n;
}
