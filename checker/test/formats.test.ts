import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { detectFormat, parseHistory } from "../formats/index.js";
import { parseJepsenEdn } from "../formats/jepsen-edn.js";
import { parseJsonl } from "../formats/jsonl.js";
import { parsePorcupineEtcd } from "../formats/porcupine-etcd.js";
import { parsePorcupineKv } from "../formats/porcupine-kv.js";
import { type FormatName, HistoryError, type HistoryOp } from "../history.js";
import { UNKNOWN } from "../model.js";
import { vectors } from "./vectors.js";

const lines = (...ls: unknown[]) => ls.map((l) => JSON.stringify(l)).join("\n");

/** The HistoryError a parse throws. */
function errorOf(parse: () => unknown): HistoryError {
  try {
    parse();
  } catch (e) {
    if (e instanceof HistoryError) return e;
    throw e;
  }
  throw new Error("the parse did not fail");
}

const brief = (op: HistoryOp) => [op.clientId, op.input.f, op.call, op.output, op.return];

describe("jsonl", () => {
  it("pairs invokes with completions and keeps call order", () => {
    const text = lines(
      { index: 0, time: 10, process: 0, type: "invoke", f: "write", key: "k", value: 1 },
      { index: 1, time: 20, process: 1, type: "invoke", f: "read", key: "k" },
      { index: 2, time: 30, process: 0, type: "ok", f: "write", key: "k", value: 1 },
      { index: 3, time: 40, process: 1, type: "ok", f: "read", key: "k", value: 1 },
      { index: 4, time: 50, process: 0, type: "invoke", f: "cas", key: "k", value: [1, 2] },
      { index: 5, time: 60, process: 0, type: "ok", f: "cas", key: "k", value: [1, 2] },
    );
    const h = parseJsonl(text, "h.jsonl");
    expect(h.format).toBe("jsonl");
    expect(h.model).toBe("cas-register");
    expect(h.ops).toEqual([
      { clientId: 0, input: { f: "write", key: "k", value: 1 }, call: 10, output: {}, return: 30 },
      { clientId: 1, input: { f: "read", key: "k" }, call: 20, output: { value: 1 }, return: 40 },
      {
        clientId: 0,
        input: { f: "cas", key: "k", from: 1, to: 2 },
        call: 50,
        output: { ok: true },
        return: 60,
      },
    ]);
  });

  it("drops fail, leaves info and unanswered calls pending forever, skips the nemesis", () => {
    const text = lines(
      { time: 1, process: 0, type: "invoke", f: "write", value: 1 },
      { time: 2, process: "nemesis", type: "info", f: "start-partition", value: { groups: [] } },
      { time: 3, process: 1, type: "invoke", f: "write", value: 2 },
      { time: 4, process: 2, type: "invoke", f: "read" },
      { time: 5, process: 0, type: "fail", f: "write", value: 1 },
      { time: 6, process: 1, type: "info", f: "write", value: 2 },
      { time: 7, process: 1, type: "invoke", f: "read" },
      { time: 8, process: 1, type: "ok", f: "read", value: null },
    );
    const h = parseJsonl(text, "h.jsonl");
    expect(h.ops.map(brief)).toEqual([
      [1, "write", 3, UNKNOWN, Infinity],
      [2, "read", 4, UNKNOWN, Infinity],
      [1, "read", 7, { value: null }, 8],
    ]);
    expect(h.ops[0]?.input).toEqual({ f: "write", key: "", value: 2 });
  });

  it("pairs events by time even when lines are out of order", () => {
    const text = lines(
      { time: 30, process: 0, type: "ok", f: "write", value: 1 },
      { time: 25, process: 1, type: "invoke", f: "read" },
      { time: 10, process: 0, type: "invoke", f: "write", value: 1 },
      { time: 40, process: 1, type: "ok", f: "read", value: 1 },
      { time: 40, process: 0, type: "invoke", f: "read" },
      { time: 45, process: 0, type: "ok", f: "read", value: 1 },
    );
    expect(parseJsonl(text, "h.jsonl").ops.map(brief)).toEqual([
      [0, "write", 10, {}, 30],
      [1, "read", 25, { value: 1 }, 40],
      [0, "read", 40, { value: 1 }, 45],
    ]);
  });

  it("uses file order (line numbers) when no line has a time, and allows blank lines", () => {
    const crlf = `${lines({ process: 0, type: "invoke", f: "read" })}\r\n`;
    expect(parseJsonl(crlf, "h.jsonl").ops).toHaveLength(1);
    const text = `${lines(
      { process: 0, type: "invoke", f: "read" },
      { process: 0, type: "ok", f: "read", value: 5 },
    )}\n\n  \n${lines({ process: 0, type: "invoke", f: "read" })}\n`;
    expect(parseJsonl(text, "h.jsonl").ops.map(brief)).toEqual([
      [0, "read", 1, { value: 5 }, 2],
      [0, "read", 5, UNKNOWN, Infinity],
    ]);
  });

  it("maps the set workload and suggests a model from the content", () => {
    const set = lines(
      { time: 1, process: 0, type: "invoke", f: "add", key: "s", value: 7 },
      { time: 2, process: 0, type: "ok", f: "add", key: "s", value: 7 },
      { time: 3, process: 0, type: "invoke", f: "read-all", key: "s" },
      { time: 4, process: 0, type: "ok", f: "read-all", key: "s", value: [7] },
    );
    const h = parseJsonl(set, "s.jsonl");
    expect(h.model).toBe("set");
    expect(h.ops.map((o) => [o.input, o.output])).toEqual([
      [{ f: "add", key: "s", value: 7 }, {}],
      [{ f: "read-all", key: "s" }, { values: [7] }],
    ]);
    const kv = lines(
      { time: 1, process: 0, type: "invoke", f: "read", key: "a" },
      { time: 2, process: 1, type: "invoke", f: "read", key: "b" },
    );
    expect(parseJsonl(kv, "kv.jsonl").model).toBe("kv");
  });

  it.each([
    [
      "a truncated last line",
      `${lines({ time: 1, process: 0, type: "invoke", f: "read" })}\n{"time":2,"proc`,
      2,
      /not valid JSON/,
    ],
    [
      "an unknown f",
      lines({ time: 1, process: 0, type: "invoke", f: "incr" }),
      1,
      /unknown f "incr"/,
    ],
    [
      "an f named like an object's own property",
      lines({ time: 1, process: 0, type: "invoke", f: "constructor" }),
      1,
      /unknown f "constructor"/,
    ],
    [
      "a type named like an object's own property",
      lines({ time: 1, process: 0, type: "toString", f: "read" }),
      1,
      /type must be/,
    ],
    ["a missing f", lines({ time: 1, process: 0, type: "invoke" }), 1, /no f/],
    ["a bad type", lines({ time: 1, process: 0, type: "start", f: "read" }), 1, /type must be/],
    [
      "a string process",
      lines({ time: 1, process: "p1", type: "invoke", f: "read" }),
      1,
      /process must be/,
    ],
    [
      "a string time",
      lines({ time: "1", process: 0, type: "invoke", f: "read" }),
      1,
      /time must be a number/,
    ],
    [
      "a cas value that is no pair",
      lines({ time: 1, process: 0, type: "invoke", f: "cas", value: [1] }),
      1,
      /\[from, to\]/,
    ],
    ["a line that is no object", "[1,2]", 1, /not a JSON object/],
  ])("rejects %s", (_, text, line, why) => {
    const e = errorOf(() => parseJsonl(text, "bad.jsonl"));
    expect(e.line).toBe(line);
    expect(e.message).toMatch(new RegExp(`^bad\\.jsonl:${line}: `));
    expect(e.message).toMatch(why);
  });

  it("rejects a return without a call", () => {
    const text = `\n${lines(
      { time: 1, process: 0, type: "invoke", f: "read" },
      { time: 2, process: 3, type: "ok", f: "read", value: 1 },
    )}`;
    const e = errorOf(() => parseJsonl(text, "h.jsonl"));
    expect(e.message).toMatch(/^h\.jsonl:3: a return without a call/);
  });

  it("rejects a second invoke while the first is open, naming both lines", () => {
    const text = lines(
      { time: 1, process: 0, type: "invoke", f: "read" },
      { time: 2, process: 1, type: "invoke", f: "read" },
      { time: 3, process: 0, type: "ok", f: "read", value: null },
      { time: 4, process: 3, type: "invoke", f: "write", value: 1 },
      { time: 5, process: 1, type: "ok", f: "read", value: null },
      { time: 6, process: 1, type: "invoke", f: "read" },
      { time: 7, process: 3, type: "invoke", f: "read" },
    );
    const e = errorOf(() => parseJsonl(text, "h.jsonl"));
    expect(e.line).toBe(7);
    expect(e.message).toBe(
      "h.jsonl:7: process 3 invoked at line 7 while its invoke at line 4 is still open",
    );
  });

  it("reports pairing errors at the right line in an out-of-order file", () => {
    const text = lines(
      { time: 5, process: 0, type: "invoke", f: "read" },
      { time: 1, process: 1, type: "invoke", f: "read" },
      { time: 9, process: 2, type: "ok", f: "read", value: 1 },
    );
    expect(errorOf(() => parseJsonl(text, "h.jsonl")).line).toBe(3);
  });

  it("rejects a completion whose f differs from its invoke's, and mixed timing", () => {
    const mismatch = lines(
      { time: 1, process: 0, type: "invoke", f: "read" },
      { time: 2, process: 0, type: "ok", f: "write", value: 1 },
    );
    expect(errorOf(() => parseJsonl(mismatch, "h.jsonl")).message).toMatch(
      /^h\.jsonl:2: .*line 1 is read/,
    );
    const mixed = lines(
      { time: 1, process: 0, type: "invoke", f: "read" },
      { process: 0, type: "ok", f: "read" },
    );
    expect(errorOf(() => parseJsonl(mixed, "h.jsonl")).line).toBe(2);
  });
});

