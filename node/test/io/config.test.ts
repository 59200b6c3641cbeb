import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../io/config.js";

const peers = "n1=127.0.0.1:7001,n2=127.0.0.2:7002,n3=127.0.0.3:7003";

describe("parseConfig", () => {
  it("reads flags, taking host and peer port from the node's own peers entry", () => {
    const c = parseConfig(["--id", "n2", "--peers", peers, "--http-port", "8002"], {});
    expect(c).toEqual({
      id: "n2",
      peers: [
        { id: "n1", host: "127.0.0.1", port: 7001 },
        { id: "n3", host: "127.0.0.3", port: 7003 },
      ],
      host: "127.0.0.2",
      peerPort: 7002,
      httpPort: 8002,
      dataDir: "data/n2",
      tickMs: 20,
      requestTimeoutMs: 2000,
      logLevel: "info",
    });
  });

  it("reads the environment, and flags win over it", () => {
    const env = {
      PAXOS_NODE_ID: "n1",
      PAXOS_PEERS: peers,
      PAXOS_HTTP_PORT: "9000",
      PAXOS_DATA_DIR: "/env/dir",
      PAXOS_LOG_LEVEL: "debug",
    };
    expect(parseConfig([], env)).toMatchObject({
      id: "n1",
      httpPort: 9000,
      dataDir: "/env/dir",
      logLevel: "debug",
    });
    expect(
      parseConfig(["--http-port=9100", "--data-dir", "/flag/dir", "--tick-ms", "5"], env),
    ).toMatchObject({ id: "n1", httpPort: 9100, dataDir: "/flag/dir", tickMs: 5 });
  });

  it("accepts a peers list without the node itself", () => {
    const c = parseConfig(
      ["--id", "n9", "--peers", peers, "--host", "127.0.0.9", "--peer-port", "7009"],
      {},
    );
    expect(c.peers).toHaveLength(3);
    expect(c).toMatchObject({ host: "127.0.0.9", peerPort: 7009 });
  });

  it.each([
    [["--id", "n1", "--peers", peers, "--bogus", "1"], /--bogus/],
    [["--id", "n1", "--peers", peers, "extra"], /extra/],
    [["--peers", peers], /--id .*PAXOS_NODE_ID.* required/],
    [["--id", "n1"], /--peers .* required/],
    [["--id", "n1", "--peers", "n1=127.0.0.1"], /--peers: "n1=127.0.0.1" is not id=host:port/],
    [["--id", "n1", "--peers", "n1=127.0.0.1:7001,n1=127.0.0.2:7001"], /"n1" twice/],
    [["--id", "n1", "--peers", "n1=127.0.0.1:99999"], /--peers \(n1\): "99999"/],
    [["--id", "n1", "--peers", peers, "--http-port", "http"], /--http-port: "http"/],
    [["--id", "n1", "--peers", peers, "--host", "127.0.0.5"], /contradicts/],
    [["--id", "n1", "--peers", peers, "--log-level", "loud"], /--log-level/],
    [["--id", "bad id", "--peers", peers], /--id: bad node id/],
    [["--id", "n1", "--peers", peers, "--tick-ms", "0"], /--tick-ms/],
  ])("rejects %j naming the fault", (argv, message) => {
    expect(() => parseConfig(argv, {})).toThrow(ConfigError);
    expect(() => parseConfig(argv, {})).toThrow(message);
  });

  it("names the environment variable when the bad value came from it", () => {
    expect(() => parseConfig(["--id", "n1"], { PAXOS_PEERS: "garbage" })).toThrow(/PAXOS_PEERS/);
    expect(() =>
      parseConfig([], { PAXOS_NODE_ID: "n1", PAXOS_PEERS: peers, PAXOS_HTTP_PORT: "-1" }),
    ).toThrow(/PAXOS_HTTP_PORT: "-1"/);
  });

  it("parses bracketed IPv6 peer hosts", () => {
    const c = parseConfig(["--id", "a", "--peers", "a=[::1]:7000,b=[::1]:7001"], {});
    expect(c).toMatchObject({ host: "::1", peers: [{ id: "b", host: "::1", port: 7001 }] });
  });
});

describe("--mutant", () => {
  it("takes a known mutant from the flag or PAXOS_MUTANT, and names the known ones otherwise", () => {
    const base = ["--id", "n1", "--peers", "n1=127.0.0.1:7001,n2=127.0.0.2:7002"];
    expect(parseConfig([...base, "--mutant", "answer-before-durable"], {}).mutant).toBe(
      "answer-before-durable",
    );
    expect(parseConfig(base, { PAXOS_MUTANT: "ballot-round-only" }).mutant).toBe(
      "ballot-round-only",
    );
    expect(parseConfig(base, {}).mutant).toBeUndefined();
    expect(() => parseConfig([...base, "--mutant", "nope"], {})).toThrow(
      /--mutant: "nope" is not a mutant \(prepare-before-durable-promise, /,
    );
  });
});
