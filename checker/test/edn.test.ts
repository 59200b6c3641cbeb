import { describe, expect, it } from "vitest";
import {
  type Edn,
  EdnError,
  EdnReader,
  lineCursor,
  locate,
  readEdn,
  readEdnAll,
} from "../formats/edn.js";
import { ednKey, ednToValue, keywordName, mapGet, showEdn } from "../formats/edn-value.js";

/** The value without the offsets, for comparisons. */
const plain = (text: string) => ednToValue(readEdn(text));

function errorOf(text: string): EdnError {
  try {
    readEdnAll(text);
  } catch (e) {
    if (e instanceof EdnError) return e;
    throw e;
  }
  throw new Error(`no error reading ${JSON.stringify(text)}`);
}

describe("EDN reader: literals", () => {
  it("reads nil, booleans and symbols", () => {
    expect(readEdn("nil").kind).toBe("nil");
    expect(readEdn("true")).toMatchObject({ kind: "boolean", value: true });
    expect(readEdn("false")).toMatchObject({ kind: "boolean", value: false });
    expect(readEdn("foo.bar/baz")).toMatchObject({ kind: "symbol", name: "foo.bar/baz" });
    expect(readEdn("+")).toMatchObject({ kind: "symbol", name: "+" });
    expect(readEdn("-")).toMatchObject({ kind: "symbol", name: "-" });
    expect(readEdn("/")).toMatchObject({ kind: "symbol", name: "/" });
    expect(readEdn("nil?")).toMatchObject({ kind: "symbol", name: "nil?" });
  });

  it("reads keywords, with and without a namespace", () => {
    expect(readEdn(":ok")).toMatchObject({ kind: "keyword", name: "ok" });
    expect(readEdn(":jepsen.x/y")).toMatchObject({ kind: "keyword", name: "jepsen.x/y" });
    expect(readEdn(":timed-out")).toMatchObject({ kind: "keyword", name: "timed-out" });
    expect(keywordName(readEdn(":read-all"))).toBe("read-all");
    expect(keywordName(readEdn('"read"'))).toBeUndefined();
  });

  it("reads integers, floats and ratios", () => {
    expect(readEdn("42")).toMatchObject({ kind: "integer", value: 42 });
    expect(readEdn("-7")).toMatchObject({ kind: "integer", value: -7 });
    expect(readEdn("+3")).toMatchObject({ kind: "integer", value: 3 });
    expect(readEdn("12N")).toMatchObject({ kind: "integer", value: 12 });
    expect(readEdn("1.5")).toMatchObject({ kind: "float", value: 1.5 });
    expect(readEdn("-2.5e3")).toMatchObject({ kind: "float", value: -2500 });
    expect(readEdn("1e-2")).toMatchObject({ kind: "float", value: 0.01 });
    expect(readEdn("3.0M")).toMatchObject({ kind: "float", value: 3 });
    expect(readEdn("##Inf")).toMatchObject({ kind: "float", value: Infinity });
    expect(readEdn("1/4")).toMatchObject({
      kind: "ratio",
      numerator: 1,
      denominator: 4,
      value: 0.25,
    });
  });

  it("reads strings with escapes", () => {
    expect(readEdn('"x 0 0 y"')).toMatchObject({ kind: "string", value: "x 0 0 y" });
    expect(readEdn('"a\\tb\\nc\\\\d\\"e\\u00e9"')).toMatchObject({
      kind: "string",
      value: 'a\tb\nc\\d"eé',
    });
    expect(readEdn('""')).toMatchObject({ kind: "string", value: "" });
    expect(readEdn('"multi\nline"')).toMatchObject({ value: "multi\nline" });
  });

  it("reads characters", () => {
    expect(readEdn("\\a")).toMatchObject({ kind: "char", value: "a" });
    expect(readEdn("\\newline")).toMatchObject({ kind: "char", value: "\n" });
    expect(readEdn("\\space")).toMatchObject({ kind: "char", value: " " });
    expect(readEdn("\\u0041")).toMatchObject({ kind: "char", value: "A" });
    expect(plain("[\\( \\)]")).toEqual(["(", ")"]);
  });

  it("reads vectors, lists, maps and sets; commas are whitespace", () => {
    expect(plain("[1 2 [3]]")).toEqual([1, 2, [3]]);
    expect(readEdn("(1 2)")).toMatchObject({ kind: "list" });
    expect(plain("(a, b,,c)")).toEqual(["a", "b", "c"]);
    expect(readEdn("#{1 2}")).toMatchObject({ kind: "set" });
    expect(plain("#{1 2}")).toEqual([1, 2]);
    expect(plain('{:a 1, "b" [2 3], :c {:d nil}}')).toEqual({ a: 1, b: [2, 3], c: { d: null } });
    expect(plain("{}")).toEqual({});
    expect(plain("[]")).toEqual([]);
  });

  it("skips comments and #_ discards", () => {
    expect(plain("; a comment\n[1 ; two\n 3]")).toEqual([1, 3]);
    expect(plain("[1 #_ 2 3]")).toEqual([1, 3]);
    expect(plain("[1 #_[2 #_ 4] 3]")).toEqual([1, 3]);
    expect(plain("#_ :gone :kept")).toBe(":kept");
  });

  it("keeps the inner value of tagged literals", () => {
    const inst = readEdn('#inst "2024-01-02T03:04:05.000-00:00"');
    expect(inst).toMatchObject({ kind: "tagged", tag: "inst" });
    expect(ednToValue(inst)).toBe("2024-01-02T03:04:05.000-00:00");
    const uuid = readEdn('#uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"');
    expect(uuid).toMatchObject({ kind: "tagged", tag: "uuid" });
    expect(plain("#my.ns/tag [1 2]")).toEqual([1, 2]);
  });

  it("reads a Jepsen op map and looks fields up by keyword", () => {
    const op = readEdn('{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}');
    expect(keywordName(mapGet(op, "type"))).toBe("invoke");
    expect(mapGet(op, "process")).toMatchObject({ kind: "integer", value: 0 });
    expect(mapGet(op, "missing")).toBeUndefined();
    expect(mapGet(readEdn("[1]"), "process")).toBeUndefined();
    expect(showEdn(op)).toBe('{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}');
  });

  it("reads several top-level values and records their offsets", () => {
    const all = readEdnAll("{:a 1}\n{:a 2}\n\n[3]");
    expect(all.map((v: Edn) => v.kind)).toEqual(["map", "map", "vector"]);
    expect(all.map((v) => ("at" in v ? v.at : undefined))).toEqual([0, 7, 15]);
    const [k1, k2] = readEdnAll(":type :type");
    expect(k1).toBe(k2);
    const reader = new EdnReader("1 2");
    expect(reader.next()).toMatchObject({ value: 1 });
    expect(reader.next()).toMatchObject({ value: 2 });
    expect(reader.next()).toBeUndefined();
    expect(readEdnAll("  ; nothing\n")).toEqual([]);
  });

  it("turns keys into strings", () => {
    expect(ednKey(readEdn('"k1"'))).toBe("k1");
    expect(ednKey(readEdn("3"))).toBe("3");
    expect(ednKey(readEdn(":k"))).toBe("k");
  });
});