const ETCD = [
  "INFO  jepsen.core - Running test",
  "INFO  jepsen.util - 0\t:invoke\t:read\tnil",
  "INFO  jepsen.util - 1\t:invoke\t:write\t3",
  "INFO  jepsen.util - 2   :invoke :cas    [1 2]",
  "INFO  jepsen.util - 0\t:ok\t:read\tnil",
  "INFO  jepsen.util - 2\t:fail\t:cas\t[1 2]",
  "INFO  jepsen.util - 1\t:info\t:write\t:timed-out",
  "INFO  jepsen.util - 3\t:invoke\t:read\tnil",
  "INFO  jepsen.util - 3\t:fail\t:read\t:timed-out",
  "INFO  jepsen.util - 4\t:invoke\t:cas\t[3 4]",
  "INFO  jepsen.util - 4\t:ok\t:cas\t[3 4]",
  "INFO  jepsen.util - 0\t:invoke\t:read\tnil",
  "INFO  jepsen.util - 0\t:ok\t:read\t4",
  "INFO  jepsen.util - 5\t:invoke\t:write\t0",
].join("\n");

describe("porcupine-etcd", () => {
  it("reads every line shape as Porcupine does", () => {
    const h = parsePorcupineEtcd(`${ETCD}\n`, "etcd.log");
    expect(h.model).toBe("cas-register");
    expect(h.ops.map(brief)).toEqual([
      [0, "read", 2, { value: null }, 5],
      // The timed-out write stays open to the end of the history (14 lines, so 15).
      [1, "write", 3, UNKNOWN, 15],
      [2, "cas", 4, { ok: false }, 6],
      [3, "read", 8, UNKNOWN, 9],
      [4, "cas", 10, { ok: true }, 11],
      [0, "read", 12, { value: 4 }, 13],
      [5, "write", 14, UNKNOWN, 15],
    ]);
    expect(h.ops[2]?.input).toEqual({ f: "cas", key: "", from: 1, to: 2 });
    expect(h.ops[1]?.input).toEqual({ f: "write", key: "", value: 3 });
  });

  it("ignores a failed write as Porcupine does, and reads CRLF logs", () => {
    const text = [
      "INFO  jepsen.util - 0\t:invoke\t:write\t1",
      "INFO  jepsen.util - 0\t:fail\t:write\t1",
      "INFO  jepsen.util - :nemesis\t:info\t:start\tnil",
      "INFO  jepsen.util - 1\t:invoke\t:read\tnil",
      "INFO  jepsen.util - 1\t:ok\t:read\t1",
    ].join("\r\n");
    expect(parsePorcupineEtcd(text, "e.log").ops.map(brief)).toEqual([
      [0, "write", 1, UNKNOWN, 6],
      [1, "read", 4, { value: 1 }, 5],
    ]);
  });

  it("rejects malformed events with their line", () => {
    const bad = "INFO  jepsen.util - 0\t:invoke\t:cas\t[1]";
    expect(errorOf(() => parsePorcupineEtcd(bad, "e.log")).message).toMatch(
      /^e\.log:1: a cas value/,
    );
    const orphan = "x\nINFO  jepsen.util - 0\t:ok\t:read\t1";
    expect(errorOf(() => parsePorcupineEtcd(orphan, "e.log")).message).toMatch(
      /^e\.log:2: a return without/,
    );
  });
});

