// The maelstrom protocol: the shim's translation (http-kv <-> Maelstrom's lin-kv RPCs and
// error codes, read through the harness's own http-kv client), its routing of a program's
// output (malformed lines counted, never a crash; the program's exit is the shim's), the
// descriptor's wrapping; then real runs of the examples (examples/maelstrom-lin-kv, Python)
// in network namespaces through the CLI: the linearizable node passes a partition test,
// the broken one is caught.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { IMAGE_NODE } from "../../docker/project-image.js";
import { resolveBackend, scriptArgs } from "../backends/index.js";
import { HttpKvPool } from "../client/http-kv.js";
import { route } from "../maelstrom/envelope.js";
import { kvRequest } from "../maelstrom/shim.js";
import { answerOf, MAELSTROM_ERRORS, requestBody } from "../maelstrom/translate.js";
import type { Completion, Invocation, NodeHandle, NodeSpec } from "../types.js";
import {
  Docker,
  dockerOrSkip,
  historyLines,
  NOTHING,
  ours,
  runCliAsync,
} from "./docker-helpers.js";
import { gone, needRoot } from "./local-helpers.js";

const dir = mkdtempSync(path.join(tmpdir(), "paxos-maelstrom-"));

describe("translation: http-kv requests to Maelstrom bodies and back", () => {
  it("read, write and cas become lin-kv's read, write and cas", () => {
    expect(requestBody({ f: "read", key: "k1" })).toEqual({ type: "read", key: "k1" });
    expect(requestBody({ f: "write", key: "k1", value: 3 })).toEqual({
      type: "write",
      key: "k1",
      value: 3,
    });
    expect(requestBody({ f: "cas", key: "k1", from: [1], to: [1, 2] })).toEqual({
      type: "cas",
      key: "k1",
      from: [1],
      to: [1, 2],
    });
  });

  it("http-kv requests are parsed from method, path and body; anything else is a 400's reason", () => {
    expect(kvRequest("GET", "/kv/a%2Fb", "")).toEqual({ f: "read", key: "a/b" });
    expect(kvRequest("PUT", "/kv/k", '{"value":2}')).toEqual({ f: "write", key: "k", value: 2 });
    expect(kvRequest("POST", "/kv/k/cas", '{"from":1,"to":2}')).toEqual({
      f: "cas",
      key: "k",
      from: 1,
      to: 2,
    });
    expect(kvRequest("PUT", "/kv/k", "{")).toBe("the body is not JSON");
    expect(kvRequest("PUT", "/kv/k", '{"v":1}')).toMatch(/^no such request/);
    expect(kvRequest("GET", "/nope", "")).toMatch(/^no such endpoint/);
  });

  it("the ok replies: read_ok's value, write_ok, cas_ok; another type or no value is a protocol error", () => {
    expect(answerOf("read", { type: "read_ok", value: 4 })).toEqual({
      status: 200,
      body: { value: 4 },
    });
    expect(answerOf("write", { type: "write_ok" })).toEqual({ status: 200, body: {} });
    expect(answerOf("cas", { type: "cas_ok" })).toEqual({ status: 200, body: {} });
    expect(answerOf("read", { type: "read_ok" }).status).toBe(500);
    expect(answerOf("read", { type: "write_ok" }).body.error).toContain("expected read_ok");
  });

  it("Maelstrom's table: definite codes 1 10 11 12 14 20 21 22 30, indefinite 0 13", () => {
    const definite = Object.entries(MAELSTROM_ERRORS)
      .filter(([, e]) => e.definite)
      .map(([code]) => Number(code));
    expect(definite).toEqual([1, 10, 11, 12, 14, 20, 21, 22, 30]);
    expect(MAELSTROM_ERRORS[0]?.name).toBe("timeout");
    expect(MAELSTROM_ERRORS[13]?.name).toBe("crash");
  });
});

