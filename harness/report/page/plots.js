// The report's plots, drawn with uPlot (inlined before this script): latency over time, one
// plot per operation type with a series per outcome on a log scale, and throughput over time
// by outcome. On every plot each fault period is shaded and named (a uPlot hook); the plot's
// element records the bands it drew (data-fault-bands, data-bands: canvas pixels) for whoever
// checks the page. Dragging across a plot shows that span in the timeline.

// biome-ignore lint/suspicious/noRedundantUseStrict: a classic script (inlined), not a module
"use strict";
(() => {
  const R = window.paxosReport;
  const OUTCOMES = ["ok", "fail", "info"];
  const plots = [];

  /** The hooks that shade the fault periods behind the data and write their names over it. */
  function faultHooks(faults, holder) {
    const kinds = [...new Set(faults.map((f) => f.kind))].sort(
      (a, b) => R.faultRow(a) - R.faultRow(b),
    );
    let drawn = [];
    return {
      drawClear: [
        (u) => {
          const { ctx, bbox } = u;
          drawn = [];
          ctx.save();
          for (const f of faults) {
            const x0 = Math.max(bbox.left, u.valToPos(f.from, "x", true));
            const x1 = Math.min(bbox.left + bbox.width, u.valToPos(f.to, "x", true));
            if (!(x1 > x0)) continue;
            const w = Math.max(1, x1 - x0);
            ctx.fillStyle = R.faultColour(f.kind, 0.14);
            ctx.fillRect(x0, bbox.top, w, bbox.height);
            drawn.push({ kind: f.kind, name: f.name, x: x0, y: bbox.top, w: w, h: bbox.height });
          }
          ctx.restore();
          holder.dataset.faultBands = String(drawn.length);
          holder.dataset.bands = JSON.stringify(
            drawn.map((d) => ({
              kind: d.kind,
              name: d.name,
              x: Math.round(d.x),
              y: Math.round(d.y),
              w: Math.round(d.w),
              h: Math.round(d.h),
            })),
          );
        },
      ],
      draw: [
        (u) => {
          const { ctx } = u;
          const px = devicePixelRatio || 1;
          ctx.save();
          ctx.font = `${11 * px}px system-ui, sans-serif`;
          ctx.textBaseline = "top";
          ctx.textAlign = "left";
          for (const d of drawn) {
            ctx.save();
            ctx.beginPath();
            ctx.rect(d.x, d.y, d.w, d.h);
            ctx.clip();
            ctx.fillStyle = R.faultColour(d.kind, 0.95);
            ctx.fillText(d.name, d.x + 3 * px, d.y + (2 + 13 * kinds.indexOf(d.kind)) * px);
            ctx.restore();
          }
          ctx.restore();
        },
      ],
      setSelect: [
        (u) => {
          if (u.select.width < 3) return;
          const from = u.posToVal(u.select.left, "x");
          const to = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          if (R.showWindow) R.showWindow(from, to, true);
        },
      ],
    };
  }

  function baseOptions(width, height, range, faults, holder, yAxis) {
    return {
      width: width,
      height: height,
      scales: { x: { time: false, range: () => range } },
      axes: [{ values: (_u, ticks) => ticks.map((t) => `${Number(t.toPrecision(6))} s`) }, yAxis],
      cursor: { drag: { x: true, y: false, setScale: false }, sync: { key: "run" } },
      hooks: faultHooks(faults, holder),
    };
  }

  /** Merges per-outcome (x, y) series into uPlot's aligned form: one x column, nulls elsewhere. */
  function aligned(series) {
    const points = [];
    series.forEach((s, k) => {
      for (let i = 0; i < s.x.length; i++) points.push([s.x[i], k, s.y[i]]);
    });
    points.sort((a, b) => a[0] - b[0]);
    const xs = new Array(points.length);
    const ys = series.map(() => new Array(points.length).fill(null));
    points.forEach((p, i) => {
      xs[i] = p[0];
      ys[p[1]][i] = p[2];
    });
    return [xs, ...ys];
  }

  function latencyPlot(parent, plot, ctx) {
    const holder = R.el("div", "plot latency-plot");
    holder.dataset.f = plot.f;
    const shown = plot.series.reduce((n, s) => n + s.x.length, 0);
    const total = plot.series.reduce((n, s) => n + s.total, 0);
    const counts = plot.series.map((s) => `${R.count(s.total)} ${s.outcome}`).join(", ");
    holder.appendChild(
      R.el(
        "h3",
        null,
        `${plot.f}: ${counts}`,
        shown < total
          ? R.el("span", "note", ` (drawn: ${R.count(shown)} points, one per pixel cell)`)
          : null,
      ),
    );
    parent.appendChild(holder);
    const opts = baseOptions(ctx.width, 180, ctx.range, ctx.faults, holder, {
      size: 64,
      splits: (_u, _axis, min, max) => logSplits(min, max),
      values: (_u, ticks) => ticks.map((t) => (t === null ? "" : R.ms(t))),
    });
    opts.scales.y = { distr: 3 };
    opts.series = [
      { label: "s", value: (_u, v) => (v === null ? "–" : R.seconds(v)) },
      ...plot.series.map((s) => {
        const colour = R.OUTCOME_COLOURS[s.outcome];
        return {
          label: s.outcome,
          stroke: colour,
          fill: colour,
          paths: () => null,
          points: { show: true, size: 3.5, width: 0, fill: colour, stroke: colour, space: 0 },
          value: (_u, v) => (v === null ? "–" : R.ms(v)),
        };
      }),
    ];
    plots.push(new uPlot(opts, aligned(plot.series), holder));
  }

  /** Ticks at the powers of ten in [min, max], with 2 and 5 between them when there are few. */
  function logSplits(min, max) {
    const ticks = [];
    const few = Math.log10(max / min) < 2.5;
    for (let p = Math.floor(Math.log10(min)); p <= Math.ceil(Math.log10(max)); p++) {
      for (const m of few ? [1, 2, 5] : [1]) {
        const t = m * 10 ** p;
        if (t >= min && t <= max) ticks.push(Number(t.toPrecision(3)));
      }
    }
    return ticks;
  }

  function throughputPlot(parent, t, ctx) {
    const holder = R.el("div", "plot throughput-plot");
    parent.appendChild(holder);
    const xs = t.ok.map((_, i) => t.from + i * t.bucket);
    const opts = baseOptions(ctx.width, 200, ctx.range, ctx.faults, holder, {
      size: 64,
      values: (_u, ticks) => ticks.map((v) => `${R.count(v)}/s`),
    });
    opts.scales.y = { range: (_u, _min, max) => [0, Math.max(1, max * 1.05)] };
    const stepped = uPlot.paths.stepped({ align: 1 });
    opts.series = [
      { label: "s", value: (_u, v) => (v === null ? "–" : R.seconds(v)) },
      ...OUTCOMES.map((o) => ({
        label: `${o}/s`,
        stroke: R.OUTCOME_COLOURS[o],
        width: 1.5,
        paths: stepped,
        points: { show: false },
        value: (_u, v) => (v === null ? "–" : R.count(v)),
      })),
    ];
    plots.push(new uPlot(opts, [xs, t.ok, t.fail, t.info], holder));
  }

  /** Draws both sections into `root`; `run` is the report-run block. */
  R.drawPlots = (root, run, latency, tput) => {
    const range = [tput.from, Math.max(tput.from + 0.001, run.end)];
    const lat = R.section(
      "latency",
      "Latency over time",
      "Each operation at its invoke time, by how long it took (log scale), coloured by outcome; " +
        "shaded: the faults in force. Drag across a plot to see that span in the timeline below.",
    );
    lat.appendChild(legend());
    root.appendChild(lat);
    const width = Math.max(320, lat.clientWidth - 32);
    const ctx = { width: width, range: range, faults: run.faults };
    if (latency.length === 0) lat.appendChild(R.el("p", "empty", "No operation completed."));
    for (const plot of latency) latencyPlot(lat, plot, ctx);
    const tp = R.section(
      "throughput",
      "Throughput over time",
      `Completions per second by outcome, in buckets of ${t(tput.bucket)}; shaded: the faults in force.`,
    );
    root.appendChild(tp);
    throughputPlot(tp, tput, ctx);
    let timer;
    window.addEventListener("resize", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const w = Math.max(320, lat.clientWidth - 32);
        for (const p of plots) p.setSize({ width: w, height: p.height });
      }, 150);
    });
  };

  function t(seconds) {
    return seconds >= 1 ? `${seconds} s` : `${Math.round(seconds * 1000)} ms`;
  }

  function legend() {
    const l = R.el("div", "legend");
    for (const o of OUTCOMES) {
      const swatch = R.el("span", "swatch");
      swatch.style.background = R.OUTCOME_COLOURS[o];
      l.appendChild(R.el("span", null, swatch, R.OUTCOME_TEXT[o]));
    }
    return l;
  }
})();
