// The static part of the visualization page (see visualize.ts): its CSS and its script, plain
// ES2020 with no dependencies. The script reads the JSON blocks `viz-meta` and `viz-p<i>` (one
// per partition, in display order), and draws a partition only when it is selected. It builds
// the DOM with textContent only, so nothing from the history is ever parsed as HTML.

export const PAGE_CSS = `
:root { --ok: #1a7f37; --illegal: #cf222e; --unknown: #9a6700; --line: #1f54c9; --muted: #59636e;
  --border: #d1d9e0; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; }
header { padding: 12px 20px; border-bottom: 1px solid var(--border); background: var(--panel); }
h1 { font-size: 18px; margin: 0 0 4px; overflow-wrap: anywhere; }
.summary { margin: 0; color: var(--muted); }
.verdict { display: inline-block; padding: 1px 9px; border-radius: 10px; color: #fff; font-size: 12px;
  font-weight: 600; vertical-align: 1px; background: var(--muted); }
.verdict.r-ok { background: var(--ok); }
.verdict.r-illegal { background: var(--illegal); }
.verdict.r-unknown { background: var(--unknown); }
#app { display: flex; align-items: flex-start; }
#side { width: 250px; flex: none; position: sticky; top: 0; height: 100vh; display: flex;
  flex-direction: column; border-right: 1px solid var(--border); }
#side[hidden] { display: none; }
#filter { margin: 10px 10px 4px; padding: 4px 8px; font: inherit; border: 1px solid var(--border);
  border-radius: 6px; }
#plist-info { padding: 0 10px 6px; color: var(--muted); font-size: 12px; }
#plist { list-style: none; margin: 0; padding: 0 0 10px; overflow-y: auto; flex: 1; }
#plist li { display: flex; gap: 8px; align-items: center; padding: 2px 10px; cursor: pointer;
  font-size: 13px; }
#plist li:hover { background: #eef1f4; }
#plist li.sel { background: #ddf4ff; box-shadow: inset 3px 0 0 var(--line); }
.dot { width: 8px; height: 8px; border-radius: 50%; flex: none; background: var(--muted); }
li.r-ok .dot { background: var(--ok); }
li.r-illegal .dot { background: var(--illegal); }
li.r-unknown .dot { background: var(--unknown); }
.lbl { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.cnt { color: var(--muted); font-size: 12px; }
#view { flex: 1; min-width: 0; padding: 14px 20px 40px; }
h2 { font-size: 16px; margin: 0 0 2px; overflow-wrap: anywhere; }
.plabel { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.sub { margin: 0 0 6px; color: var(--muted); }
.sub select { font: inherit; margin-left: 6px; max-width: 100%; }
.notes p { margin: 2px 0; }
.notes .bad { color: var(--illegal); }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px;
  overflow-wrap: anywhere; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 8px 0 0; color: var(--muted);
  font-size: 12px; align-items: center; }
.legend .op { position: static; display: inline-block; width: 44px; height: 14px; vertical-align: -2px;
  margin-right: 4px; }
.swatch-pt { display: inline-block; width: 9px; height: 9px; border-radius: 50%;
  background: var(--line); margin-right: 4px; vertical-align: 0; }
.tlwrap { display: flex; border: 1px solid var(--border); border-radius: 6px; margin-top: 10px;
  overflow: hidden; }
.labels { position: relative; flex: none; border-right: 1px solid var(--border); background: var(--panel); }
.labels div { position: absolute; left: 0; right: 0; padding: 0 10px; display: flex;
  align-items: center; justify-content: flex-end; font-size: 12px; color: var(--muted);
  white-space: nowrap; }
.tlscroll { overflow-x: auto; flex: 1; min-width: 0; }
.tl { position: relative; min-width: 100%; }
.stripe { position: absolute; left: 0; right: 0; background: var(--panel); }
.op { position: absolute; height: 24px; line-height: 22px; padding: 0 8px; --bg: #eaeef2;
  background: var(--bg); border: 1px solid #8c959f; border-radius: 4px; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; cursor: default;
  font: 12px system-ui, sans-serif; line-height: 22px; }
.op.lin { --bg: #d6e6ff; border-color: #4b7fd6; }
.op.stuck { --bg: #ffe3e3; border: 2px solid var(--illegal); line-height: 20px; padding: 0 7px; }
.op.unk { font-style: italic; border-style: dashed; }
.op.inf { border-right: none; border-radius: 4px 0 0 4px;
  -webkit-mask-image: linear-gradient(90deg, #000 calc(100% - 70px), transparent);
  mask-image: linear-gradient(90deg, #000 calc(100% - 70px), transparent); }
.tl .op:hover, .tl .op.hov { box-shadow: 0 0 0 2px #1f232855; }
svg.lp { position: absolute; left: 0; top: 0; pointer-events: none; overflow: visible; }
.lp polyline { fill: none; stroke: var(--line); stroke-width: 1.5; stroke-opacity: 0.45; }
.lp polyline.hl { stroke-opacity: 1; stroke-width: 2.5; }
.lp circle { fill: var(--line); stroke: #fff; stroke-width: 1.5; }
#tip { position: fixed; z-index: 10; max-width: 520px; padding: 8px 10px; background: #1f2328;
  color: #f0f3f6; border-radius: 6px; font-size: 12px; pointer-events: none;
  box-shadow: 0 4px 14px #0004; overflow-wrap: anywhere; }
#tip[hidden] { display: none; }
#tip p { margin: 2px 0; }
#tip .t-desc { font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
#tip .t-bad { color: #ffb3b3; }
#tip .t-dim { color: #b7bdc8; }
.empty { color: var(--muted); }
`;

