// The report page's main script (inlined last): reads the JSON blocks the harness embedded
// (report-run, -latency, -throughput, -nodes, -timeline; -violation and -visualization for an
// invalid run) and builds the page top to bottom: the verdict and summary, the fault periods,
// latency and throughput over time, operations per node, the timeline of operations per
// process, and for an invalid run the violation. Text only: textContent, never markup.

// biome-ignore lint/suspicious/noRedundantUseStrict: a classic script (inlined), not a module
"use strict";
(() => {
  const R = window.paxosReport;
  const el = R.el;
  const run = R.data("report-run");
  const violation = R.data("report-violation");
  const root = document.getElementById("report");
  root.textContent = "";

  function verdict(r) {
    if (r.error !== undefined) return { word: "ERROR", cls: "error", text: r.error };
    if (r.no_faults !== undefined) {
      return {
        word: "NO FAULT",
        cls: "unknown",
        text: `${r.no_faults}: the history is linearizable, but that says nothing about faults`,
      };
    }
    if (r.valid === true)
      return { word: "VALID", cls: "valid", text: "the history is linearizable" };
    if (r.valid === false)
      return { word: "INVALID", cls: "invalid", text: "the history is not linearizable" };
    return {
      word: "UNKNOWN",
      cls: "unknown",
      text: `the checker could not decide${r.checker.reason ? ` (${r.checker.reason})` : ""}`,
    };
  }

  function header() {
    const r = run.results;
    const v = verdict(r);
    const h = el("header", "top");
    const badge = el("span", `verdict v-${v.cls}`, v.word);
    badge.id = "verdict";
    h.appendChild(el("h1", null, badge, " ", r.name));
    h.appendChild(
      el(
        "p",
        "verdict-text",
        `${v.text}${r.interrupted ? " (interrupted: the history so far)" : ""}`,
      ),
    );
    const line = violation ? R.violationLine(violation) : undefined;
    if (line) {
      const link = el("a", null, "the violation, drawn");
      link.href = "#violation";
      h.appendChild(el("p", "reason", line, " ", link));
    }
    h.appendChild(el("p", "note", `${run.test}/${run.folder}`));
    root.appendChild(h);
  }

  function summary() {
    const r = run.results;
    const c = run.config;
    const s = R.section("summary", "Summary");
    const dl = el("dl", "facts");
    const fact = (term, ...value) => {
      dl.appendChild(el("dt", null, term));
      dl.appendChild(el("dd", null, ...value));
    };
    fact("backend", r.backend);
    fact("runtime", r.runtime);
    fact("nodes", String(r.nodes));
    const workload = [r.workload];
    if (r.workload === "kv" && c.keys !== undefined)
      workload.push(`${c.keys} keys${c.distribution ? `, ${c.distribution}` : ""}`);
    fact("workload", workload.join(": "));
    const faults = Object.entries(r.faults || {});
    fact(
      "faults",
      faults.length === 0
        ? "none"
        : faults
            .map(
              ([kind, f]) =>
                `${kind}: ${f.started} started, ${f.verified} verified, ${f.seconds} s`,
            )
            .join("; "),
    );
    const o = r.ops;
    fact(
      "operations",
      `${R.count(o.invoke)} invoked: ${R.count(o.ok)} ok, ${R.count(o.fail)} fail, ${R.count(o.info)} info` +
        (o.protocol_errors > 0 ? ` (${R.plural(o.protocol_errors, "protocol error")})` : ""),
    );
    fact("throughput", `${r.throughput.ok_per_s} ok/s over ${r.duration_s} s`);
    const l = r.latency_ms;
    fact(
      "latency (ok)",
      `p50 ${R.ms(l.p50)}, p95 ${R.ms(l.p95)}, p99 ${R.ms(l.p99)}, max ${R.ms(l.max)}`,
    );
    const k = r.checker;
    fact(
      "checker",
      `${k.result}, model ${k.model}, ${R.plural(k.partitions, "partition")}, ${k.duration_ms} ms` +
        (k.reason ? ` (${k.reason})` : ""),
    );
    if (r.violating_keys && r.violating_keys.length > 0) {
      fact("illegal keys", `${r.violating_keys.join(", ")} (of ${k.partitions})`);
    }
    if (r.unknown_keys && r.unknown_keys.length > 0)
      fact("left unknown", r.unknown_keys.join(", "));
    if (r.lost && r.lost.length > 0) fact("lost", r.lost.map((x) => JSON.stringify(x)).join(", "));
    if (r.phantom && r.phantom.length > 0)
      fact("phantom", r.phantom.map((x) => JSON.stringify(x)).join(", "));
    fact("seed", String(r.seed));
    fact("duration", `${r.duration_s} s of workload`);
    s.appendChild(dl);
    if (run.faults.length > 0) s.appendChild(faultTable());
    root.appendChild(s);
  }

  function faultTable() {
    const t = el("table", "faults");
    const head = el("tr");
    for (const h of ["fault", "from", "to", "lasted", "verified"])
      head.appendChild(el("th", null, h));
    t.appendChild(el("thead", null, head));
    const body = el("tbody");
    for (const f of run.faults) {
      const swatch = el("span", "swatch");
      swatch.style.background = R.faultColour(f.kind, 0.6);
      const tr = el("tr");
      tr.appendChild(el("td", null, swatch, f.name));
      tr.appendChild(el("td", "num", R.seconds(f.from)));
      tr.appendChild(el("td", "num", R.seconds(f.to)));
      tr.appendChild(el("td", "num", R.seconds(f.to - f.from)));
      tr.appendChild(el("td", null, f.verified ? "yes" : "no"));
      body.appendChild(tr);
    }
    t.appendChild(body);
    return t;
  }

  function nodes() {
    const rows = R.data("report-nodes");
    const s = R.section(
      "nodes",
      "Operations per node",
      "Where the clients sent their operations, by outcome.",
    );
    if (rows.length === 0) {
      s.appendChild(
        el("p", "empty", "This run's history does not say which node each operation went to."),
      );
      root.appendChild(s);
      return;
    }
    const most = Math.max(1, ...rows.map((r) => r.invoke));
    const t = el("table", "per-node");
    const head = el("tr");
    for (const h of ["node", "invoked", "ok", "fail", "info", ""])
      head.appendChild(el("th", null, h));
    t.appendChild(el("thead", null, head));
    const body = el("tbody");
    for (const r of rows) {
      const tr = el("tr");
      tr.appendChild(el("td", null, r.node));
      for (const n of [r.invoke, r.ok, r.fail, r.info]) tr.appendChild(el("td", "num", R.count(n)));
      const bar = el("div", "bar");
      for (const o of ["ok", "fail", "info"]) {
        const part = el("span");
        part.style.width = `${(r[o] / most) * 100}%`;
        part.style.background = R.OUTCOME_COLOURS[o];
        part.title = `${o}: ${r[o]}`;
        bar.appendChild(part);
      }
      tr.appendChild(el("td", "bar-cell", bar));
      body.appendChild(tr);
    }
    t.appendChild(body);
    s.appendChild(t);
    root.appendChild(s);
  }

  /** The timeline's first window: around the violation, else the first few hundred operations. */
  function firstWindow(data) {
    const around = violation ? R.violationWindow(violation) : undefined;
    if (around) return around;
    const first = data.dt.length > 0 ? data.dt[0] / 1e6 : 0;
    const span = Math.max(0.001, run.end - first);
    const perSecond = data.dt.length / span;
    const width = Math.min(span, Math.max(0.02, 300 / Math.max(1, perSecond)));
    return { from: first, to: first + width };
  }

  header();
  summary();
  if (run.operations === 0) {
    root.appendChild(
      R.section(
        "operations",
        "Operations",
        "No client operation was recorded: the run ended before its workload did anything.",
      ),
    );
  } else {
    R.drawPlots(root, run, R.data("report-latency"), R.data("report-throughput"));
    nodes();
    const timeline = R.data("report-timeline");
    R.drawTimeline(root, run, timeline, firstWindow(timeline));
  }
  if (violation) R.drawViolation(root, run, violation, R.data("report-visualization"));
  document.body.dataset.ready = "true";
})();