/** A tiny http server answering every request with answerOf(f, reply). */
async function answering(reply: (f: string) => { type: string; [k: string]: unknown }) {
  const server = http.createServer((req, res) => {
    const f = req.method === "GET" ? "read" : req.url?.endsWith("/cas") ? "cas" : "write";
    const a = answerOf(f as "read", reply(f) as never);
    res.writeHead(a.status, { "content-type": "application/json" }).end(JSON.stringify(a.body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return server;
}

const spec = (port: number): NodeSpec => ({
  id: "n1",
  host: "127.0.0.1",
  httpPort: port,
  peerPort: 1,
  dataDir: "/tmp",
});
const handleOf = (port: number): NodeHandle => ({
  spec: spec(port),
  url: `http://127.0.0.1:${port}`,
});

const OPS: Invocation[] = [
  { f: "read", key: "k" },
  { f: "write", key: "k", value: 1 },
  { f: "cas", key: "k", value: [1, 2] },
];

describe("what the harness's http-kv client makes of each Maelstrom error (through answerOf)", () => {
  // [code, read, write, cas]: a definite error is fail, except a read of a key that does not
  // exist (ok, absent); an indefinite or unknown one is info, except nothing.
  const table: [number, Completion["type"], Completion["type"], Completion["type"]][] = [
    [0, "info", "info", "info"],
    [1, "fail", "fail", "fail"],
    [10, "fail", "fail", "fail"],
    [11, "fail", "fail", "fail"],
    [12, "fail", "fail", "fail"],
    [13, "info", "info", "info"],
    [14, "fail", "fail", "fail"],
    [20, "ok", "fail", "fail"],
    [21, "fail", "fail", "fail"],
    [22, "fail", "fail", "fail"],
    [30, "fail", "fail", "fail"],
    [1000, "info", "info", "info"],
  ];
  for (const [code, ...types] of table) {
    it(`code ${code}: read ${types[0]}, write ${types[1]}, cas ${types[2]}`, async () => {
      const server = await answering(() => ({ type: "error", code, text: "t" }));
      const pool = new HttpKvPool();
      const port = (server.address() as net.AddressInfo).port;
      try {
        const client = pool.client(handleOf(port), "w1");
        const got = [];
        for (const op of OPS) {
          const c = await client.invoke(op, AbortSignal.timeout(2000));
          got.push(c.type);
          if (c.type === "ok") expect(c.value).toBeNull();
          // The client names a cas mismatch itself; every other error quotes Maelstrom's.
          else if (c.error !== "409 cas mismatch") expect(c.error).toContain(`error ${code}`);
        }
        expect(got).toEqual(types);
      } finally {
        pool.close();
        server.close();
      }
    });
  }

  it("a cas whose precondition failed is a cas mismatch (409), a code that is no integer is info", async () => {
    expect(answerOf("cas", { type: "error", code: 22 }).status).toBe(409);
    expect(answerOf("cas", { type: "error", code: 20 }).status).toBe(409);
    expect(answerOf("write", { type: "error", code: "11" }).status).toBe(500);
  });
});

describe("routing a program's output", () => {
  const ids = ["n1", "n2", "n3"];
  it("to clients (c<N>, with in_reply_to), to nodes, or nowhere (with why)", () => {
    const reply = route('{"src":"n1","dest":"c4","body":{"type":"read_ok","in_reply_to":9}}', ids);
    expect(reply).toMatchObject({ to: "client", inReplyTo: 9 });
    expect(route('{"src":"n1","dest":"n3","body":{"type":"x"}}', ids)).toMatchObject({
      to: "node",
      message: { dest: "n3" },
    });
    const nowhere = (line: string) => {
      const r = route(line, ids);
      return r.to === "nowhere" ? r.why : `routed to ${r.to}`;
    };
    expect(nowhere("hello")).toMatch(/^not JSON/);
    expect(nowhere("[1]")).toMatch(/^not a JSON object/);
    expect(nowhere('{"dest":"n2","body":{"type":"x"}}')).toMatch(/^no string src/);
    expect(nowhere('{"src":"n1","body":{"type":"x"}}')).toMatch(/^no string dest/);
    expect(nowhere('{"src":"n1","dest":"n2","body":{}}')).toMatch(/^no body object/);
    expect(nowhere('{"src":"n1","dest":"lin-kv","body":{"type":"read"}}')).toMatch(
      /"lin-kv" is no node or client/,
    );
  });
});

// A Maelstrom program of the test's own (Node.js): garbage first, then init_ok; a read of
// "exit-N" makes it exit with N; "v" reads 7; any other key answers error <the key>.
const FAKE = path.join(dir, "fake.mjs");
writeFileSync(
  FAKE,
  `import { createInterface } from "node:readline";
const out = (m) => process.stdout.write(JSON.stringify(m) + "\\n");
process.stdout.write("this is no json\\n[1,2]\\n");
out({ src: "n1", dest: "lin-kv", body: { type: "read", key: 1, msg_id: 99 } });
createInterface({ input: process.stdin }).on("line", (line) => {
  const m = JSON.parse(line);
  const b = m.body;
  const reply = (body) => out({ src: "n1", dest: m.src, body: { ...body, in_reply_to: b.msg_id } });
  if (b.type === "init") return reply({ type: "init_ok" });
  if (b.key === "v") return reply({ type: "read_ok", value: 7 });
  if (String(b.key).startsWith("exit-")) process.exit(Number(b.key.slice(5)));
  reply({ type: "error", code: Number(b.key), text: "as asked" });
});
`,
);

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface ShimChild {
  child: ChildProcess;
  port: number;
  log: () => string;
  exit: Promise<number | null>;
}

async function startShim(): Promise<ShimChild> {
  const [httpPort, peerPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      ...scriptArgs("harness/maelstrom/main"),
      ...["--id", "n1", "--host", "127.0.0.1", "--http-port", String(httpPort)],
      ...["--peer-port", String(peerPort), "--peers", `n1=127.0.0.1:${peerPort}`],
      ...["--", process.execPath, FAKE],
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr?.on("data", (c: Buffer) => {
    log += c.toString();
  });
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${httpPort}/status`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the shim did not get ready:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, port: httpPort, log: () => log, exit };
}

describe("the shim with a program of ours on 127.0.0.1", () => {
  const pool = new HttpKvPool();
  afterAll(() => pool.close());

  it("counts what it cannot route, answers through the program, exits with the program's code", async () => {
    const shim = await startShim();
    const status = (await (await fetch(`http://127.0.0.1:${shim.port}/status`)).json()) as {
      unroutable: number;
      initialized: boolean;
    };
    expect(status).toMatchObject({ initialized: true, unroutable: 3 });
    expect(shim.log()).toContain("not JSON");
    expect(shim.log()).toContain('dest \\"lin-kv\\" is no node or client');
    const client = pool.client(handleOf(shim.port), "w1");
    const read = (key: string) => client.invoke({ f: "read", key }, AbortSignal.timeout(3000));
    expect(await read("v")).toEqual({ type: "ok", value: 7 });
    expect(await read("20")).toEqual({ type: "ok", value: null });
    expect(await read("11")).toMatchObject({ type: "fail" });
    expect(await read("13")).toMatchObject({ type: "info" });
    // The program exits: so does the shim, with its code; the request in flight is info.
    expect((await read("exit-42")).type).toBe("info");
    expect(await shim.exit).toBe(42);
    expect(shim.log()).toContain('"msg":"program exited","code":42');
  }, 30_000);

  it("a SIGKILLed shim takes its program with it", async () => {
    const shim = await startShim();
    const pid = Number(/"msg":"program started","pid":(\d+)/.exec(shim.log())?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(gone(pid)).toBe(false);
    shim.child.kill("SIGKILL");
    await shim.exit;
    const deadline = Date.now() + 5000;
    while (!gone(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(gone(pid)).toBe(true);
  }, 30_000);
});

describe("descriptors with protocol: maelstrom", () => {
  const cluster: NodeSpec[] = [1, 2].map((i) => ({
    id: `n${i}`,
    host: `10.214.3.${i}`,
    httpPort: 8000,
    peerPort: 7000,
    dataDir: `/data/n${i}`,
  }));
  const write = (name: string, doc: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, stringify(doc));
    return file;
  };

  it("runs the program under the shim: locally, and in the project's image with container:", () => {
    const file = write("m.yaml", {
      name: "m",
      protocol: "maelstrom",
      local: { command: "./prog", args: ["--data", "{data_dir}"], env: { X: "{id}" } },
      container: { command: "/app/prog", args: [] },
    });
    const backend = resolveBackend(file);
    expect(backend.protocol.name).toBe("maelstrom");
    const local = backend.localCommand(cluster[1] as NodeSpec, cluster);
    expect(local.command).toBe(process.execPath);
    const at = local.args.indexOf("--");
    expect(local.args.slice(at)).toEqual(["--", path.join(dir, "prog"), "--data", "/data/n2"]);
    expect(local.args.slice(0, at).join(" ")).toContain(
      "--id n2 --host 10.214.3.2 --http-port 8000 --peer-port 7000 --peers n1=10.214.3.1:7000,n2=10.214.3.2:7000",
    );
    expect(local.args.some((a) => a.endsWith("harness/maelstrom/main.ts"))).toBe(true);
    expect(local.env).toEqual({ X: "n2" });
    const inImage = backend.containerCommand?.(cluster[0] as NodeSpec, cluster);
    expect(inImage?.command).toBe(IMAGE_NODE);
    expect(inImage?.args[0]).toBe("/app/dist/harness/maelstrom/main.js");
    expect(inImage?.args.slice(inImage.args.indexOf("--"))).toEqual(["--", "/app/prog"]);
  });

  it("files: or image: is one line saying why (the shim needs the project's image)", () => {
    const file = write("img.yaml", {
      name: "m",
      protocol: "maelstrom",
      local: { command: "/bin/true" },
      image: "some:image",
    });
    expect(() => resolveBackend(file)).toThrow(
      `${file}: image: protocol maelstrom runs its nodes under a shim of ours in the project's image: give container: (a program in that image) instead`,
    );
    const opts = write("opts.yaml", {
      name: "m",
      protocol: "maelstrom",
      options: { x: 1 },
      local: { command: "/bin/true" },
    });
    expect(() => resolveBackend(opts)).toThrow(`${opts}: options.x: maelstrom takes no options`);
  });

  it("maelstrom-lin-kv and maelstrom-broken are registered, from examples/", () => {
    for (const name of ["maelstrom-lin-kv", "maelstrom-broken"]) {
      const b = resolveBackend(name);
      expect(b.name).toBe(name);
      expect(b.protocol.name).toBe("maelstrom");
      expect(b.containerCommand).toBeUndefined();
      const args = b.localCommand(cluster[0] as NodeSpec, cluster).args;
      expect(args[args.indexOf("--") + 1]).toMatch(/examples\/maelstrom-lin-kv\/\w+_kv\.py$/);
    }
  });
});

const root = needRoot("the maelstrom examples' runs with partitions");

interface RunResults {
  valid: boolean | "unknown";
  ops: Record<string, number>;
  faults: Record<string, { started: number; verified: number }>;
  violating_keys?: string[];
}

function results(store: string): RunResults {
  return JSON.parse(readFileSync(path.join(store, "latest", "results.json"), "utf8"));
}

/** PIDs whose command line mentions this text. */
function processesMentioning(text: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, "utf8").includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe.runIf(root)("the Python examples in network namespaces, through the CLI", () => {
  it("maelstrom-lin-kv: partitions verified, followers cut from n1 refuse (11), VALID", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "paxos-maelstrom-run-"));
    const r = await runCliAsync([
      ...["test", "--backend", "maelstrom-lin-kv", "--runtime", "local", "--store", store],
      ...["--nodes", "3", "--workload", "register", "--nemesis", "partition"],
      ...["--time-limit", "10", "--nemesis-interval", "2.5", "--recovery", "1", "--seed", "3"],
      ...["--rate", "100", "--op-timeout", "2"],
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain("maelstrom-lin-kv-register: VALID");
    const res = results(store);
    expect(res).toMatchObject({ valid: true, runtime: "local", backend: "maelstrom-lin-kv" });
    expect(res.faults.partition?.started).toBeGreaterThanOrEqual(2);
    expect(res.faults.partition?.verified).toBe(res.faults.partition?.started);
    const lines = historyLines(path.join(store, "latest"));
    // The partitions bit the node-to-node TCP of the shims: followers cut from n1 refused.
    const refused = lines.filter(
      (l) => l.type === "fail" && String(l.error).includes("11 temporarily-unavailable"),
    ).length;
    expect(refused).toBeGreaterThan(0);
    const ok = lines.filter((l) => l.type === "ok").length;
    expect(ok).toBeGreaterThan(100);
    // No program outlived its shim: none holds this run's data folder in its command line.
    expect(processesMentioning(store)).toEqual([]);
    console.log(
      `maelstrom-lin-kv partition: ${JSON.stringify(res.ops)}, ${refused} refused as n1 unreachable`,
    );
  }, 90_000);

  it("maelstrom-broken: INVALID (exit 1), the violating keys named", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "paxos-maelstrom-run-"));
    const r = await runCliAsync([
      ...["test", "--backend", "maelstrom-broken", "--runtime", "local", "--store", store],
      ...["--nodes", "3", "--nemesis", "none", "--time-limit", "4", "--recovery", "0"],
      ...["--seed", "5"],
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stdout).toContain("maelstrom-broken-kv: INVALID: the history is not linearizable");
    const res = results(store);
    expect(res.valid).toBe(false);
    expect(res.violating_keys?.length).toBeGreaterThan(0);
    console.log(`maelstrom-broken: ${JSON.stringify(res.ops)}, keys ${res.violating_keys}`);
  }, 60_000);
});

