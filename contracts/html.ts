// What every HTML page of ours is made with (the checker's visualization, a run's report, a
// suite's index, the store browser): the head, text escaped, and JSON data blocks.

/**
 * A page's opening lines up to `</head>`: doctype, language, charset, viewport, the title, then
 * `head` (its `<style>` or `<link>` elements) as given.
 */
export function htmlHead(title: string, head: readonly string[]): string[] {
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    ...head,
    "</head>",
  ];
}

/**
 * A `<script type="application/json">` block. Every `<` is written `\u003c` (the same JSON), so
 * no key or value can close the element (`</script>`) or open a comment (`<!--`) in it; U+2028
 * and U+2029 are escaped too, for readers that take the block as JavaScript.
 */
export function jsonBlock(id: string, value: unknown): string {
  const json = JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
  return `<script type="application/json" id="${escapeHtml(id)}">${json}</script>`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
