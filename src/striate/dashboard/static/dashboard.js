// striate dashboard: reads runs' event streams (server-sent events) and draws them.
// Every piece of data goes into the page through textContent or canvas, never as HTML.
"use strict";

const TOKEN = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"];
const runs = [];          // one state object per run
let selected = 0;
let drawQueued = false;

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
const $ = (id) => document.getElementById(id);
const fmt = (v, d = 4) => (v === null || v === undefined || Number.isNaN(v)) ? "–"
  : (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)) ? Number(v).toExponential(2) : Number(v).toPrecision(d);
const pct = (v) => (v === null || v === undefined) ? "–" : (100 * v).toFixed(1) + "%";

function api(path, options) {
  const opts = Object.assign({ headers: {} }, options || {});
  opts.headers["X-Striate-Token"] = TOKEN;
  return fetch(path, opts).then(async (r) => {
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
    return body;
  });
}

function newRun(info) {
  return { info, steps: [], epochs: [], layers: null, layerHist: [], probes: [], imgs: {},
           controls: [], run: null, lossFrom: 0, paused: false, ended: false, acc200: null, l2: null };
}

function handle(run, ev) {
  switch (ev.t) {
    case "run": run.run = ev; run.ended = false; break;
    case "step": run.steps.push(ev); run.paused = ev.paused; break;
    case "epoch": run.epochs.push(ev); break;
    case "layers":
      run.layers = ev;
      run.layerHist.push(ev.layers.map((l) => ({ act: l.act ? l.act.hist : null, agrad: l.agrad ? l.agrad.hist : null })));
      if (run.layerHist.length > 120) run.layerHist.shift();
      break;
    case "probe":
      for (const it of ev.items) {
        if (it.img) run.imgs[it.i] = it;
        run.probes.unshift(it);
      }
      run.probes.length = Math.min(run.probes.length, 16);
      run.acc200 = ev.acc_recent; run.nRecent = ev.n_recent; run.l2 = ev.l2_loss;
      break;
    case "control":
      run.controls.push(ev);
      if (ev.settings) run.settings = ev.settings;
      if (ev.batch_size) run.batchSize = ev.batch_size;
      break;
    case "state": run.paused = ev.paused; break;
    case "end": run.ended = true; break;
  }
}

function connect(run) {
  const src = new EventSource("/api/events?run=" + run.info.id + "&token=" + encodeURIComponent(TOKEN));
  src.onmessage = (m) => {
    let batch;
    try { batch = JSON.parse(m.data); } catch (e) { return; }
    for (const ev of batch) handle(run, ev);
    if (run.ended && run.info.live) src.close();  // the training process (and its server) ends
    queueDraw();
  };
  src.onerror = () => { setStatus(run.ended ? "run finished" : "event stream interrupted; retrying…"); };
}

function queueDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; draw(); });
}

function setStatus(text) { $("status").textContent = text; }

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
                   "dead ReLUs", "activation gradients", "histogram", "over time", "weights", "weight gradients", "update / weight", "feature maps (example 1)"])
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
              el("td", {}, l.ratio === undefined ? "" : fmt(l.ratio, 2)), mapsCell(l.map));
    table.append(tr);
  });
}

function drawControls(run) {
  const box = $("controls");
  box.classList.toggle("hidden", !(run.info.controls && !run.ended));
  $("controls-run").textContent = run.info.name;
  const b = $("pause");
  b.textContent = run.paused ? "Resume" : "Pause";
  b.classList.toggle("active", run.paused);
  const log = $("control-log"); log.replaceChildren();
  for (const c of run.controls.slice(-20)) {
    const parts = Object.entries(c).filter(([k]) => !["t", "settings", "step", "epoch"].includes(k))
      .map(([k, v]) => k + "=" + (Number.isInteger(v) ? String(v) : typeof v === "number" ? fmt(v) : String(v)));
    log.append(el("li", {}, "step " + c.step + ": " + parts.join(" ")));
  }
  const settings = run.settings || (run.run && run.run.settings);
  if (settings && !box.dataset.filled) {
    for (const k of ["lr", "momentum", "weight_decay"]) if (settings[k] !== null) $("set-" + k).value = settings[k];
    if (run.run && run.run.batch_size) $("set-batch_size").value = run.run.batch_size;
    box.dataset.filled = "1";
  }
}

function drawRuns() {
  const box = $("runs"); box.replaceChildren();
  runs.forEach((run, i) => {
    const b = el("span", { class: "run" + (i === selected ? " selected" : "") });
    const sw = el("span", { class: "swatch" }); sw.style.background = COLORS[i % COLORS.length];
    b.append(sw, document.createTextNode(run.info.name + (run.ended ? " (finished)" : run.info.live ? " (live)" : "")));
    b.addEventListener("click", () => { selected = i; $("controls").dataset.filled = ""; setupPad(); queueDraw(); });
    box.append(b);
  });
}

function draw() {
  if (!runs.length) return;
  const run = runs[selected];
  drawRuns(); drawCharts(); drawNow(run); drawProbes(run); drawConfusion(run); drawLayers(run); drawControls(run);
  const s = run.steps[run.steps.length - 1];
  setStatus(run.ended ? "run finished" : (s ? "step " + s.step + (run.paused ? " (paused)" : "") : "waiting for the first step…"));
}

