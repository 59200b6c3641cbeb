// An invalid run's section: for each failing key shown, why no order fits (the witness in
// words), the minimal witness drawn (a row per process, each operation a box from invoke to
// completion), and the checker's own visualization of the failing keys in a frame (its page,
// from a JSON block, as the frame's srcdoc: nothing is fetched).

// biome-ignore lint/suspicious/noRedundantUseStrict: a classic script (inlined), not a module
"use strict";
(() => {
  const R = window.paxosReport;

  const SLOT_GAP = 14;
  const TEXT_PAD = 18;
  const OPEN_EXTRA = 60;
  const measure = document.createElement("canvas").getContext("2d");
  const textWidth = (text) => {
    if (!measure) return text.length * 7.5;
    measure.font = "12px ui-monospace, SFMono-Regular, Menlo, monospace";
    return measure.measureText(text).width;
  };

  /**
   * The witness's operations, a row per process, on compressed time (as the checker's page
   * draws them): the distinct invoke and completion times become slots, left to right, each
   * far enough from the one before for the text of every operation that ends in it. The real
   * times are in the words below and in each box's title.
   */
  function witnessDrawing(w) {
    const ops = w.ops;
    const times = [
      ...new Set(ops.flatMap((o) => (o.ret === null ? [o.call] : [o.call, o.ret]))),
    ].sort((a, b) => a - b);
    const slot = new Map(times.map((t, i) => [t, i]));
    const X = new Array(times.length).fill(0);
    for (let s = 1; s < times.length; s++) {
      let x = X[s - 1] + SLOT_GAP;
      for (const o of ops) {
        if (o.ret !== null && slot.get(o.ret) === s)
          x = Math.max(x, X[slot.get(o.call)] + textWidth(o.text) + TEXT_PAD);
      }
      X[s] = x;
    }
    let width = X[X.length - 1] + SLOT_GAP;
    for (const o of ops)
      if (o.ret === null)
        width = Math.max(width, X[slot.get(o.call)] + textWidth(o.text) + TEXT_PAD + OPEN_EXTRA);
    const processes = [...new Set(ops.map((o) => o.process))].sort((a, b) => a - b);
    const box = R.el("div", "witness witness-box");
    box.dataset.ops = String(ops.length);
    const labels = R.el("div", "w-labels");
    const scroll = R.el("div", "w-scroll");
    const lanes = R.el("div", "w-lanes");
    lanes.style.width = `${Math.ceil(width)}px`;
    for (const p of processes) {
      const mine = ops.filter((o) => o.process === p);
      const nodes = [...new Set(mine.map((o) => o.node).filter((n) => n))];
      labels.appendChild(
        R.el("div", "w-label", `p${p}${nodes.length ? ` → ${nodes.join(", ")}` : ""}`),
      );
      const lane = R.el("div", "w-lane");
      for (const o of mine) {
        const b = R.el(
          "div",
          `w-op${o.ret === null ? " open" : ""}${o.unknown ? " unknown" : ""}`,
          o.text,
        );
        const left = X[slot.get(o.call)];
        const right =
          o.ret === null
            ? width
            : Math.max(X[slot.get(o.ret)], left + textWidth(o.text) + TEXT_PAD);
        b.style.left = `${left.toFixed(1)}px`;
        b.style.width = `${(right - left).toFixed(1)}px`;
        b.title = `${o.text}: ${R.seconds(o.call, 0.1)} to ${o.ret === null ? "no answer" : R.seconds(o.ret, 0.1)}`;
        lane.appendChild(b);
      }
      lanes.appendChild(lane);
    }
    scroll.appendChild(lanes);
    box.append(labels, scroll);
    return box;
  }

  function keySection(k) {
    const s = R.el("div", "key-violation");
    s.dataset.key = k.key;
    s.appendChild(
      R.el(
        "h3",
        null,
        "key ",
        R.el("code", null, k.key === "" ? "(the register)" : k.key),
        `: ${R.plural(k.ops, "operation")}`,
      ),
    );
    const reason = k.words[k.words.length - 1];
    s.appendChild(R.el("p", "reason", reason));
    if (k.witness) {
      const w = k.witness;
      s.appendChild(
        R.el(
          "p",
          "note",
          `The minimal witness: ${R.plural(w.ops.length, "operation")} of the key's ${R.count(k.ops)} that are still not linearizable` +
            `${w.minimal ? " (without any one of them they are)" : ""}; found in ${w.ms} ms, ${R.plural(w.checks, "search", "searches")}.`,
        ),
      );
      s.appendChild(witnessDrawing(w));
      const list = R.el("ol", "words");
      for (const line of k.words.slice(0, -1)) list.appendChild(R.el("li", null, line));
      s.appendChild(list);
    }
    return s;
  }

  R.drawViolation = (root, run, v, visualization) => {
    const keys = v.keys;
    const section = R.section(
      "violation",
      "The violation",
      keys.length > 0
        ? `Not linearizable: ${R.plural(keys.length, "key")} (${keys.slice(0, 20).join(", ")}${keys.length > 20 ? ", ..." : ""}) of ${R.count(run.results.checker.partitions)}.`
        : "Not linearizable.",
    );
    for (const note of v.notes) section.appendChild(R.el("p", "note", note));
    for (const k of v.shown) section.appendChild(keySection(k));
    if (v.illegal > v.shown.length) {
      section.appendChild(
        R.el("p", "note", `${v.illegal - v.shown.length} more illegal keys are not drawn here.`),
      );
    }
    if (v.visualizationFile) {
      const head = R.el(
        "h3",
        null,
        "The checker's visualization of the failing ",
        v.shown.length === 1 ? "key" : "keys",
      );
      section.appendChild(head);
      const link = R.el("a", null, v.visualizationFile);
      link.href = v.visualizationFile;
      section.appendChild(
        R.el(
          "p",
          "note",
          "The longest partial linearization and the operations that could not come next; also on its own page: ",
          link,
          ".",
        ),
      );
      if (visualization !== undefined) {
        const frame = R.el("iframe", "visualization");
        frame.title = "the checker's visualization of the failing keys";
        frame.addEventListener("load", () => {
          try {
            const h = frame.contentDocument.documentElement.scrollHeight;
            frame.style.height = `${Math.min(900, Math.max(240, h + 8))}px`;
          } catch (_e) {
            // A browser that keeps the frame's document from us: it keeps its default height.
          }
        });
        frame.srcdoc = visualization;
        section.appendChild(frame);
      }
    }
    root.appendChild(section);
  };

  /** The first sentence a reader needs: the first key's reason. */
  R.violationLine = (v) =>
    v.shown.length > 0 ? v.shown[0].words[v.shown[0].words.length - 1] : undefined;

  /** Where the timeline opens for an invalid run: around the first witness. */
  R.violationWindow = (v) => {
    const w = v.shown.find((k) => k.witness);
    if (!w) return undefined;
    const calls = w.witness.ops.map((o) => o.call);
    const ends = w.witness.ops.map((o) => (o.ret === null ? o.call : o.ret));
    const a = Math.min(...calls);
    const b = Math.max(...ends);
    const pad = Math.max(0.05, (b - a) * 0.5);
    return { from: a - pad, to: b + pad };
  };
})();
