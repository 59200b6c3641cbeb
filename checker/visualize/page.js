// The visualization page's script (see ../visualize.ts): plain ES2020 with no dependencies,
// inlined into the page. It reads the JSON blocks `viz-meta` and `viz-p<i>` (one per partition,
// in display order), and draws a partition only when it is selected. It builds the DOM with
// textContent only, so nothing from the history is ever parsed as HTML (the one piece of markup
// it writes, the linearization points' SVG, holds numbers only).

// biome-ignore lint/suspicious/noRedundantUseStrict: a classic script (inlined), not a module
"use strict";
(() => {
  const byId = (id) => document.getElementById(id);
  const meta = JSON.parse(byId("viz-meta").textContent);
  const parts = meta.parts;
  const view = byId("view"),
    tip = byId("tip"),
    side = byId("side");
  const plist = byId("plist"),
    filter = byId("filter"),
    listInfo = byId("plist-info");

  const LIST_CAP = 400;
  const BOX_H = 24,
    LANE_GAP = 4,
    ROW_PAD = 6,
    SPACE = 12,
    G_MIN = 10,
    PT_GAP = 12;
  const TEXT_PAD = 24,
    MAX_TEXT = 220,
    INF_EXT = 90,
    PAD = 14,
    NEVER = 1e300;
  const FONT = "12px system-ui, sans-serif";
  const RESULT_TEXT = { ok: "linearizable", illegal: "not linearizable", unknown: "unknown" };
  const measureCtx = document.createElement("canvas").getContext("2d");

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function para(cls, pieces) {
    const p = el("p", cls);
    pieces.forEach((x) => {
      p.appendChild(typeof x === "string" ? document.createTextNode(x) : x);
    });
    return p;
  }
  function plural(n, word) {
    return `${n} ${word}${n === 1 ? "" : "s"}`;
  }
  function textWidth(s) {
    if (!measureCtx) return Math.min(MAX_TEXT, s.length * 7);
    measureCtx.font = FONT;
    return Math.min(MAX_TEXT, measureCtx.measureText(s).width);
  }

  // ---- the partition list ------------------------------------------------------------------

  let selected = -1;
  let cur = null;

  function renderList() {
    const q = filter.value.trim().toLowerCase();
    const frag = document.createDocumentFragment();
    let matched = 0,
      shown = 0;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (q && p[0].toLowerCase().indexOf(q) < 0 && p[1] !== q) continue;
      matched++;
      if (shown >= LIST_CAP && i !== selected) continue;
      shown++;
      const li = el("li", `r-${p[1]}${i === selected ? " sel" : ""}`);
      li.dataset.i = String(i);
      li.title = `${p[0] || "(whole history)"}: ${RESULT_TEXT[p[1]]}, ${plural(p[2], "operation")}`;
      li.appendChild(el("span", "dot"));
      li.appendChild(el("span", "lbl", p[0] || "(whole history)"));
      li.appendChild(el("span", "cnt", String(p[2])));
      frag.appendChild(li);
    }
    plist.textContent = "";
    plist.appendChild(frag);
    let text = q
      ? `${matched} of ${plural(parts.length, "partition")} match`
      : `${plural(parts.length, "partition")}, failures first`;
    if (matched > shown) text += `; listing ${shown}, filter to find others`;
    listInfo.textContent = text;
  }

  function markSelected() {
    const old = plist.querySelector("li.sel");
    if (old) old.classList.remove("sel");
    let li = plist.querySelector(`li[data-i="${selected}"]`);
    if (!li) {
      renderList();
      li = plist.querySelector(`li[data-i="${selected}"]`);
    }
    if (li) {
      li.classList.add("sel");
      li.scrollIntoView({ block: "nearest" });
    }
  }

  function select(i) {
    if (!(i >= 0 && i < parts.length)) return;
    selected = i;
    if (parts.length > 1) markSelected();
    try {
      history.replaceState(null, "", `#p${i}`);
    } catch (_e) {
      /* file: URLs may refuse */
    }
    const block = byId(`viz-p${i}`);
    const d = JSON.parse(block.textContent);
    cur = { d: d, lin: 0, widths: null, lay: null, tipOp: -1 };
    renderPartition();
  }

  function step(delta) {
    const li = plist.querySelector("li.sel");
    const next = li && (delta > 0 ? li.nextElementSibling : li.previousElementSibling);
    if (next) select(Number(next.dataset.i));
    else if (!li) select(selected + delta);
  }

  plist.addEventListener("click", (e) => {
    const li = e.target.closest("li");
    if (li) select(Number(li.dataset.i));
  });
  filter.addEventListener("input", renderList);
  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
    if (e.key === "j" || e.key === "n") step(1);
    else if (e.key === "k" || e.key === "p") step(-1);
  });

  // ---- one partition -------------------------------------------------------------------------

  function renderPartition() {
    const d = cur.d;
    view.textContent = "";
    const h2 = el("h2");
    h2.appendChild(el("span", `verdict r-${d.result}`, RESULT_TEXT[d.result]));
    h2.appendChild(document.createTextNode(" Partition "));
    h2.appendChild(el("span", "plabel", d.label || "(whole history)"));
    view.appendChild(h2);
    const clients = {};
    d.o.forEach((op) => {
      clients[op[0]] = true;
    });
    const sub = para("sub", [
      plural(d.o.length, "operation") +
        " from " +
        plural(Object.keys(clients).length, "client") +
        ". ",
    ]);
    if (d.l.length > 1) {
      const label = el("label", null, "Linearization:");
      const sel = el("select");
      d.l.forEach((lin, k) => {
        const opt = el(
          "option",
          null,
          "#" +
            (k + 1) +
            ": " +
            lin.o.length +
            " of " +
            d.o.length +
            " operations" +
            (lin.x.length ? `, ${lin.x.length} stuck` : ""),
        );
        opt.value = String(k);
        sel.appendChild(opt);
      });
      sel.addEventListener("change", () => {
        cur.lin = Number(sel.value);
        drawBody();
      });
      label.appendChild(sel);
      sub.appendChild(label);
    }
    view.appendChild(sub);
    cur.notes = el("div", "notes");
    view.appendChild(cur.notes);
    const legend = el("div", "legend");
    [
      ["op", "operation (call to return)"],
      ["op lin", "linearized"],
      ["op stuck", "could not be linearized next"],
      ["op unk", "output unknown"],
      ["op inf", "never returned"],
    ].forEach((x) => {
      const s = el("span");
      s.appendChild(el("span", x[0]));
      s.appendChild(document.createTextNode(x[1]));
      legend.appendChild(s);
    });
    const pt = el("span");
    pt.appendChild(el("span", "swatch-pt"));
    pt.appendChild(document.createTextNode("linearization point, in order; hover for the state"));
    legend.appendChild(pt);
    view.appendChild(legend);
    cur.body = el("div");
    view.appendChild(cur.body);
    drawBody();
  }

  function stateText(d, lin, k) {
    return k < 0 ? d.s[d.init] : d.s[lin.s[k]];
  }

  function drawNotes(d, lin) {
    const notes = cur.notes;
    notes.textContent = "";
    const n = d.o.length;
    if (!lin) {
      notes.appendChild(
        para(null, [
          d.result === "ok"
            ? "No linearization was recorded for this partition (the checker keeps them in verbose mode)."
            : "No linearization was recorded for this partition.",
        ]),
      );
      return;
    }
    const m = lin.o.length;
    if (m === n && lin.x.length === 0) {
      notes.appendChild(
        para(null, [
          "A linearization of all " +
            plural(n, "operation") +
            ": the points mark an order in which every result is legal.",
        ]),
      );
    } else {
      notes.appendChild(
        para(null, [
          (cur.lin === 0
            ? "Longest partial linearization: "
            : `Partial linearization #${cur.lin + 1}: `) +
            m +
            " of " +
            plural(n, "operation") +
            ", in the order of the points.",
        ]),
      );
    }
    if (lin.x.length) {
      notes.appendChild(
        para("bad", [
          plural(lin.x.length, "operation") +
            " (outlined in red) could not be linearized next: after " +
            plural(m, "operation") +
            " the state is ",
          el("span", "mono", stateText(d, lin, m - 1)),
          ", in which none of their results is legal.",
        ]),
      );
    }
    if (lin.b !== undefined) {
      notes.appendChild(
        para("bad", [
          "The model rejected step " +
            (lin.b + 1) +
            " when replaying this linearization; it is shown up to there.",
        ]),
      );
    }
    if (d.lt > d.l.length) {
      notes.appendChild(
        para(null, [`Showing ${d.l.length} of the ${d.lt} linearizations the checker kept.`]),
      );
    }
  }

  function layout(d, lin) {
    let ops = d.o,
      n = ops.length,
      S = Math.max(1, d.t.length),
      i,
      s;
    if (!cur.widths) {
      const byDesc = {};
      cur.widths = ops.map((op) => {
        let w = byDesc[op[3]];
        if (w === undefined) w = byDesc[op[3]] = textWidth(d.s[op[3]]) + TEXT_PAD;
        return w;
      });
    }
    const tw = cur.widths;
    // Linearization points: each in its operation's interval, after the previous one. A point
    // goes to the latest of its call slot and the previous point's slot; the points sharing a
    // slot are spread inside it, and a slot is made wide enough for its points.
    const pos = new Int32Array(n).fill(-1),
      cnt = new Int32Array(S);
    let pslot = [],
      pwithin = [],
      prev = 0;
    const order = lin ? lin.o : [];
    order.forEach((oi, k) => {
      const sl = Math.max(ops[oi][1], prev);
      pslot.push(sl);
      pwithin.push(cnt[sl]++);
      prev = sl;
      pos[oi] = k;
    });
    const G = new Float64Array(S);
    for (s = 0; s < S; s++) G[s] = Math.max(G_MIN, (cnt[s] + 1) * PT_GAP);
    const ending = [];
    for (i = 0; i < n; i++) {
      const r = ops[i][2];
      if (r < 0) continue;
      if (!ending[r]) ending[r] = [];
      ending[r].push(i);
    }
    // Slot x positions, left to right: a gap after the previous slot, and room for the text of
    // every operation that returns in this slot.
    const X = new Float64Array(S);
    for (s = 0; s < S; s++) {
      let x = s === 0 ? 0 : X[s - 1] + G[s - 1] + SPACE;
      const e = ending[s];
      if (e) {
        for (let j = 0; j < e.length; j++) {
          const c = ops[e[j]][1];
          if (c === s) {
            if (tw[e[j]] > G[s]) G[s] = tw[e[j]];
          } else x = Math.max(x, X[c] + tw[e[j]] - G[s]);
        }
      }
      X[s] = x;
    }
    let end = X[S - 1] + G[S - 1] + INF_EXT;
    for (i = 0; i < n; i++) if (ops[i][2] < 0) end = Math.max(end, X[ops[i][1]] + tw[i] + 40);
    // Rows: one per client, with extra lanes if a client's operations overlap.
    const byClient = {};
    for (i = 0; i < n; i++) {
      const client = ops[i][0];
      if (!byClient[client]) byClient[client] = [];
      byClient[client].push(i);
    }
    const clients = Object.keys(byClient)
      .map(Number)
      .sort((a, b) => a - b);
    let lane = new Int32Array(n),
      rows = [],
      y = 0;
    clients.forEach((cl) => {
      const ids = byClient[cl].sort((a, b) => ops[a][1] - ops[b][1] || a - b);
      const ends = [];
      ids.forEach((oi) => {
        let l = 0;
        while (l < ends.length && ends[l] >= ops[oi][1]) l++;
        ends[l] = ops[oi][2] < 0 ? NEVER : ops[oi][2];
        lane[oi] = l;
      });
      const h = ends.length * BOX_H + (ends.length - 1) * LANE_GAP + 2 * ROW_PAD;
      rows.push({ client: cl, top: y, height: h });
      ids.forEach((oi) => {
        lane[oi] = y + ROW_PAD + lane[oi] * (BOX_H + LANE_GAP);
      });
      y += h;
    });
    const boxes = ops.map((op, oi) => {
      const left = PAD + X[op[1]];
      const right = op[2] < 0 ? PAD + end : PAD + X[op[2]] + G[op[2]];
      return { left: left, width: right - left, top: lane[oi] };
    });
    const points = order.map((oi, k) => {
      const sl = pslot[k];
      return {
        x: PAD + X[sl] + (G[sl] * (pwithin[k] + 1)) / (cnt[sl] + 1),
        y: lane[oi] + BOX_H - 1,
      };
    });
    return { boxes: boxes, rows: rows, points: points, pos: pos, width: end + 2 * PAD, height: y };
  }

  function drawBody() {
    const d = cur.d,
      lin = d.l[cur.lin];
    drawNotes(d, lin);
    cur.body.textContent = "";
    hideTip();
    if (d.o.length === 0) {
      cur.body.appendChild(el("p", "empty", "No operations."));
      return;
    }
    const lay = layout(d, lin);
    cur.lay = lay;
    const stuck = {};
    if (lin)
      lin.x.forEach((i) => {
        stuck[i] = true;
      });
    cur.stuck = stuck;

    const wrap = el("div", "tlwrap"),
      labels = el("div", "labels");
    const scroll = el("div", "tlscroll"),
      tl = el("div", "tl");
    let labelW = 0;
    lay.rows.forEach((row, r) => {
      const text = `client ${row.client}`;
      labelW = Math.max(labelW, textWidth(text));
      const lab = el("div", null, text);
      lab.style.top = `${row.top}px`;
      lab.style.height = `${row.height}px`;
      labels.appendChild(lab);
      if (r % 2 === 1) {
        const st = el("div", "stripe");
        st.style.top = `${row.top}px`;
        st.style.height = `${row.height}px`;
        tl.appendChild(st);
      }
    });
    labels.style.width = `${Math.ceil(labelW + 22)}px`;
    labels.style.height = `${lay.height}px`;
    tl.style.width = `${Math.ceil(lay.width)}px`;
    tl.style.height = `${lay.height}px`;
    const frag = document.createDocumentFragment();
    d.o.forEach((op, i) => {
      const b = lay.boxes[i];
      const cls =
        "op" +
        (lay.pos[i] >= 0 ? " lin" : "") +
        (stuck[i] ? " stuck" : "") +
        (op[2] < 0 ? " inf" : "") +
        (op[5] ? " unk" : "");
      const box = el("div", cls, d.s[op[3]]);
      box.dataset.i = String(i);
      box.style.left = `${b.left.toFixed(1)}px`;
      box.style.top = `${b.top}px`;
      box.style.width = `${b.width.toFixed(1)}px`;
      frag.appendChild(box);
    });
    tl.appendChild(frag);
    // The linearization points, drawn over the boxes (numbers only, built as markup).
    let svg = `<svg class="lp" width="${Math.ceil(lay.width)}" height="${lay.height}">`;
    if (lay.points.length > 1) {
      svg += `<polyline points="${lay.points.map((p) => `${p.x.toFixed(1)},${p.y}`).join(" ")}"/>`;
    }
    svg += '<polyline class="hl" points=""/>';
    lay.points.forEach((p) => {
      const x = p.x.toFixed(1);
      svg += `<circle cx="${x}" cy="${p.y}" r="4"/>`;
    });
    svg += "</svg>";
    tl.insertAdjacentHTML("beforeend", svg);
    cur.hl = tl.querySelector("polyline.hl");
    tl.addEventListener("mousemove", onHover);
    tl.addEventListener("mouseleave", hideTip);
    scroll.appendChild(tl);
    wrap.appendChild(labels);
    wrap.appendChild(scroll);
    cur.body.appendChild(wrap);
    // Where the failure is: the stuck operations, or where the partial linearization ends.
    let target = -1;
    if (lin?.x.length) {
      target = lin.x.reduce((a, i) => Math.min(a, lay.boxes[i].left), NEVER);
    }
    if (lin && lin.o.length < d.o.length && lay.points.length) {
      const last = lay.points[lay.points.length - 1].x;
      target = target < 0 ? last : Math.min(target, last);
    }
    if (target > scroll.clientWidth / 2) scroll.scrollLeft = target - scroll.clientWidth / 3;
  }

  // ---- tooltips ------------------------------------------------------------------------------

  function onHover(e) {
    const box = e.target.closest ? e.target.closest(".op") : null;
    if (!box) {
      hideTip();
      return;
    }
    const i = Number(box.dataset.i);
    if (cur.tipOp !== i) {
      hideTip();
      cur.tipOp = i;
      cur.tipBox = box;
      box.classList.add("hov");
      fillTip(i);
      const k = cur.lay.pos[i];
      if (k >= 0 && cur.hl) {
        cur.hl.setAttribute(
          "points",
          cur.lay.points
            .slice(0, k + 1)
            .map((p) => `${p.x.toFixed(1)},${p.y}`)
            .join(" "),
        );
      }
    }
    tip.hidden = false;
    const w = tip.offsetWidth,
      h = tip.offsetHeight;
    let x = e.clientX + 14,
      y = e.clientY + 16;
    if (x + w > window.innerWidth - 4) x = Math.max(4, e.clientX - w - 14);
    if (y + h > window.innerHeight - 4) y = Math.max(4, e.clientY - h - 12);
    tip.style.left = `${Math.max(4, x)}px`;
    tip.style.top = `${Math.max(4, y)}px`;
  }

  function hideTip() {
    tip.hidden = true;
    if (!cur) return;
    cur.tipOp = -1;
    if (cur.tipBox) {
      cur.tipBox.classList.remove("hov");
      cur.tipBox = null;
    }
    if (cur.hl) cur.hl.setAttribute("points", "");
  }

  function fillTip(i) {
    const d = cur.d,
      op = d.o[i],
      lin = d.l[cur.lin],
      k = cur.lay.pos[i];
    tip.textContent = "";
    tip.appendChild(para("t-desc", [d.s[op[3]]]));
    tip.appendChild(para("t-dim", [`client ${op[0]}, operation ${op[4]} of the history`]));
    tip.appendChild(
      para("t-dim", [
        "called at " +
          d.t[op[1]] +
          ", " +
          (op[2] < 0 ? "never returned" : `returned at ${d.t[op[2]]}`) +
          (op[5] ? "; output unknown" : ""),
      ]),
    );
    if (k >= 0) {
      tip.appendChild(
        para(null, [
          `linearized ${k + 1} of ${lin.o.length}; state after: `,
          el("span", "mono", stateText(d, lin, k)),
        ]),
      );
    } else if (cur.stuck[i]) {
      tip.appendChild(
        para("t-bad", [
          "could not be linearized next: not a legal result in state ",
          el("span", "mono", stateText(d, lin, lin.o.length - 1)),
        ]),
      );
    } else if (lin) {
      tip.appendChild(para("t-dim", ["not in this linearization"]));
    }
  }

  // ---- start ---------------------------------------------------------------------------------

  if (parts.length === 0) {
    view.appendChild(el("p", "empty", "No partitions were checked."));
    return;
  }
  if (parts.length > 1) {
    side.hidden = false;
    renderList();
  }
  const m = /^#p(\d+)$/.exec(location.hash);
  select(m && Number(m[1]) < parts.length ? Number(m[1]) : 0);
})();