export const PAGE_JS = `
"use strict";
(function () {
  var byId = function (id) { return document.getElementById(id); };
  var meta = JSON.parse(byId("viz-meta").textContent);
  var parts = meta.parts;
  var view = byId("view"), tip = byId("tip"), side = byId("side");
  var plist = byId("plist"), filter = byId("filter"), listInfo = byId("plist-info");

  var LIST_CAP = 400;
  var BOX_H = 24, LANE_GAP = 4, ROW_PAD = 6, SPACE = 12, G_MIN = 10, PT_GAP = 12;
  var TEXT_PAD = 24, MAX_TEXT = 220, INF_EXT = 90, PAD = 14, NEVER = 1e300;
  var FONT = "12px system-ui, sans-serif";
  var RESULT_TEXT = { ok: "linearizable", illegal: "not linearizable", unknown: "unknown" };
  var measureCtx = document.createElement("canvas").getContext("2d");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function para(cls, pieces) {
    var p = el("p", cls);
    pieces.forEach(function (x) {
      p.appendChild(typeof x === "string" ? document.createTextNode(x) : x);
    });
    return p;
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function textWidth(s) {
    if (!measureCtx) return Math.min(MAX_TEXT, s.length * 7);
    measureCtx.font = FONT;
    return Math.min(MAX_TEXT, measureCtx.measureText(s).width);
  }

  // ---- the partition list ------------------------------------------------------------------

  var selected = -1;
  var cur = null;

  function renderList() {
    var q = filter.value.trim().toLowerCase();
    var frag = document.createDocumentFragment();
    var matched = 0, shown = 0;
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i];
      if (q && p[0].toLowerCase().indexOf(q) < 0 && p[1] !== q) continue;
      matched++;
      if (shown >= LIST_CAP && i !== selected) continue;
      shown++;
      var li = el("li", "r-" + p[1] + (i === selected ? " sel" : ""));
      li.dataset.i = String(i);
      li.title = (p[0] || "(whole history)") + ": " + RESULT_TEXT[p[1]] + ", " +
        plural(p[2], "operation");
      li.appendChild(el("span", "dot"));
      li.appendChild(el("span", "lbl", p[0] || "(whole history)"));
      li.appendChild(el("span", "cnt", String(p[2])));
      frag.appendChild(li);
    }
    plist.textContent = "";
    plist.appendChild(frag);
    var text = q ? matched + " of " + plural(parts.length, "partition") + " match" :
      plural(parts.length, "partition") + ", failures first";
    if (matched > shown) text += "; listing " + shown + ", filter to find others";
    listInfo.textContent = text;
  }

  function markSelected() {
    var old = plist.querySelector("li.sel");
    if (old) old.classList.remove("sel");
    var li = plist.querySelector('li[data-i="' + selected + '"]');
    if (!li) { renderList(); li = plist.querySelector('li[data-i="' + selected + '"]'); }
    if (li) { li.classList.add("sel"); li.scrollIntoView({ block: "nearest" }); }
  }

  function select(i) {
    if (!(i >= 0 && i < parts.length)) return;
    selected = i;
    if (parts.length > 1) markSelected();
    try { history.replaceState(null, "", "#p" + i); } catch (e) { /* file: URLs may refuse */ }
    var block = byId("viz-p" + i);
    var d = JSON.parse(block.textContent);
    cur = { d: d, lin: 0, widths: null, lay: null, tipOp: -1 };
    renderPartition();
  }

  function step(delta) {
    var li = plist.querySelector("li.sel");
    var next = li && (delta > 0 ? li.nextElementSibling : li.previousElementSibling);
    if (next) select(Number(next.dataset.i));
    else if (!li) select(selected + delta);
  }

  plist.addEventListener("click", function (e) {
    var li = e.target.closest("li");
    if (li) select(Number(li.dataset.i));
  });
  filter.addEventListener("input", renderList);
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
    if (e.key === "j" || e.key === "n") step(1);
    else if (e.key === "k" || e.key === "p") step(-1);
  });

  // ---- one partition -------------------------------------------------------------------------

  function renderPartition() {
    var d = cur.d;
    view.textContent = "";
    var h2 = el("h2");
    h2.appendChild(el("span", "verdict r-" + d.result, RESULT_TEXT[d.result]));
    h2.appendChild(document.createTextNode(" Partition "));
    h2.appendChild(el("span", "plabel", d.label || "(whole history)"));
    view.appendChild(h2);
    var clients = {};
    d.o.forEach(function (op) { clients[op[0]] = true; });
    var sub = para("sub", [plural(d.o.length, "operation") + " from " +
      plural(Object.keys(clients).length, "client") + ". "]);
    if (d.l.length > 1) {
      var label = el("label", null, "Linearization:");
      var sel = el("select");
      d.l.forEach(function (lin, k) {
        var opt = el("option", null, "#" + (k + 1) + ": " + lin.o.length + " of " +
          d.o.length + " operations" + (lin.x.length ? ", " + lin.x.length + " stuck" : ""));
        opt.value = String(k);
        sel.appendChild(opt);
      });
      sel.addEventListener("change", function () { cur.lin = Number(sel.value); drawBody(); });
      label.appendChild(sel);
      sub.appendChild(label);
    }
    view.appendChild(sub);
    cur.notes = el("div", "notes");
    view.appendChild(cur.notes);
    var legend = el("div", "legend");
    [["op", "operation (call to return)"], ["op lin", "linearized"],
      ["op stuck", "could not be linearized next"], ["op unk", "output unknown"],
      ["op inf", "never returned"]].forEach(function (x) {
      var s = el("span"); s.appendChild(el("span", x[0])); s.appendChild(document.createTextNode(x[1]));
      legend.appendChild(s);
    });
    var pt = el("span"); pt.appendChild(el("span", "swatch-pt"));
    pt.appendChild(document.createTextNode("linearization point, in order; hover for the state"));
    legend.appendChild(pt);
    view.appendChild(legend);
    cur.body = el("div");
    view.appendChild(cur.body);
    drawBody();
  }

  function stateText(d, lin, k) { return k < 0 ? d.s[d.init] : d.s[lin.s[k]]; }

  function drawNotes(d, lin) {
    var notes = cur.notes;
    notes.textContent = "";
    var n = d.o.length;
    if (!lin) {
      notes.appendChild(para(null, [d.result === "ok" ?
        "No linearization was recorded for this partition (the checker keeps them in verbose mode)." :
        "No linearization was recorded for this partition."]));
      return;
    }
    var m = lin.o.length;
    if (m === n && lin.x.length === 0) {
      notes.appendChild(para(null, ["A linearization of all " + plural(n, "operation") +
        ": the points mark an order in which every result is legal."]));
    } else {
      notes.appendChild(para(null, [(cur.lin === 0 ? "Longest partial linearization: " :
        "Partial linearization #" + (cur.lin + 1) + ": ") + m + " of " +
        plural(n, "operation") + ", in the order of the points."]));
    }
    if (lin.x.length) {
      notes.appendChild(para("bad", [plural(lin.x.length, "operation") +
        " (outlined in red) could not be linearized next: after " + plural(m, "operation") +
        " the state is ", el("span", "mono", stateText(d, lin, m - 1)),
        ", in which none of their results is legal."]));
    }
    if (lin.b !== undefined) {
      notes.appendChild(para("bad", ["The model rejected step " + (lin.b + 1) +
        " when replaying this linearization; it is shown up to there."]));
    }
    if (d.lt > d.l.length) {
      notes.appendChild(para(null, ["Showing " + d.l.length + " of the " + d.lt +
        " linearizations the checker kept."]));
    }
  }

  function layout(d, lin) {
    var ops = d.o, n = ops.length, S = Math.max(1, d.t.length), i, s;
    if (!cur.widths) {
      var byDesc = {};
      cur.widths = ops.map(function (op) {
        var w = byDesc[op[3]];
        if (w === undefined) w = byDesc[op[3]] = textWidth(d.s[op[3]]) + TEXT_PAD;
        return w;
      });
    }
    var tw = cur.widths;
    // Linearization points: each in its operation's interval, after the previous one. A point
    // goes to the latest of its call slot and the previous point's slot; the points sharing a
    // slot are spread inside it, and a slot is made wide enough for its points.
    var pos = new Int32Array(n).fill(-1), cnt = new Int32Array(S);
    var pslot = [], pwithin = [], prev = 0;
    var order = lin ? lin.o : [];
    order.forEach(function (oi, k) {
      var sl = Math.max(ops[oi][1], prev);
      pslot.push(sl); pwithin.push(cnt[sl]++); prev = sl; pos[oi] = k;
    });
    var G = new Float64Array(S);
    for (s = 0; s < S; s++) G[s] = Math.max(G_MIN, (cnt[s] + 1) * PT_GAP);
    var ending = [];
    for (i = 0; i < n; i++) {
      var r = ops[i][2];
      if (r >= 0) (ending[r] || (ending[r] = [])).push(i);
    }
    // Slot x positions, left to right: a gap after the previous slot, and room for the text of
    // every operation that returns in this slot.
    var X = new Float64Array(S);
    for (s = 0; s < S; s++) {
      var x = s === 0 ? 0 : X[s - 1] + G[s - 1] + SPACE;
      var e = ending[s];
      if (e) {
        for (var j = 0; j < e.length; j++) {
          var c = ops[e[j]][1];
          if (c === s) { if (tw[e[j]] > G[s]) G[s] = tw[e[j]]; }
          else x = Math.max(x, X[c] + tw[e[j]] - G[s]);
        }
      }
      X[s] = x;
    }
    var end = X[S - 1] + G[S - 1] + INF_EXT;
    for (i = 0; i < n; i++) if (ops[i][2] < 0) end = Math.max(end, X[ops[i][1]] + tw[i] + 40);
    // Rows: one per client, with extra lanes if a client's operations overlap.
    var byClient = {};
    for (i = 0; i < n; i++) (byClient[ops[i][0]] || (byClient[ops[i][0]] = [])).push(i);
    var clients = Object.keys(byClient).map(Number).sort(function (a, b) { return a - b; });
    var lane = new Int32Array(n), rows = [], y = 0;
    clients.forEach(function (cl) {
      var ids = byClient[cl].sort(function (a, b) { return ops[a][1] - ops[b][1] || a - b; });
      var ends = [];
      ids.forEach(function (oi) {
        var l = 0;
        while (l < ends.length && ends[l] >= ops[oi][1]) l++;
        ends[l] = ops[oi][2] < 0 ? NEVER : ops[oi][2];
        lane[oi] = l;
      });
      var h = ends.length * BOX_H + (ends.length - 1) * LANE_GAP + 2 * ROW_PAD;
      rows.push({ client: cl, top: y, height: h });
      ids.forEach(function (oi) { lane[oi] = y + ROW_PAD + lane[oi] * (BOX_H + LANE_GAP); });
      y += h;
    });
    var boxes = ops.map(function (op, oi) {
      var left = PAD + X[op[1]];
      var right = op[2] < 0 ? PAD + end : PAD + X[op[2]] + G[op[2]];
      return { left: left, width: right - left, top: lane[oi] };
    });
    var points = order.map(function (oi, k) {
      var sl = pslot[k];
      return { x: PAD + X[sl] + G[sl] * (pwithin[k] + 1) / (cnt[sl] + 1), y: lane[oi] + BOX_H - 1 };
    });
    return { boxes: boxes, rows: rows, points: points, pos: pos, width: end + 2 * PAD, height: y };
  }

  function drawBody() {
    var d = cur.d, lin = d.l[cur.lin];
    drawNotes(d, lin);
    cur.body.textContent = "";
    hideTip();
    if (d.o.length === 0) { cur.body.appendChild(el("p", "empty", "No operations.")); return; }
    var lay = layout(d, lin);
    cur.lay = lay;
    var stuck = {};
    if (lin) lin.x.forEach(function (i) { stuck[i] = true; });
    cur.stuck = stuck;

    var wrap = el("div", "tlwrap"), labels = el("div", "labels");
    var scroll = el("div", "tlscroll"), tl = el("div", "tl");
    var labelW = 0;
    lay.rows.forEach(function (row, r) {
      var text = "client " + row.client;
      labelW = Math.max(labelW, textWidth(text));
      var lab = el("div", null, text);
      lab.style.top = row.top + "px"; lab.style.height = row.height + "px";
      labels.appendChild(lab);
      if (r % 2 === 1) {
        var st = el("div", "stripe");
        st.style.top = row.top + "px"; st.style.height = row.height + "px";
        tl.appendChild(st);
      }
    });
    labels.style.width = Math.ceil(labelW + 22) + "px";
    labels.style.height = lay.height + "px";
    tl.style.width = Math.ceil(lay.width) + "px";
    tl.style.height = lay.height + "px";
    var frag = document.createDocumentFragment();
    d.o.forEach(function (op, i) {
      var b = lay.boxes[i];
      var cls = "op" + (lay.pos[i] >= 0 ? " lin" : "") + (stuck[i] ? " stuck" : "") +
        (op[2] < 0 ? " inf" : "") + (op[5] ? " unk" : "");
      var box = el("div", cls, d.s[op[3]]);
      box.dataset.i = String(i);
      box.style.left = b.left.toFixed(1) + "px";
      box.style.top = b.top + "px";
      box.style.width = b.width.toFixed(1) + "px";
      frag.appendChild(box);
    });
    tl.appendChild(frag);
    // The linearization points, drawn over the boxes (numbers only, built as markup).
    var svg = '<svg class="lp" width="' + Math.ceil(lay.width) + '" height="' + lay.height + '">';
    if (lay.points.length > 1) {
      svg += '<polyline points="' + lay.points.map(function (p) {
        return p.x.toFixed(1) + "," + p.y;
      }).join(" ") + '"/>';
    }
    svg += '<polyline class="hl" points=""/>';
    lay.points.forEach(function (p) {
      var x = p.x.toFixed(1);
      svg += '<circle cx="' + x + '" cy="' + p.y + '" r="4"/>';
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
    var target = -1;
    if (lin && lin.x.length) {
      target = lin.x.reduce(function (a, i) { return Math.min(a, lay.boxes[i].left); }, NEVER);
    }
    if (lin && lin.o.length < d.o.length && lay.points.length) {
      var last = lay.points[lay.points.length - 1].x;
      target = target < 0 ? last : Math.min(target, last);
    }
    if (target > scroll.clientWidth / 2) scroll.scrollLeft = target - scroll.clientWidth / 3;
  }

  // ---- tooltips ------------------------------------------------------------------------------

  function onHover(e) {
    var box = e.target.closest ? e.target.closest(".op") : null;
    if (!box) { hideTip(); return; }
    var i = Number(box.dataset.i);
    if (cur.tipOp !== i) {
      hideTip();
      cur.tipOp = i;
      cur.tipBox = box;
      box.classList.add("hov");
      fillTip(i);
      var k = cur.lay.pos[i];
      if (k >= 0 && cur.hl) {
        cur.hl.setAttribute("points", cur.lay.points.slice(0, k + 1).map(function (p) {
          return p.x.toFixed(1) + "," + p.y;
        }).join(" "));
      }
    }
    tip.hidden = false;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var x = e.clientX + 14, y = e.clientY + 16;
    if (x + w > window.innerWidth - 4) x = Math.max(4, e.clientX - w - 14);
    if (y + h > window.innerHeight - 4) y = Math.max(4, e.clientY - h - 12);
    tip.style.left = Math.max(4, x) + "px";
    tip.style.top = Math.max(4, y) + "px";
  }

  function hideTip() {
    tip.hidden = true;
    if (!cur) return;
    cur.tipOp = -1;
    if (cur.tipBox) { cur.tipBox.classList.remove("hov"); cur.tipBox = null; }
    if (cur.hl) cur.hl.setAttribute("points", "");
  }

  function fillTip(i) {
    var d = cur.d, op = d.o[i], lin = d.l[cur.lin], k = cur.lay.pos[i];
    tip.textContent = "";
    tip.appendChild(para("t-desc", [d.s[op[3]]]));
    tip.appendChild(para("t-dim", ["client " + op[0] + ", operation " + op[4] +
      " of the history"]));
    tip.appendChild(para("t-dim", ["called at " + d.t[op[1]] + ", " +
      (op[2] < 0 ? "never returned" : "returned at " + d.t[op[2]]) +
      (op[5] ? "; output unknown" : "")]));
    if (k >= 0) {
      tip.appendChild(para(null, ["linearized " + (k + 1) + " of " + lin.o.length +
        "; state after: ", el("span", "mono", stateText(d, lin, k))]));
    } else if (cur.stuck[i]) {
      tip.appendChild(para("t-bad", ["could not be linearized next: not a legal result in state ",
        el("span", "mono", stateText(d, lin, lin.o.length - 1))]));
    } else if (lin) {
      tip.appendChild(para("t-dim", ["not in this linearization"]));
    }
  }

  // ---- start ---------------------------------------------------------------------------------

  if (parts.length === 0) {
    view.appendChild(el("p", "empty", "No partitions were checked."));
    return;
  }
  if (parts.length > 1) { side.hidden = false; renderList(); }
  var m = /^#p(\\d+)$/.exec(location.hash);
  select(m && Number(m[1]) < parts.length ? Number(m[1]) : 0);
})();
`;
