import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { vectors } from "../../checker/test/vectors.js";
import { runCli } from "./run-cli.js";

const dir = mkdtempSync(path.join(tmpdir(), "paxos-check-"));
const file = (name: string, lines: string[]) => {
  const p = path.join(dir, name);
  writeFileSync(p, `${lines.join("\n")}\n`);
  return p;
};
const ev = (o: Record<string, unknown>) => JSON.stringify(o);

describe("paxos-harness check", () => {
  it("gives every Porcupine vector its expected verdict, one JSON line per file", () => {
    const all = vectors();
    const r = runCli(["check", "--json", ...all.map((v) => v.path)]);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(all.length);
    all.forEach((v, i) => {
      expect(lines[i].file).toBe(v.path);
      expect(lines[i].result).toBe(v.expected);
      // Every invoke is an operation (etcd_095.log is empty: 0).
      const invokes = readFileSync(v.path, "utf8").match(/:invoke/g)?.length ?? 0;
      expect(lines[i].ops).toBe(invokes);
      expect(typeof lines[i].ms).toBe("number");
    });
    expect(r.code).toBe(1); // the worst verdict: some are illegal
  });

  it("exits 0 on a linearizable history and prints a summary", () => {
    const ok = vectors().find((v) => v.expected === "ok" && v.format === "porcupine-etcd")!;
    const r = runCli(["check", ok.path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(": ok (");
  });

  it("names the key of a kv violation", () => {
    const h = file("kv-bad.jsonl", [
      ev({ time: 1, process: 0, type: "invoke", f: "write", key: "k1", value: 1 }),
      ev({ time: 2, process: 0, type: "ok", f: "write", key: "k1", value: 1 }),
      ev({ time: 3, process: 1, type: "invoke", f: "read", key: "k2", value: null }),
      ev({ time: 4, process: 1, type: "ok", f: "read", key: "k2", value: null }),
      ev({ time: 5, process: 1, type: "invoke", f: "read", key: "k1", value: null }),
      ev({ time: 6, process: 1, type: "ok", f: "read", key: "k1", value: 7 }),
    ]);
    const r = runCli(["check", h]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("illegal keys: k1 (of 2)");
  });

  it("names every illegal key and writes each one's witness, which check finds illegal", () => {
    const c10 = vectors().find((v) => v.file === "kv/c10-bad.txt")!;
    const out = mkdtempSync(path.join(dir, "witness-"));
    const r = runCli(["check", "--witness", "--witness-dir", out, c10.path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("illegal keys: 0, 1, 9, 6, 3, 5, 2, 7 (of 10)");
    const written = [...r.stdout.matchAll(/written to (\S+) \(check finds it illegal\)/g)].map(
      (m) => m[1] as string,
    );
    expect(written).toHaveLength(8);
    for (const w of written) expect(runCli(["check", w]).code).toBe(1);
    expect(r.stdout).toMatch(/witness of key 7: 2 operations of 33/);
    expect(r.stdout).toContain("appends are never lost");
    const json = runCli(["check", "--json", "--witness", "--witness-dir", out, c10.path]);
    const line = JSON.parse(json.stdout);
    expect(line).toMatchObject({ result: "illegal", partitions: 10, unknown_keys: [] });
    expect(line.illegal_keys).toEqual(["0", "1", "9", "6", "3", "5", "2", "7"]);
    expect(line.witnesses).toHaveLength(8);
    for (const w of line.witnesses) {
      expect(w.illegal).toBe(true);
      expect(w.minimal).toBe(true);
      expect(w.ms).toBeLessThan(10_000);
    }
    console.log(
      `c10-bad witnesses via the CLI: ${line.witnesses.map((w: { key: string; ops: number; ms: number }) => `${w.key}: ${w.ops} ops ${w.ms} ms`).join(", ")}`,
    );
  });

  it("a broken file: one line naming the file and line, exit 3, and the other files still checked", () => {
    const good = vectors().find((v) => v.expected === "ok")!;
    const bad = file("truncated.jsonl", [
      ev({ time: 1, process: 0, type: "invoke", f: "read", value: null }),
      '{"time":2,"process":0,"type":"ok","f":"re',
    ]);
    const r = runCli(["check", "--json", bad, good.path]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`${bad}:2`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.result)).toEqual(["error", "ok"]);
  });

  it.each([
    ["an unknown f", ev({ time: 1, process: 0, type: "invoke", f: "frobnicate" }), /frobnicate/],
    ["a wrong type", ev({ time: "soon", process: 0, type: "invoke", f: "read" }), /time/],
  ])("rejects %s with exit 3", (_name, line, pattern) => {
    const r = runCli(["check", file(`bad-${_name.replace(/ /g, "-")}.jsonl`, [line])]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).toMatch(/:1: /);
  });

  it("a missing file, an unknown flag and a bad model are errors with exit 3", () => {
    const missing = runCli(["check", path.join(dir, "nope.jsonl")]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("nope.jsonl");
    const flag = runCli(["check", "--frobnicate", "x"]);
    expect(flag.code).toBe(3);
    expect(flag.stderr).toContain("--frobnicate");
    const model = runCli(["check", "--model", "queue", "x"]);
    expect(model.code).toBe(3);
    expect(model.stderr).toContain("queue");
  });

  it("a set history with a phantom element is illegal; --model and --initial apply", () => {
    const set = file("set.jsonl", [
      ev({ time: 1, process: 0, type: "invoke", f: "add", value: 1 }),
      ev({ time: 2, process: 0, type: "ok", f: "add", value: 1 }),
      ev({ time: 3, process: 1, type: "invoke", f: "read-all", value: null }),
      ev({ time: 4, process: 1, type: "ok", f: "read-all", value: [1, 99] }),
    ]);
    expect(runCli(["check", set]).code).toBe(1);
    const reg = file("initial.jsonl", [
      ev({ time: 1, process: 0, type: "invoke", f: "read", value: null }),
      ev({ time: 2, process: 0, type: "ok", f: "read", value: 5 }),
    ]);
    expect(runCli(["check", reg]).code).toBe(1);
    expect(runCli(["check", "--model", "register", "--initial", "5", reg]).code).toBe(0);
    expect(runCli(["check", "--model", "set", reg]).code).toBe(3);
  });

  it("--timeout gives unknown, exit 2", () => {
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      lines.push(ev({ time: 0, process: i, type: "invoke", f: "write", value: i }));
      lines.push(ev({ time: 1, process: 100 + i, type: "invoke", f: "read", value: null }));
    }
    for (let i = 0; i < 40; i++) {
      lines.push(ev({ time: 100, process: i, type: "ok", f: "write", value: i }));
      lines.push(ev({ time: 100, process: 100 + i, type: "ok", f: "read", value: 1000 + i }));
    }
    const r = runCli(["check", "--timeout", "0.3", "--json", file("hard.jsonl", lines)]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).result).toBe("unknown");
  });

  it("--visualize writes a self-contained page", () => {
    const bad = vectors().find((v) => v.expected === "illegal")!;
    const out = path.join(dir, "viz.html");
    const r = runCli(["check", "--visualize", out, bad.path]);
    expect(r.code).toBe(1);
    const html = readFileSync(out, "utf8");
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).not.toMatch(/<script[^>]+src=|<link /i);
  });
});

describe("paxos-harness check: bad input (issue 13)", () => {
  const good = [
    ev({ process: 0, type: "invoke", f: "write", value: 1 }),
    ev({ process: 0, type: "ok", f: "write", value: 1 }),
    ev({ process: 1, type: "invoke", f: "read", value: null }),
    ev({ process: 1, type: "ok", f: "read", value: 1 }),
  ];

  it("a UTF-8 byte order mark is stripped: the file checks as without it", () => {
    const p = path.join(dir, "bom.jsonl");
    writeFileSync(p, `\uFEFF${good.join("\n")}\n`);
    const r = runCli(["check", p]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${p}: ok (2 ops, 1 partition,`);
  });

  it("--json: a file that fails to parse gets a line with result error and the reason", () => {
    const broken = file("broken-json.jsonl", [good[0] as string, "{not json"]);
    const ok = file("fine.jsonl", good);
    const r = runCli(["check", "--json", broken, ok]);
    expect(r.code).toBe(3);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ file: broken, result: "error", line: 2 });
    expect(lines[0].error).toMatch(/JSON/i);
    expect(lines[1]).toMatchObject({ file: ok, result: "ok", ops: 2 });
  });

  it("an empty file keeps its verdict (ok) but says it holds 0 operations", () => {
    const p = path.join(dir, "empty.jsonl");
    writeFileSync(p, "");
    const r = runCli(["check", p]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("the file holds 0 operations: nothing was checked");
  });

  it("--visualize into a missing folder: one line naming the flag and the path, exit 3", () => {
    const ok = file("vis.jsonl", good);
    const out = path.join(dir, "no-such-folder", "out.html");
    const r = runCli(["check", "--visualize", out, ok]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toEqual([
      `paxos-harness: --visualize ${out}: the folder ${path.dirname(out)} does not exist (ENOENT)`,
    ]);
    expect(r.stderr).not.toContain("internal error");
  });

  it("--visualize says where it wrote", () => {
    const ok = file("vis2.jsonl", good);
    const out = path.join(dir, "vis2.html");
    const r = runCli(["check", "--json", "--visualize", out, ok]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`visualization of ${ok}: ${out}`);
    // stdout stays one JSON line per file.
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ result: "ok" });
    expect(readFileSync(out, "utf8")).toContain("<html");
  });

  it("--timeout past its bound (Node's timers overflow at 2^31-1 ms) is refused, naming it", () => {
    const ok = file("t.jsonl", good);
    const r = runCli(["check", "--timeout", "1e9", ok]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("--timeout: 1e9 is more than 86400 seconds");
  });
});