// ------------------------------------------------------------------ controls
function control(body) {
  const run = runs[selected];
  $("control-msg").textContent = "";
  return api("/api/control?run=" + run.info.id, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  }).then(() => { $("control-msg").textContent = "sent: applied at the next step"; })
    .catch((e) => { $("control-msg").textContent = "refused: " + e.message; });
}

function setupControls() {
  $("pause").addEventListener("click", () => control({ action: runs[selected].paused ? "resume" : "pause" }));
  $("checkpoint").addEventListener("click", () => control({ action: "checkpoint" }));
  $("stop-epoch").addEventListener("click", () => control({ action: "stop_after_epoch" }));
  $("apply").addEventListener("click", () => {
    // send only what the user changed, so the run's log says what was meant
    const run = runs[selected], now = Object.assign({}, (run.run && run.run.settings) || {}, run.settings || {});
    now.batch_size = run.batchSize || (run.run && run.run.batch_size);
    const body = { action: "set" };
    for (const k of ["lr", "momentum", "weight_decay", "batch_size"]) {
      const v = $("set-" + k).value;
      if (v !== "" && Number(v) !== now[k]) body[k] = Number(v);
    }
    if (Object.keys(body).length === 1) { $("control-msg").textContent = "nothing changed"; return; }
    control(body);
  });
  $("clear-loss").addEventListener("click", () => {
    const run = runs[selected]; const s = run.steps[run.steps.length - 1];
    run.lossFrom = s ? s.step + 1 : 0; queueDraw();
  });
}

// ------------------------------------------------------------------ drawing pad and uploads
let padReady = false;
function setupPad() {
  const run = runs[selected];
  const digits = run.info.in_channels === 1 && ["digits", "mnist", "emnist", "kmnist"].includes(run.info.dataset);
  $("pad-box").classList.toggle("hidden", !digits);
  if (padReady) return;
  padReady = true;
  const pad = $("pad"), ctx = pad.getContext("2d");
  const clear = () => { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, pad.width, pad.height); };
  clear();
  let down = false, last = null;
  const pos = (e) => { const r = pad.getBoundingClientRect(); return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height]; };
  pad.addEventListener("mousedown", (e) => { down = true; last = pos(e); });
  pad.addEventListener("mousemove", (e) => {
    if (!down) return;
    const p = pos(e);
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 18; ctx.lineCap = "round";
    ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
    last = p;
  });
  const up = () => { if (down) { down = false; classifyPad(); } };
  pad.addEventListener("mouseup", up); pad.addEventListener("mouseleave", up);
  $("pad-clear").addEventListener("click", () => { clear(); $("pred").replaceChildren(); });
  $("upload").addEventListener("change", () => {
    const f = $("upload").files[0]; if (!f) return;
    f.arrayBuffer().then((buf) => predict(buf, f.type || "image/png"));
  });
}

function classifyPad() {
  // crop the ink's bounding box, centre it in a square with a margin, reduce to the dataset's size
  const pad = $("pad"), src = pad.getContext("2d").getImageData(0, 0, pad.width, pad.height).data;
  let x0 = pad.width, y0 = pad.height, x1 = -1, y1 = -1;
  for (let y = 0; y < pad.height; y++) for (let x = 0; x < pad.width; x++)
    if (src[4 * (y * pad.width + x)] > 20) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  if (x1 < 0) return;
  const side = runs[selected].info.pad_side, box = Math.max(x1 - x0, y1 - y0) + 1;
  const margin = side >= 20 ? 0.2 : 0.06, full = box / (1 - 2 * margin);
  const tmp = el("canvas", { width: String(side), height: String(side) }), t = tmp.getContext("2d");
  t.fillStyle = "#000"; t.fillRect(0, 0, side, side); t.imageSmoothingQuality = "high";
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  t.drawImage(pad, cx - full / 2, cy - full / 2, full, full, 0, 0, side, side);
  const d = t.getImageData(0, 0, side, side).data, pixels = [];
  for (let p = 0; p < side * side; p++) pixels.push(d[4 * p] / 255);
  predict(JSON.stringify({ width: side, height: side, pixels }), "application/json");
}

function predict(body, type) {
  const run = runs[selected];
  api("/api/predict?run=" + run.info.id, { method: "POST", headers: { "Content-Type": type }, body })
    .then((r) => {
      const box = $("pred"); box.replaceChildren();
      const order = r.probs.map((p, k) => [p, k]).sort((a, b) => b[0] - a[0]);
      for (const [p, k] of order) {
        const row = el("div", { class: "bar" });
        const m = el("meter", { min: "0", max: "1", value: String(p) });
        row.append(el("span", {}, className(run, k)), m, el("span", {}, (100 * p).toFixed(1) + "%"));
        box.append(row);
      }
    })
    .catch((e) => { const box = $("pred"); box.replaceChildren(el("div", {}, "could not classify: " + e.message)); });
}

// ------------------------------------------------------------------ start
function start() {
  setupControls();
  if (!TOKEN) { setStatus("no token: open the full URL printed in the terminal (…/#token=…)"); return; }
  api("/api/runs").then((list) => {
    for (const info of list) { const run = newRun(info); runs.push(run); connect(run); }
    setupPad(); queueDraw();
  }).catch((e) => setStatus("cannot load runs: " + e.message));
}
document.addEventListener("DOMContentLoaded", start);
