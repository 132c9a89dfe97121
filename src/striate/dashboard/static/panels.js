// striate dashboard, the pictures: charts and the panels of a run (canvas and textContent
// only). The state, streams and controls are in dashboard.js, loaded after this file.
"use strict";

// ------------------------------------------------------------------ charts
function chart(canvas, series, opts) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, L = 52, R = 8, T = 8, B = 22;
  ctx.clearRect(0, 0, W, H);
  const pts = series.flatMap((s) => s.points).filter((p) => p[1] !== null && Number.isFinite(p[1]));
  ctx.fillStyle = "#778"; ctx.font = "11px sans-serif";
  if (!pts.length) { ctx.fillText("no data yet", L, H / 2); return; }
  const tf = (opts && opts.log) ? (v) => Math.log10(Math.max(v, 1e-12)) : (v) => v;
  let x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
  let y0 = Math.min(...pts.map((p) => tf(p[1]))), y1 = Math.max(...pts.map((p) => tf(p[1])));
  if (opts && opts.range) { y0 = opts.range[0]; y1 = opts.range[1]; }
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y1 += 0.5; y0 -= 0.5; }
  const X = (x) => L + (x - x0) / (x1 - x0) * (W - L - R);
  const Y = (y) => T + (1 - (tf(y) - y0) / (y1 - y0)) * (H - T - B);
  ctx.strokeStyle = "#ccd"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(L, T); ctx.lineTo(L, H - B); ctx.lineTo(W - R, H - B); ctx.stroke();
  const lab = (v) => (opts && opts.log) ? fmt(Math.pow(10, v), 2) : fmt(v, 3);
  ctx.fillText(lab(y1), 2, T + 8); ctx.fillText(lab(y0), 2, H - B);
  ctx.fillText(String(Math.round(x0)), L, H - 6);
  const xl = String(Math.round(x1)) + " " + ((opts && opts.xlabel) || "steps");
  ctx.fillText(xl, W - R - ctx.measureText(xl).width, H - 6);
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.fillStyle = s.color; ctx.lineWidth = s.width || 1.5;
    if (s.dots) {
      for (const p of s.points) if (p[1] !== null) { ctx.beginPath(); ctx.arc(X(p[0]), Y(p[1]), 3, 0, 7); ctx.fill(); }
      continue;
    }
    ctx.beginPath();
    let started = false;
    for (const p of s.points) {
      if (p[1] === null || !Number.isFinite(p[1])) { started = false; continue; }
      if (started) ctx.lineTo(X(p[0]), Y(p[1])); else { ctx.moveTo(X(p[0]), Y(p[1])); started = true; }
    }
    ctx.stroke();
  }
}

function smooth(points, k) {
  const out = []; let sum = 0; const q = [];
  for (const p of points) {
    if (p[1] === null) continue;
    q.push(p[1]); sum += p[1];
    if (q.length > k) sum -= q.shift();
    out.push([p[0], sum / q.length]);
  }
  return out;
}

function drawCharts() {
  const loss = [], acc = [], lr = [], gn = [];
  runs.forEach((run, i) => {
    const c = COLORS[i % COLORS.length];
    const st = run.steps;
    loss.push({ color: c, width: 1, points: st.filter((s) => s.step >= run.lossFrom).map((s) => [s.step, s.loss]) });
    acc.push({ color: c, points: smooth(st.map((s) => [s.step, s.acc]), 20) });
    acc.push({ color: c, dots: true, points: run.epochs.filter((e) => e.val_accuracy !== undefined).map((e) => [e.step, e.val_accuracy]) });
    lr.push({ color: c, points: st.map((s) => [s.step, s.lr]) });
    gn.push({ color: c, points: st.map((s) => [s.step, s.gnorm]) });
  });
  chart($("chart-loss"), loss, { log: true });
  chart($("chart-acc"), acc, { range: [0, 1] });
  chart($("chart-lr"), lr, { log: true });
  chart($("chart-gnorm"), gn, { log: true });
  const legend = $("legend"); legend.replaceChildren();
  runs.forEach((run, i) => {
    const item = el("span");
    const sw = el("span", { class: "swatch" }); sw.style.background = COLORS[i % COLORS.length];
    item.append(sw, document.createTextNode(run.info.name));
    legend.append(item);
  });
  legend.append(el("span", { class: "dim" }, "lines: training (mean of the last 20 points); dots: validation"));
  drawCompare();
}