describe("EDN reader: errors", () => {
  it("names the offset, line and column", () => {
    const e = errorOf("[1 2\n 3 }");
    expect(e.offset).toBe(8);
    expect(e.line).toBe(2);
    expect(e.column).toBe(4);
    expect(e.message).toContain("line 2, column 4");
    expect(locate("ab\ncd", 4)).toEqual({ line: 2, column: 2 });
    const lineOf = lineCursor("a\nb\n\nc");
    expect([0, 2, 3, 4, 5].map(lineOf)).toEqual([1, 2, 2, 3, 4]);
  });

  it.each([
    ["[1 2", "missing ]"],
    ["(1", "missing )"],
    ["{:a 1", "missing }"],
    ["#{1", "missing }"],
    ['"abc', "unterminated string"],
    ['"a\\qb"', "unknown escape"],
    ["{:a}", "even number"],
    [")", "unexpected )"],
    ["1.2.3", "invalid number"],
    ["12abc", "invalid number"],
    ["1/0", "division by zero"],
    [":", "invalid keyword"],
    ["::a", "invalid keyword"],
    ["\\foo", "unknown character"],
    ["#_", "nothing to discard"],
    ["#inst", "with no value"],
    ["#1 x", "invalid tag"],
    ["##Foo", "unknown symbolic value"],
  ])("rejects %j", (text, why) => {
    expect(errorOf(text).reason).toContain(why);
  });

  it("readEdn wants exactly one value", () => {
    expect(() => readEdn("1 2")).toThrow(/more than one value/);
    expect(() => readEdn("   ")).toThrow(/no value/);
  });
});