describe("porcupine-kv", () => {
  it("reads get, put and append; nil reads as the empty string", () => {
    const text = [
      '{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}',
      '{:process 1, :type :invoke, :f :get, :key "0", :value nil}',
      '{:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}',
      '{:process 1, :type :ok, :f :get, :key "0", :value "x 0 0 y"}',
      '{:process 2, :type :invoke, :f :put, :key "1", :value "z"}',
      '{:process 3, :type :invoke, :f :get, :key "1", :value nil}',
      '{:process 3, :type :ok, :f :get, :key "1", :value nil}',
    ].join("\n");
    const h = parsePorcupineKv(text, "kv.txt");
    expect(h.model).toBe("kv");
    expect(h.ops.map((o) => [o.input, o.output, o.call, o.return])).toEqual([
      [{ f: "append", key: "0", value: "x 0 0 y" }, {}, 1, 3],
      [{ f: "get", key: "0" }, { value: "x 0 0 y" }, 2, 4],
      [{ f: "put", key: "1", value: "z" }, UNKNOWN, 5, 8],
      [{ f: "get", key: "1" }, { value: "" }, 6, 7],
    ]);
  });

  it("rejects bad lines with their line number", () => {
    const text = '{:process 0, :type :invoke, :f :get, :key "0"}\n{:process 0, :type :ok, :f :get';
    expect(errorOf(() => parsePorcupineKv(text, "kv.txt")).message).toMatch(
      /^kv\.txt:2: missing }/,
    );
    const f = '{:process 0, :type :invoke, :f :incr, :key "0"}';
    expect(errorOf(() => parsePorcupineKv(f, "kv.txt")).message).toMatch(/^kv\.txt:1: :f must be/);
  });
});