function drawCompare() {  // the runs side by side, one row each
  const table = $("compare"); table.replaceChildren();
  if (runs.length < 2) return;
  const head = el("tr");
  for (const h of ["run", "model", "steps", "epochs", "last loss", "best validation accuracy", "learning rate", "state"])
    head.append(el("th", {}, h));
  table.append(head);
  for (const run of runs) {
    const s = run.steps[run.steps.length - 1] || {};
    const vals = run.epochs.map((e) => e.val_accuracy).filter((v) => v !== undefined && v !== null);
    const tr = el("tr");
    for (const v of [run.info.name, (run.run && run.run.model) || run.info.model, String(s.step ?? "–"),
                     String(run.epochs.length), fmt(s.loss), vals.length ? pct(Math.max(...vals)) : "–",
                     fmt(s.lr), run.ended ? "finished" : run.paused ? "paused" : "running"])
      tr.append(el("td", {}, v));
    table.append(tr);
  }
}

// ------------------------------------------------------------------ panels of the selected run
function drawNow(run) {
  const s = run.steps[run.steps.length - 1] || {};
  const e = run.epochs[run.epochs.length - 1] || {};
  const r = run.run || {};
  const recent = run.steps.slice(-20);
  const trainAcc = recent.length ? recent.reduce((a, b) => a + b.acc, 0) / recent.length : null;
  const rows = [
    ["state", run.ended ? "finished" : run.paused ? "PAUSED" : (run.info.live ? "training" : "from its folder")],
    ["step", s.step === undefined ? "–" : String(s.step)],
    ["epoch", (s.epoch === undefined ? "–" : String(s.epoch + 1)) + (r.epochs ? " / " + r.epochs : "")],
    ["examples seen", s.seen === undefined ? "–" : String(s.seen)],
    ["forward time per example", fmt(s.fwd_ms, 3) + " ms"],
    ["backward + update per example", fmt(s.bwd_ms, 3) + " ms"],
    ["classification loss", fmt(s.loss)],
    ["L2 weight-decay loss", fmt(run.l2)],
    ["training accuracy (last steps)", pct(trainAcc)],
    ["validation accuracy (last epoch)", pct(e.val_accuracy)],
    ["accuracy on the last " + (run.nRecent || 200) + " held-out", pct(run.acc200)],
    ["learning rate", fmt(s.lr)],
    ["gradient norm", fmt(s.gnorm)],
    ["model", (r.model || run.info.model) + (r.params ? " (" + r.params + " parameters)" : "")],
  ];
  const table = $("now"); table.replaceChildren();
  for (const [k, v] of rows) {
    const tr = el("tr"); tr.append(el("td", {}, k), el("td", { id: "now-" + k.split(" ")[0] }, v)); table.append(tr);
  }
  $("now-run").textContent = run.info.name;
}

function drawImage(canvas, it) {
  const bytes = Uint8Array.from(atob(it.img), (ch) => ch.charCodeAt(0));
  canvas.width = it.w; canvas.height = it.h;
  const ctx = canvas.getContext("2d"), im = ctx.createImageData(it.w, it.h), n = it.w * it.h;
  for (let p = 0; p < n; p++) {
    const r = bytes[p], g = it.c === 3 ? bytes[n + p] : r, b = it.c === 3 ? bytes[2 * n + p] : r;
    im.data.set([r, g, b, 255], 4 * p);
  }
  ctx.putImageData(im, 0, 0);
}

function className(run, k) { return (run.info.classes[k] !== undefined) ? run.info.classes[k] : String(k); }

function drawProbes(run) {
  const box = $("probes"); box.replaceChildren();
  for (const it of run.probes) {
    const img = run.imgs[it.i]; if (!img) continue;
    const right = it.top[0][0] === it.label;
    const div = el("div", { class: "probe " + (right ? "right" : "wrong") });
    const c = el("canvas"); drawImage(c, img); div.append(c);
    div.append(el("div", {}, "true: " + className(run, it.label)));
    for (const [k, p] of it.top) div.append(el("div", {}, className(run, k) + " " + (100 * p).toFixed(1) + "%"));
    box.append(div);
  }
  $("probe-acc").textContent = run.acc200 === null ? "" : "accuracy on the last " + run.nRecent + ": " + pct(run.acc200);
}

