// A small EDN reader (https://github.com/edn-format/edn): enough of the language for Jepsen,
// Knossos and Porcupine histories, strict enough that a malformed file is reported, not guessed.

/**
 * One EDN value. Collections and tagged values carry `at`, the character offset where their text
 * starts (to name the line of an op map); scalars do not, so that keywords, nil and booleans can
 * be shared: a history is mostly keywords, and a node apiece for them was most of the GC work.
 */
export type Edn =
  | { kind: "nil" }
  | { kind: "boolean"; value: boolean }
  | { kind: "integer"; value: number }
  | { kind: "float"; value: number }
  | { kind: "ratio"; numerator: number; denominator: number; value: number }
  | { kind: "string"; value: string }
  | { kind: "char"; value: string }
  /** `name` without the colon, with its namespace if any: `jepsen.x/y`. */
  | { kind: "keyword"; name: string }
  | { kind: "symbol"; name: string }
  | { kind: "vector"; items: Edn[]; at: number }
  | { kind: "list"; items: Edn[]; at: number }
  | { kind: "set"; items: Edn[]; at: number }
  | { kind: "map"; entries: [Edn, Edn][]; at: number }
  /** `#inst "..."`, `#uuid "..."` and any other tag: the inner value is kept uninterpreted. */
  | { kind: "tagged"; tag: string; value: Edn; at: number };