describe("jepsen-edn", () => {
  const knossos = `[{:process 0, :type :invoke, :f :write, :value 1}
 {:process 1, :type :invoke, :f :cas, :value [1 2]}
 {:process :nemesis, :type :info, :f :start, :value nil}
 {:process 0, :type :ok, :f :write, :value 1}
 {:process 1, :type :fail, :f :cas, :value [1 2]}
 {:process 2, :type :invoke, :f :read, :value nil}
 {:process 2, :type :ok, :f :read, :value nil}
 {:process 3, :type :invoke, :f :write, :value 4}
 {:process 3, :type :info, :f :write, :value 4}
 {:process 4, :type :invoke, :f :read, :value nil}
 {:process 4, :type :ok, :f :read, :value 1}
 {:process 5, :type :invoke, :f :cas, :value [4 5]}]`;

  it("drops :fail, keeps :info pending forever, and a nil read constrains nothing", () => {
    const h = parseJepsenEdn(knossos, "k.edn");
    expect(h.model).toBe("cas-register");
    expect(h.ops.map(brief)).toEqual([
      [0, "write", 1, {}, 4],
      [2, "read", 6, UNKNOWN, 7],
      [3, "write", 8, UNKNOWN, Infinity],
      [4, "read", 10, { value: 1 }, 11],
      [5, "cas", 12, UNKNOWN, Infinity],
    ]);
    expect(h.ops[4]?.input).toEqual({ f: "cas", key: "", from: 4, to: 5 });
  });

  it("reads one map per line too, ordered by :time", () => {
    const text = [
      "{:process 0, :type :ok, :f :read, :value 3, :time 300}",
      "{:process 0, :type :invoke, :f :read, :value nil, :time 100}",
    ].join("\n");
    expect(parseJepsenEdn(text, "k.edn").ops.map(brief)).toEqual([
      [0, "read", 100, { value: 3 }, 300],
    ]);
  });

  it("splits jepsen.independent tuples into keys", () => {
    const text = `[{:process 0, :type :invoke, :f :write, :value [7 1]}
{:process 0, :type :ok, :f :write, :value [7 1]}
{:process 1, :type :invoke, :f :cas, :value [8 [1 2]]}
{:process 1, :type :ok, :f :cas, :value [8 [1 2]]}
{:process 2, :type :invoke, :f :read, :value [7 nil]}
{:process 2, :type :ok, :f :read, :value [7 1]}]`;
    const h = parseJepsenEdn(text, "i.edn");
    expect(h.model).toBe("kv");
    expect(h.ops.map((o) => [o.input, o.output])).toEqual([
      [{ f: "write", key: "7", value: 1 }, {}],
      [{ f: "cas", key: "8", from: 1, to: 2 }, { ok: true }],
      [{ f: "read", key: "7" }, { value: 1 }],
    ]);
  });

  it("reads the set workload", () => {
    const text = `{:process 0, :type :invoke, :f :add, :value 1}
{:process 0, :type :ok, :f :add, :value 1}
{:process 1, :type :invoke, :f :read-all, :value nil}
{:process 1, :type :ok, :f :read-all, :value #{1 2}}`;
    const h = parseJepsenEdn(text, "s.edn");
    expect(h.model).toBe("set");
    expect(h.ops.map((o) => [o.input, o.output])).toEqual([
      [{ f: "add", key: "", value: 1 }, {}],
      [{ f: "read-all", key: "" }, { values: [1, 2] }],
    ]);
  });

  it("names the line where the offending map starts", () => {
    const orphan =
      "[{:process 0, :type :invoke, :f :read}\n {:process 0, :type :ok, :f :read, :value 1}\n\n {:process 9,\n  :type :ok, :f :read}]";
    expect(errorOf(() => parseJepsenEdn(orphan, "k.edn")).message).toMatch(
      /^k\.edn:4: a return without a call/,
    );
    const unknownF = "{:process 0, :type :invoke, :f :read}\n{:process 1, :type :invoke, :f :incr}";
    expect(errorOf(() => parseJepsenEdn(unknownF, "k.edn")).message).toMatch(
      /^k\.edn:2: unknown :f :incr/,
    );
    const twice = "{:process 0, :type :invoke, :f :read}\n{:process 0, :type :invoke, :f :read}";
    expect(errorOf(() => parseJepsenEdn(twice, "k.edn")).line).toBe(2);
    expect(errorOf(() => parseJepsenEdn("[{:process 0", "k.edn")).message).toMatch(
      /^k\.edn:1: missing }/,
    );
  });
});

