// A strict little XML reader for the tests (no XML parser is a dependency): elements,
// attributes, text, character and the five named entity references, an XML declaration. It
// throws on what a conforming parser refuses that our writers could produce: a tag left open
// or closed out of order, a raw `<` or a stray `&` in text or an attribute, an attribute
// without quotes or twice, a character XML cannot hold, text outside the root.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (its children's not included), entities resolved. */
  text: string;
}

const NAME = "[A-Za-z_][A-Za-z0-9._:-]*";
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

export function parseXml(xml: string): XmlElement {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding what XML cannot hold
  const bad = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.exec(xml);
  if (bad) throw new Error(`a character XML cannot hold at ${bad.index}`);
  let rest = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (rest.length > 0) {
    if (rest.startsWith("</")) {
      const m = new RegExp(`^</(${NAME})\\s*>`).exec(rest);
      const open = stack.pop();
      if (!m || !open || open.name !== m[1])
        throw new Error(`bad closing tag at: ${rest.slice(0, 40)}`);
      rest = rest.slice(m[0].length);
    } else if (rest.startsWith("<")) {
      const m = new RegExp(`^<(${NAME})((?:\\s+${NAME}\\s*=\\s*"[^"<]*")*)\\s*(/?)>`).exec(rest);
      if (!m) throw new Error(`bad tag at: ${rest.slice(0, 60)}`);
      const element: XmlElement = { name: m[1] as string, attrs: {}, children: [], text: "" };
      for (const a of (m[2] ?? "").matchAll(new RegExp(`(${NAME})\\s*=\\s*"([^"<]*)"`, "g"))) {
        const key = a[1] as string;
        if (key in element.attrs) throw new Error(`attribute ${key} twice`);
        element.attrs[key] = resolveEntities(a[2] as string);
      }
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(element);
      else if (root) throw new Error("a second root element");
      else root = element;
      if (m[3] !== "/") stack.push(element);
      rest = rest.slice(m[0].length);
    } else {
      const end = rest.indexOf("<");
      const text = end < 0 ? rest : rest.slice(0, end);
      const parent = stack[stack.length - 1];
      if (!parent && text.trim() !== "")
        throw new Error(`text outside the root: ${text.slice(0, 40)}`);
      if (parent) parent.text += resolveEntities(text);
      rest = end < 0 ? "" : rest.slice(end);
    }
  }
  if (stack.length > 0) throw new Error(`left open: ${stack.map((e) => e.name).join(" > ")}`);
  if (!root) throw new Error("no root element");
  return root;
}

/** Every element of this name under (and including) `root`, in document order. */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  const found = root.name === name ? [root] : [];
  for (const c of root.children) found.push(...findAll(c, name));
  return found;
}

function resolveEntities(s: string): string {
  return s.replace(/&([^;&\s]*);|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw new Error(`a stray & in: ${s.slice(0, 60)}`);
    if (ref in ENTITIES) return ENTITIES[ref] as string;
    const num = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(ref);
    if (!num) throw new Error(`an unknown entity ${whole}`);
    const code = num[1]?.startsWith("x") ? Number.parseInt(num[1].slice(1), 16) : Number(num[1]);
    return String.fromCodePoint(code);
  });
}
