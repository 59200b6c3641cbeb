// The timeline of operations per process, on a canvas, windowed: the reader picks a span of
// time (the inputs, the buttons, or a drag across a plot) and only that span's operations are
// found (a binary search over call times) and drawn, so a run of a million operations stays
// quick. A row per process, each operation a bar from invoke to completion coloured by its
// outcome, the fault periods shaded behind; hovering a bar says what it was.

// biome-ignore lint/suspicious/noRedundantUseStrict: a classic script (inlined), not a module
"use strict";
(() => {
  const R = window.paxosReport;
  const ROW_H = 18;
  const AXIS_H = 22;
  const GUTTER = 64;
  /** Operations longer than this (µs) are kept aside, so the search can start near the window. */
  const LONG_US = 10e6;
  const MAX_DRAWN = 20000;
  const MAX_ROWS = 400;

  /** Decodes the columns: absolute call times (µs) from their differences. */
  function decode(t) {
    const n = t.dt.length;
    const call = new Float64Array(n);
    let at = 0;
    for (let i = 0; i < n; i++) {
      at += t.dt[i];
      call[i] = at;
    }
    const long = [];
    for (let i = 0; i < n; i++) if (t.dur[i] < 0 || t.dur[i] > LONG_US) long.push(i);
    return { t: t, n: n, call: call, long: long };
  }

  function lowerBound(a, x) {
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Indices of the operations that overlap [a, b] (µs); `total` counts them all. */
  function inWindow(d, a, b, endUs) {
    const out = [];
    let total = 0;
    const consider = (i) => {
      const dur = d.t.dur[i];
      const end = dur < 0 ? endUs : d.call[i] + dur;
      if (end < a || d.call[i] > b) return;
      total++;
      if (out.length < MAX_DRAWN) out.push(i);
    };
    for (const i of d.long) consider(i);
    for (let i = lowerBound(d.call, a - LONG_US); i < d.n && d.call[i] <= b; i++) {
      const dur = d.t.dur[i];
      if (dur >= 0 && dur <= LONG_US) consider(i);
    }
    return { ops: out, total: total };
  }

  function describe(d, i) {
    const t = d.t;
    const f = t.fs[t.code[i] >> 2];
    const outcome = t.outcomes[t.code[i] & 3];
    const key = t.key[i] >= 0 ? ` ${t.keys[t.key[i]]}` : "";
    const value = t.value[i] >= 0 ? ` ${t.values[t.value[i]]}` : "";
    return { f: f, outcome: outcome, text: `${f}${key}${value}` };
  }

  R.drawTimeline = (root, run, data, initial) => {
    const d = decode(data);
    const endUs = run.end * 1e6;
    const first = d.n > 0 ? d.call[0] / 1e6 : 0;
    const section = R.section(
      "timeline",
      "Operations per process",
      "Each operation a bar from invoke to completion, a row per process, coloured by outcome; " +
        "shaded: the faults in force. Pick a window of time below, or drag across a plot above.",
    );
    const controls = R.el("div", "controls");
    const from = R.el("input");
    const to = R.el("input");
    for (const input of [from, to]) {
      input.type = "number";
      input.step = "any";
    }
    from.setAttribute("aria-label", "window from (s)");
    to.setAttribute("aria-label", "window to (s)");
    const button = (text, title, onClick) => {
      const b = R.el("button", null, text);
      b.type = "button";
      b.title = title;
      b.addEventListener("click", onClick);
      return b;
    };
    const info = R.el("span", "note");
    controls.append(
      R.el("label", null, "from ", from, " s"),
      R.el("label", null, "to ", to, " s"),
      button("◀", "earlier by one window", () => move(-1)),
      button("▶", "later by one window", () => move(1)),
      button("zoom in", "half the window", () => zoom(0.5)),
      button("zoom out", "twice the window", () => zoom(2)),
      info,
    );
    section.appendChild(controls);
    const wrap = R.el("div", "timeline-wrap");
    const canvas = R.el("canvas", "timeline-canvas");
    wrap.appendChild(canvas);
    section.appendChild(wrap);
    root.appendChild(section);

    let win = { a: initial.from, b: initial.to };
    let rows = [];

    function move(dir) {
      const w = win.b - win.a;
      show(win.a + dir * w, win.b + dir * w);
    }
    function zoom(k) {
      const mid = (win.a + win.b) / 2;
      const w = ((win.b - win.a) * k) / 2;
      show(mid - w, mid + w);
    }
    function show(a, b, scroll) {
      if (!(b > a)) return;
      win = { a: a, b: b };
      from.value = String(Number(a.toFixed(6)));
      to.value = String(Number(b.toFixed(6)));
      draw();
      if (scroll) section.scrollIntoView({ behavior: "smooth", block: "start" });
    }
    const onInput = () => {
      const a = Number(from.value);
      const b = Number(to.value);
      if (Number.isFinite(a) && Number.isFinite(b) && b > a) show(a, b);
    };
    from.addEventListener("change", onInput);
    to.addEventListener("change", onInput);

    function draw() {
      const a = win.a * 1e6;
      const b = win.b * 1e6;
      const found = inWindow(d, a, b, endUs);
      const byProcess = new Map();
      for (const i of found.ops) {
        const p = d.t.process[i];
        if (!byProcess.has(p)) byProcess.set(p, []);
        byProcess.get(p).push(i);
      }
      const processes = [...byProcess.keys()].sort((x, y) => x - y);
      const shownRows = processes.slice(0, MAX_ROWS);
      rows = shownRows.map((p) => ({ process: p, ops: byProcess.get(p) }));
      let text = `${R.plural(found.total, "operation")} in this window, ${R.plural(processes.length, "process", "processes")}`;
      if (found.total > found.ops.length)
        text += `; drawing the first ${R.count(found.ops.length)}, narrow the window for the rest`;
      if (processes.length > shownRows.length)
        text += `; the first ${shownRows.length} processes shown`;
      info.textContent = text;

      const px = window.devicePixelRatio || 1;
      const width = Math.max(320, wrap.clientWidth);
      const height = AXIS_H + Math.max(1, rows.length) * ROW_H + 4;
      canvas.width = Math.round(width * px);
      canvas.height = Math.round(height * px);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
      const c = canvas.getContext("2d");
      c.setTransform(px, 0, 0, px, 0, 0);
      c.fillStyle = "#fff";
      c.fillRect(0, 0, width, height);
      const plotW = width - GUTTER - 8;
      const X = (us) => GUTTER + ((us - a) / (b - a)) * plotW;
      canvas.dataset.x = JSON.stringify({ a: win.a, b: win.b, gutter: GUTTER, width: plotW });

      // Stripes, fault periods, the axis.
      rows.forEach((_, r) => {
        if (r % 2 === 1) {
          c.fillStyle = "#f6f8fa";
          c.fillRect(GUTTER, AXIS_H + r * ROW_H, plotW, ROW_H);
        }
      });
      c.font = "11px system-ui, sans-serif";
      c.textBaseline = "top";
      let bands = 0;
      for (const f of run.faults) {
        const x0 = Math.max(GUTTER, X(f.from * 1e6));
        const x1 = Math.min(GUTTER + plotW, X(f.to * 1e6));
        if (!(x1 > x0)) continue;
        bands++;
        c.fillStyle = R.faultColour(f.kind, 0.14);
        c.fillRect(x0, AXIS_H, x1 - x0, height - AXIS_H);
        c.save();
        c.beginPath();
        c.rect(x0, 0, x1 - x0, AXIS_H);
        c.clip();
        c.fillStyle = R.faultColour(f.kind, 0.95);
        c.fillText(f.name, x0 + 3, 11);
        c.restore();
      }
      canvas.dataset.faultBands = String(bands);
      axis(c, a, b, X, plotW, height);

      // Process labels and the operations.
      c.textBaseline = "middle";
      rows.forEach((row, r) => {
        const y = AXIS_H + r * ROW_H;
        c.fillStyle = "#59636e";
        c.textAlign = "right";
        c.fillText(`p${row.process}`, GUTTER - 6, y + ROW_H / 2);
        c.textAlign = "left";
        for (const i of row.ops) {
          const dur = d.t.dur[i];
          const x0 = Math.max(GUTTER, X(d.call[i]));
          const x1 = Math.min(GUTTER + plotW, X(dur < 0 ? endUs : d.call[i] + dur));
          const w = Math.max(1.5, x1 - x0);
          const op = describe(d, i);
          c.fillStyle = R.OUTCOME_COLOURS[op.outcome];
          c.globalAlpha = dur < 0 ? 0.45 : 0.85;
          c.fillRect(x0, y + 3, w, ROW_H - 6);
          c.globalAlpha = 1;
          if (w > 34) {
            c.save();
            c.beginPath();
            c.rect(x0, y, w - 2, ROW_H);
            c.clip();
            c.fillStyle = "#fff";
            c.fillText(op.text, x0 + 3, y + ROW_H / 2);
            c.restore();
          }
        }
      });
      canvas.dataset.drawn = String(found.ops.length);
      canvas._hit = { X: X, a: a, b: b, plotW: plotW };
    }

    function axis(c, a, b, X, plotW, height) {
      const span = (b - a) / 1e6;
      const step = niceStep(span / Math.max(2, Math.floor(plotW / 110)));
      c.fillStyle = "#59636e";
      c.strokeStyle = "#d1d9e0";
      c.textAlign = "left";
      for (let s = Math.ceil(a / 1e6 / step) * step; s <= b / 1e6; s += step) {
        const x = X(s * 1e6);
        c.beginPath();
        c.moveTo(x + 0.5, AXIS_H - 4);
        c.lineTo(x + 0.5, height);
        c.stroke();
        c.fillText(R.seconds(s, span), x + 2, 1);
      }
    }

    function niceStep(raw) {
      const p = 10 ** Math.floor(Math.log10(raw));
      const m = raw / p;
      return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
    }

    canvas.addEventListener("mousemove", (e) => {
      const hit = canvas._hit;
      const rect = canvas.getBoundingClientRect();
      const x = e.clientX - rect.left;
      const r = Math.floor((e.clientY - rect.top - AXIS_H) / ROW_H);
      const row = rows[r];
      if (!hit || !row || x < GUTTER) {
        R.hideTip();
        return;
      }
      const us = hit.a + ((x - GUTTER) / hit.plotW) * (hit.b - hit.a);
      const slack = (2 / hit.plotW) * (hit.b - hit.a);
      const i = row.ops.find((k) => {
        const dur = d.t.dur[k];
        const end = dur < 0 ? endUs : d.call[k] + dur;
        return d.call[k] - slack <= us && us <= end + slack;
      });
      if (i === undefined) {
        R.hideTip();
        return;
      }
      const op = describe(d, i);
      const node = d.t.node[i] >= 0 ? ` on ${d.t.nodes[d.t.node[i]]}` : "";
      const dur = d.t.dur[i];
      R.showTip(e, [
        `p${row.process}${node}: ${op.text}`,
        R.OUTCOME_TEXT[op.outcome],
        dur < 0
          ? `invoked at ${R.seconds(d.call[i] / 1e6, 0.1)}, never completed`
          : `${R.seconds(d.call[i] / 1e6, 0.1)} to ${R.seconds((d.call[i] + dur) / 1e6, 0.1)} (${R.ms(dur / 1000)})`,
      ]);
    });
    canvas.addEventListener("mouseleave", R.hideTip);
    let timer;
    window.addEventListener("resize", () => {
      clearTimeout(timer);
      timer = setTimeout(draw, 150);
    });

    R.showWindow = show;
    show(initial.from, initial.to);
    return { first: first };
  };
})();