describe("format detection", () => {
  const samples: [string, FormatName][] = [
    [lines({ time: 1, process: 0, type: "invoke", f: "read" }), "jsonl"],
    [ETCD, "porcupine-etcd"],
    ['{:process 0, :type :invoke, :f :get, :key "0", :value nil}', "porcupine-kv"],
    ["{:process 0, :type :invoke, :f :read, :value nil}", "jepsen-edn"],
    ["; a history\n[{:process 0, :type :invoke, :f :read, :value nil}]", "jepsen-edn"],
  ];
  it.each(samples)("detects %#", (text, format) => {
    expect(detectFormat(text, "h")).toBe(format);
    expect(parseHistory(text, "h", "auto").format).toBe(format);
  });

  it("gives up on text it does not know", () => {
    expect(errorOf(() => detectFormat("hello world\n", "x.txt")).message).toBe(
      "x.txt: cannot tell the format; pass --format",
    );
  });

  it("parses an empty file to an empty history in any format", () => {
    for (const format of [
      "auto",
      "jsonl",
      "porcupine-etcd",
      "porcupine-kv",
      "jepsen-edn",
    ] as const) {
      expect(parseHistory("\n  \n", "e", format)).toMatchObject({ model: "cas-register", ops: [] });
    }
  });
});

describe("Porcupine's test vectors", () => {
  const rows = vectors();

  it("lists 109 histories", () => expect(rows.length).toBe(109));

  it.each(rows)("$file parses as $format and is detected so", ({ file, path: p, format: f }) => {
    const text = readFileSync(p, "utf8");
    expect(detectFormat(text, file)).toBe(f);
    const h = parseHistory(text, file, f);
    expect(h.format).toBe(f);
    // etcd_095 is empty: its cluster never started (Porcupine skips it).
    if (text.trim() === "") expect(h.ops).toEqual([]);
    else expect(h.ops.length).toBeGreaterThan(0);
    for (let i = 1; i < h.ops.length; i++) {
      expect((h.ops[i] as HistoryOp).call).toBeGreaterThanOrEqual((h.ops[i - 1] as HistoryOp).call);
    }
  });
});
