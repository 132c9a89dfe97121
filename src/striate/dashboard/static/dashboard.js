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
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 22; ctx.lineCap = "round";
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