// A linearizable Maelstrom program that the project's image can run: Node.js, given inline
// (`node -e`), since the image holds only Node.js and dist/. n1 holds the data; the others
// forward to it and pass its answer back (a lost one times out in the shim: info).
const INLINE_PROGRAM = `const rl = require("readline").createInterface({ input: process.stdin });
let me, ids, next = 1;
const kv = new Map(), waiting = new Map();
const out = (dest, body) => process.stdout.write(JSON.stringify({ src: me, dest, body }) + "\\n");
function apply(b) {
  const k = String(b.key);
  if (b.type === "read") return kv.has(k) ? { type: "read_ok", value: kv.get(k) } : { type: "error", code: 20 };
  if (b.type === "write") { kv.set(k, b.value); return { type: "write_ok" }; }
  if (!kv.has(k)) return { type: "error", code: 20 };
  if (JSON.stringify(kv.get(k)) !== JSON.stringify(b.from)) return { type: "error", code: 22 };
  kv.set(k, b.to); return { type: "cas_ok" };
}
rl.on("line", (l) => {
  const m = JSON.parse(l), b = m.body;
  if (b.type === "init") { me = b.node_id; ids = b.node_ids; return out(m.src, { type: "init_ok", in_reply_to: b.msg_id }); }
  if (b.type === "fwd") return out(m.src, { type: "fwd_ok", in_reply_to: b.msg_id, answer: apply(b.req) });
  if (b.type === "fwd_ok") { const w = waiting.get(b.in_reply_to); waiting.delete(b.in_reply_to); return w && out(w.src, { ...b.answer, in_reply_to: w.body.msg_id }); }
  if (me === ids[0]) return out(m.src, { ...apply(b), in_reply_to: b.msg_id });
  const id = next++; waiting.set(id, m); out(ids[0], { type: "fwd", msg_id: id, req: b });
});
`;