export class EdnError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} (line ${line}, column ${column})`);
    this.name = "EdnError";
  }
}

/** 1-based line and column of a character offset. */
export function locate(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** Line numbers of offsets given in increasing order, in one pass over the text. */
export function lineCursor(text: string): (offset: number) => number {
  let line = 1;
  let next = text.indexOf("\n");
  return (offset) => {
    while (next !== -1 && next < offset) {
      line++;
      next = text.indexOf("\n", next + 1);
    }
    return line;
  };
}

const CLOSERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
const NAMED_CHARS: Record<string, string> = {
  newline: "\n",
  space: " ",
  tab: "\t",
  return: "\r",
  formfeed: "\f",
  backspace: "\b",
};
const STRING_ESCAPES: Record<string, string> = {
  t: "\t",
  r: "\r",
  n: "\n",
  b: "\b",
  f: "\f",
  "\\": "\\",
  '"': '"',
};
const INTEGER = /^[+-]?\d+N?$/;
const FLOAT = /^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?M?$/;
const RATIO = /^([+-]?\d+)\/(\d+)$/;

// Character classes by code, for the hot loops (charAt and string searches cost more).
const SPACE = 1;
const DELIMITER = 2;
const CLASS = new Uint8Array(128);
for (const c of " ,\n\t\r\f") CLASS[c.charCodeAt(0)] = SPACE | DELIMITER;
for (const c of '()[]{}";') CLASS[c.charCodeAt(0)] = DELIMITER;

function isWhitespace(code: number): boolean {
  return code < 128 && ((CLASS[code] ?? 0) & SPACE) !== 0;
}

function isDelimiter(code: number): boolean {
  return code < 128 && ((CLASS[code] ?? 0) & DELIMITER) !== 0;
}

const NIL: Edn = Object.freeze({ kind: "nil" });
const TRUE: Edn = Object.freeze({ kind: "boolean", value: true });
const FALSE: Edn = Object.freeze({ kind: "boolean", value: false });

/** Reads EDN values one after another from a text. */
export class EdnReader {
  pos = 0;
  private readonly keywords = new Map<string, Edn>();

  constructor(readonly text: string) {}

  /** Where the value last returned by `next` starts. */
  start = 0;

  /** The next top-level value, or undefined at the end of the text. */
  next(): Edn | undefined {
    this.skipSpace();
    this.start = this.pos;
    return this.pos < this.text.length ? this.read() : undefined;
  }

  fail(reason: string, at: number = this.pos): never {
    const { line, column } = locate(this.text, at);
    throw new EdnError(reason, at, line, column);
  }

  private skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charAt(this.pos);
      if (isWhitespace(t.charCodeAt(this.pos))) this.pos++;
      else if (c === ";") {
        const nl = t.indexOf("\n", this.pos);
        this.pos = nl === -1 ? t.length : nl + 1;
      } else if (c === "#" && t.charAt(this.pos + 1) === "_") {
        const at = this.pos;
        this.pos += 2;
        this.skipSpace();
        if (this.pos >= t.length) this.fail("#_ with nothing to discard", at);
        this.read();
      } else return;
    }
  }

  private read(): Edn {
    this.skipSpace();
    const t = this.text;
    const at = this.pos;
    if (at >= t.length) this.fail("unexpected end of input");
    const c = t.charAt(at);
    const closer = CLOSERS[c];
    if (closer !== undefined) {
      this.pos++;
      const items = this.readUntil(closer, at);
      if (c === "(") return { kind: "list", items, at };
      if (c === "[") return { kind: "vector", items, at };
      if (items.length % 2 !== 0) this.fail("a map needs an even number of forms", at);
      const entries: [Edn, Edn][] = [];
      for (let i = 0; i < items.length; i += 2) {
        entries.push([items[i] as Edn, items[i + 1] as Edn]);
      }
      return { kind: "map", entries, at };
    }
    if (c === ")" || c === "]" || c === "}") this.fail(`unexpected ${c}`);
    if (c === '"') return this.readString();
    if (c === "\\") return this.readChar();
    if (c === "#") return this.readDispatch();
    return this.readAtom();
  }

  private readUntil(closer: string, openAt: number): Edn[] {
    const items: Edn[] = [];
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.text.length) {
        const { line, column } = locate(this.text, openAt);
        this.fail(`missing ${closer} for the one opened at line ${line}, column ${column}`);
      }
      if (this.text.charAt(this.pos) === closer) {
        this.pos++;
        return items;
      }
      items.push(this.read());
    }
  }

  private readToken(): string {
    const t = this.text;
    const start = this.pos;
    while (this.pos < t.length && !isDelimiter(t.charCodeAt(this.pos))) this.pos++;
    return t.slice(start, this.pos);
  }

  private readString(): Edn {
    const t = this.text;
    const at = this.pos;
    let out = "";
    let chunk = ++this.pos;
    for (;;) {
      if (this.pos >= t.length) this.fail("unterminated string", at);
      const c = t.charAt(this.pos);
      if (c === '"') break;
      if (c !== "\\") {
        this.pos++;
        continue;
      }
      out += t.slice(chunk, this.pos);
      const e = t.charAt(this.pos + 1);
      const simple = STRING_ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        this.pos += 2;
      } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(t.slice(this.pos + 2, this.pos + 6))) {
        out += String.fromCharCode(Number.parseInt(t.slice(this.pos + 2, this.pos + 6), 16));
        this.pos += 6;
      } else this.fail(`unknown escape \\${e} in a string`);
      chunk = this.pos;
    }
    out += t.slice(chunk, this.pos);
    this.pos++;
    return { kind: "string", value: out };
  }

  private readChar(): Edn {
    const at = this.pos++;
    if (this.pos >= this.text.length) this.fail("a backslash with no character", at);
    // A delimiter right after the backslash, as in `\(` or `\,`, is the character itself.
    let token = this.readToken();
    if (token === "") token = this.text.charAt(this.pos++);
    const named = NAMED_CHARS[token];
    if (named !== undefined) return { kind: "char", value: named };
    if (token.length === 1) return { kind: "char", value: token };
    if (/^u[0-9a-fA-F]{4}$/.test(token)) {
      return { kind: "char", value: String.fromCharCode(Number.parseInt(token.slice(1), 16)) };
    }
    return this.fail(`unknown character \\${token}`, at);
  }

  private readDispatch(): Edn {
    const at = this.pos;
    const next = this.text.charAt(at + 1);
    if (next === "{") {
      this.pos += 2;
      return { kind: "set", items: this.readUntil("}", at), at };
    }
    if (next === "#") {
      this.pos += 2;
      const token = this.readToken();
      const special: Record<string, number> = { Inf: Infinity, "-Inf": -Infinity, NaN: Number.NaN };
      const value = special[token];
      if (value === undefined) this.fail(`unknown symbolic value ##${token}`, at);
      return { kind: "float", value };
    }
    this.pos++;
    const tag = this.readToken();
    if (!/^[a-zA-Z]/.test(tag)) this.fail(`invalid tag #${tag}`, at);
    this.skipSpace();
    if (this.pos >= this.text.length) this.fail(`#${tag} with no value`, at);
    return { kind: "tagged", tag, value: this.read(), at };
  }

  private readAtom(): Edn {
    const at = this.pos;
    const token = this.readToken();
    if (token === "") this.fail(`unexpected ${this.text.charAt(at)}`, at);
    const c0 = token.charAt(0);
    const c1 = token.charAt(1);
    if (/\d/.test(c0) || ((c0 === "+" || c0 === "-") && /\d/.test(c1))) {
      return this.number(token, at);
    }
    if (c0 === ":") {
      const name = token.slice(1);
      if (name === "" || name.startsWith(":") || name.endsWith("/")) {
        this.fail(`invalid keyword ${token}`, at);
      }
      return this.keyword(name);
    }
    if (token === "nil") return NIL;
    if (token === "true") return TRUE;
    if (token === "false") return FALSE;
    if (c0 === "#" || (token.endsWith("/") && token !== "/"))
      this.fail(`invalid symbol ${token}`, at);
    return { kind: "symbol", name: token };
  }

  private keyword(name: string): Edn {
    let k = this.keywords.get(name);
    if (k === undefined) {
      k = Object.freeze({ kind: "keyword", name });
      this.keywords.set(name, k);
    }
    return k;
  }

  private number(token: string, at: number): Edn {
    if (INTEGER.test(token)) {
      return { kind: "integer", value: Number(token.replace("N", "")) };
    }
    if (FLOAT.test(token)) return { kind: "float", value: Number(token.replace("M", "")) };
    const ratio = RATIO.exec(token);
    if (ratio !== null) {
      const numerator = Number(ratio[1]);
      const denominator = Number(ratio[2]);
      if (denominator === 0) this.fail(`division by zero in ${token}`, at);
      return { kind: "ratio", numerator, denominator, value: numerator / denominator };
    }
    return this.fail(`invalid number ${token}`, at);
  }
}

/** Exactly one value: anything but whitespace and comments after it is an error. */
export function readEdn(text: string): Edn {
  const reader = new EdnReader(text);
  const value = reader.next();
  if (value === undefined) return reader.fail("no value");
  if (reader.next() !== undefined) reader.fail("more than one value", reader.pos);
  return value;
}

/** Every top-level value of a text, in order. */
export function readEdnAll(text: string): Edn[] {
  const reader = new EdnReader(text);
  const values: Edn[] = [];
  for (let v = reader.next(); v !== undefined; v = reader.next()) values.push(v);
  return values;
}