function drawConfusion(run) {
  const canvas = $("confusion"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const last = [...run.epochs].reverse().find((e) => e.confusion);
  ctx.fillStyle = "#778"; ctx.font = "11px sans-serif";
  if (!last) { ctx.fillText("after the first epoch", 10, 20); return; }
  // computed when the publisher's time budget allows, so it may be an earlier epoch's
  $("confusion-epoch").textContent = "(validation after epoch " + last.epoch + "; rows: true class)";
  const m = last.confusion, k = m.length, off = 70, cell = Math.floor((canvas.width - off) / k);
  for (let i = 0; i < k; i++) {
    const total = m[i].reduce((a, b) => a + b, 0) || 1;
    ctx.fillStyle = "#334"; ctx.fillText(className(run, i).slice(0, 10), 2, off + i * cell + cell / 2 + 4);
    for (let j = 0; j < k; j++) {
      const f = m[i][j] / total;
      ctx.fillStyle = i === j ? `rgba(40,150,60,${0.1 + 0.9 * f})` : `rgba(210,50,40,${f > 0 ? 0.15 + 0.85 * f : 0})`;
      ctx.fillRect(off + j * cell, off + i * cell, cell - 1, cell - 1);
      if (cell >= 22 && m[i][j]) { ctx.fillStyle = "#112"; ctx.fillText(String(m[i][j]), off + j * cell + 3, off + i * cell + cell / 2 + 4); }
    }
  }
  ctx.save(); ctx.fillStyle = "#334";
  for (let j = 0; j < k; j++) {
    ctx.save(); ctx.translate(off + j * cell + cell / 2 + 4, off - 4); ctx.rotate(-Math.PI / 2);
    ctx.fillText(className(run, j).slice(0, 10), 0, 0); ctx.restore();
  }
  ctx.restore();
}

function histCanvas(hist) {
  const c = el("canvas", { width: "72", height: "22" }), ctx = c.getContext("2d");
  // log counts: gradients are heavy-tailed, a linear scale shows one spike
  const mx = Math.log1p(Math.max(...hist, 1)), w = 72 / hist.length;
  ctx.fillStyle = "#4a7ab0";
  hist.forEach((v, i) => { const h = 21 * Math.log1p(v) / mx; ctx.fillRect(i * w, 22 - h, Math.max(w - 0.5, 1), h); });
  return c;
}

function heatCanvas(run, li, key) {
  const cols = run.layerHist.map((h) => h[li] && h[li][key]).filter(Boolean);
  const c = el("canvas", { width: "120", height: "24" }), ctx = c.getContext("2d");
  if (!cols.length) return c;
  // x: ticks (oldest left), y: the tick's bins from its min (bottom) to its max (top)
  const bins = cols[0].length, bh = 24 / bins, cw = 120 / cols.length;
  cols.forEach((hist, x) => {
    const mx = Math.log1p(Math.max(...hist, 1));
    hist.forEach((v, b) => {
      ctx.fillStyle = `rgba(30,60,140,${Math.log1p(v) / mx})`;
      ctx.fillRect(x * cw, 24 - (b + 1) * bh, Math.ceil(cw), bh);
    });
  });
  return c;
}

function mapsCell(map) {
  const td = el("td", { class: "maps" });
  if (!map) return td;
  const bytes = Uint8Array.from(atob(map.data), (ch) => ch.charCodeAt(0)), n = map.h * map.w;
  for (let ch = 0; ch < map.c; ch++) {
    const c = el("canvas", { width: String(map.w), height: String(map.h) }), ctx = c.getContext("2d");
    const im = ctx.createImageData(map.w, map.h);
    for (let p = 0; p < n; p++) { const v = bytes[ch * n + p]; im.data.set([v, v, v, 255], 4 * p); }
    ctx.putImageData(im, 0, 0); td.append(c);
  }
  return td;
}

const range = (s) => s ? fmt(s.min, 3) + " … " + fmt(s.max, 3) : "–";

function drawLayers(run) {
  const table = $("layers"); table.replaceChildren();
  const head = el("tr");
  for (const h of ["layer", "params", "output", "activations min … max", "histogram", "histogram over time",
                   "dead ReLUs", "activation gradients", "histogram", "over time", "weights", "weight gradients", "update / weight", "filters (input channel 1)", "feature maps (example 1)"])
    head.append(el("th", {}, h));
  table.append(head);
  if (!run.layers) return;
  run.layers.layers.forEach((l, li) => {
    const tr = el("tr");
    tr.append(el("td", {}, l.name + " (" + l.type + ")"), el("td", {}, String(l.params)),
              el("td", {}, l.shape ? l.shape.join("×") : "–"), el("td", {}, range(l.act)));
    const h1 = el("td"); if (l.act) h1.append(histCanvas(l.act.hist)); tr.append(h1);
    const h2 = el("td"); h2.append(heatCanvas(run, li, "act")); tr.append(h2);
    tr.append(el("td", {}, l.dead === undefined ? "" : pct(l.dead)), el("td", {}, range(l.agrad)));
    const h3 = el("td"); if (l.agrad) h3.append(histCanvas(l.agrad.hist)); tr.append(h3);
    const h4 = el("td"); h4.append(heatCanvas(run, li, "agrad")); tr.append(h4);
    tr.append(el("td", {}, range(l.w)), el("td", {}, range(l.wgrad)),
              el("td", {}, l.ratio === undefined ? "" : fmt(l.ratio, 2)), mapsCell(l.filters), mapsCell(l.map));
    table.append(tr);
  });
}