const docker = new Docker();
const withDocker = await dockerOrSkip();

describe.runIf(withDocker)("in Docker: the shim in the project's image (container:)", () => {
  it("a Node.js program given as container: passes a partition test, nothing of ours left", async () => {
    const store = mkdtempSync(path.join(tmpdir(), "paxos-maelstrom-docker-"));
    const file = path.join(store, "inline.yaml");
    writeFileSync(
      file,
      stringify({
        name: "maelstrom-inline",
        protocol: "maelstrom",
        local: { command: process.execPath, args: ["-e", INLINE_PROGRAM] },
        container: { command: IMAGE_NODE, args: ["-e", INLINE_PROGRAM] },
      }),
    );
    const r = await runCliAsync([
      ...["test", "--backend", file, "--runtime", "docker", "--store", store, "--nodes", "3"],
      ...["--workload", "register", "--nemesis", "partition", "--nemesis-interval", "2"],
      ...["--time-limit", "8", "--recovery", "1", "--seed", "4"],
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const res = results(store);
    expect(res).toMatchObject({ valid: true, runtime: "docker" });
    expect(res.faults.partition?.started).toBeGreaterThanOrEqual(2);
    expect(res.faults.partition?.verified).toBe(res.faults.partition?.started);
    expect(res.ops.ok).toBeGreaterThan(100);
    const n2 = readFileSync(path.join(store, "latest", "nodes", "n2.log"), "utf8");
    expect(n2).toContain('"msg":"started","init_ok":true');
    expect(await ours(docker)).toEqual(NOTHING);
    console.log(`maelstrom in docker, partition: ${JSON.stringify(res.ops)}`);
  }, 180_000);
});
