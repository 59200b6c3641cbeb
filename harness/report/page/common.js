// What the report's scripts share (inlined first): the namespace they register into, DOM
// helpers that only ever set text (nothing from the run is parsed as HTML), number formats, the
// colours of outcomes and faults, and the one tooltip.

// biome-ignore lint/suspicious/noRedundantUseStrict: a classic script (inlined), not a module
"use strict";
(() => {
  const R = {};
  window.paxosReport = R;

  R.data = (id) => {
    const block = document.getElementById(id);
    return block ? JSON.parse(block.textContent) : undefined;
  };

  /** An element with a class and text; children may follow (strings become text nodes). */
  R.el = (tag, cls, ...children) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    for (const c of children) {
      if (c === undefined || c === null) continue;
      e.appendChild(
        typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c,
      );
    }
    return e;
  };

  R.plural = (n, word, many) =>
    `${n.toLocaleString("en-US")} ${n === 1 ? word : many || `${word}s`}`;
  R.count = (n) => n.toLocaleString("en-US");
  /** Seconds with as many decimals as a span of `span` seconds needs. */
  R.seconds = (s, span) => {
    const digits =
      span === undefined ? 2 : Math.min(6, Math.max(0, Math.ceil(-Math.log10(span / 100))));
    return `${s.toFixed(digits)} s`;
  };
  R.ms = (x) =>
    x >= 1000
      ? `${Number((x / 1000).toPrecision(3))} s`
      : x >= 100
        ? `${Math.round(x)} ms`
        : `${Number(x.toPrecision(3))} ms`;

  R.OUTCOME_COLOURS = { ok: "#2f7fd0", fail: "#d6336c", info: "#e8950c", none: "#8c959f" };
  R.OUTCOME_TEXT = {
    ok: "ok: it happened",
    fail: "fail: it definitely did not happen",
    info: "info: no answer, it may or may not have happened",
    none: "no completion recorded",
  };
  const FAULT_COLOURS = {
    partition: "225, 87, 89",
    kill: "118, 68, 138",
    pause: "89, 161, 79",
    clock: "242, 142, 43",
    loss: "78, 121, 167",
    delay: "176, 122, 161",
    power: "156, 117, 95",
  };
  R.faultColour = (kind, alpha) => `rgba(${FAULT_COLOURS[kind] || "120, 120, 120"}, ${alpha})`;
  /** Kinds in a fixed order, so each kind's labels keep their own line on every plot. */
  R.faultRow = (kind) => {
    const kinds = Object.keys(FAULT_COLOURS);
    const i = kinds.indexOf(kind);
    return i < 0 ? kinds.length : i;
  };

  const tip = document.getElementById("tip");
  /** Shows the tooltip near the pointer, with one paragraph per line. */
  R.showTip = (event, lines) => {
    tip.textContent = "";
    for (const line of lines) tip.appendChild(R.el("p", null, line));
    tip.hidden = false;
    const w = tip.offsetWidth;
    const h = tip.offsetHeight;
    let x = event.clientX + 14;
    let y = event.clientY + 16;
    if (x + w > window.innerWidth - 4) x = Math.max(4, event.clientX - w - 14);
    if (y + h > window.innerHeight - 4) y = Math.max(4, event.clientY - h - 12);
    tip.style.left = `${x}px`;
    tip.style.top = `${y}px`;
  };
  R.hideTip = () => {
    tip.hidden = true;
  };

  /** A section with a heading and an optional note under it. */
  R.section = (id, title, note) => {
    const s = R.el("section", "card");
    s.id = id;
    s.appendChild(R.el("h2", null, title));
    if (note) s.appendChild(R.el("p", "note", note));
    return s;
  };
})();
