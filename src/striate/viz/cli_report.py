"""`striate report RUN [--out FILE]`: one self-contained HTML page about a trained run.

Loss / accuracy / learning-rate curves from history.json, the test confusion matrix (an HTML
table), the most confidently wrong test images with their top-3 probabilities, the first layer's
filters, per-layer activation statistics and the summary table. Pictures are PNGs embedded as
data: URIs, so the page opens anywhere with no other file and no network.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

_CSS = """body{font-family:DejaVu Sans,Arial,sans-serif;margin:24px;max-width:1100px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
table.cm td,table.cm th{width:34px;height:26px;text-align:center;font-size:12px}
table.cm th.row{text-align:right;width:auto;padding-right:6px}
table.stats td,table.stats th{padding:2px 8px;font-size:12px;text-align:right}
.wrong{display:inline-block;margin:4px;text-align:center;font-size:11px;width:120px;vertical-align:top}
.wrong img{width:84px;height:84px;image-rendering:pixelated;border:1px solid #999}
pre{font-size:11px;background:#f6f6f6;padding:8px;overflow-x:auto}"""


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="one self-contained HTML page about a trained run",
                       description="Write an HTML report of a run: curves, confusion matrix, most "
                                   "confidently wrong test images, filters, activation statistics, "
                                   "summary (needs matplotlib and Pillow: pip install 'striate[viz]').")
    p.add_argument("run", help="run folder written by `striate train`")
    p.add_argument("--out", default=None, help="HTML file to write (default RUN/report.html)")
    p.add_argument("--wrong", type=int, default=12, help="how many wrong test images to show (default 12)")


def _png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figure_uri(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return _png_uri(buf.getvalue())


def _image_uri(img: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)).save(buf, format="PNG")
    return _png_uri(buf.getvalue())


def curves_figure(history: list[dict]) -> Any:
    from striate.viz._common import new_figure

    fig = new_figure(figsize=(11, 3.2))
    epochs = [r["epoch"] for r in history]
    for i, (key, title) in enumerate((("loss", "loss"), ("accuracy", "accuracy"), ("lr", "learning rate"))):
        ax = fig.add_subplot(1, 3, i + 1)
        for prefix, style in (("", "o-"), ("val_", "s--")):
            values = [r.get(prefix + key) for r in history]
            if any(v is not None for v in values) and not (prefix and key == "lr"):
                ax.plot(epochs, values, style, label=(prefix or "train_").rstrip("_"))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if key != "lr":
            ax.legend(fontsize=8)
        else:
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3), useOffset=False)
    fig.subplots_adjust(wspace=0.35)
    return fig


def confusion_table(cm: np.ndarray, classes: list[str]) -> str:
    top = max(int(cm.max()), 1)
    rows = ['<table class="cm" id="confusion"><tr><th class="row">true \\ predicted</th>'
            + "".join(f'<th title="{html.escape(c)}">{i}</th>' for i, c in enumerate(classes)) + "</tr>"]
    for i, row in enumerate(cm):
        cells = []
        for j, v in enumerate(row):
            shade = int(255 - 200 * (v / top) ** 0.5)
            colour = f"rgb({shade},{shade},255)" if i == j else f"rgb(255,{shade},{shade})"
            cells.append(f'<td style="background:{colour}">{int(v)}</td>')
        rows.append(f'<tr><th class="row">{i} {html.escape(classes[i])}</th>{"".join(cells)}</tr>')
    return "\n".join([*rows, "</table>"])


def wrong_gallery(x: np.ndarray, y: np.ndarray, probs: np.ndarray, classes: list[str], n: int) -> str:
    from striate.viz.display import to_rgb

    pred = probs.argmax(1)
    wrong = np.nonzero(pred != y)[0]
    wrong = wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:n]
    items = []
    for i in wrong:
        top3 = np.argsort(-probs[i])[:3]
        lines = "<br>".join(f"{html.escape(classes[k])} {100 * probs[i, k]:.1f}%" for k in top3)
        items.append(f'<div class="wrong"><img src="{_image_uri(to_rgb(x[i]))}" alt="test image {i}"><br>'
                     f"#{i}, true <b>{html.escape(classes[int(y[i])])}</b><br>{lines}</div>")
    return "\n".join(items) or "<p>No wrong test image.</p>"


def stats_table(acts: Any) -> str:
    head = "<tr><th>layer</th><th>type</th><th>shape</th><th>mean</th><th>std</th><th>dead ReLUs</th></tr>"
    rows = [head]
    for s in acts.stats():
        dead = "" if s["dead_fraction"] is None else f"{100 * s['dead_fraction']:.1f}%"
        rows.append(f"<tr><td>{html.escape(s['name'])}</td><td>{s['type']}</td><td>{s['shape']}</td>"
                    f"<td>{s['mean']:.4f}</td><td>{s['std']:.4f}</td><td>{dead}</td></tr>")
    return '<table class="stats" id="activation-stats">' + "".join(rows) + "</table>"


def build_report(folder: str, n_wrong: int = 12) -> str:
    """The report's HTML text for the run in `folder`."""
    from striate.summary import summary
    from striate.viz._common import require
    from striate.viz.conv_filters import filters
    from striate.viz.feature_maps import activations
    from striate.viz.run_data import load_run, probabilities

    require("matplotlib")
    require("PIL")
    view = load_run(folder)
    history_path = view.folder / "history.json"
    history = json.loads(history_path.read_text()) if history_path.exists() else []
    x, y = view.test_set()
    probs = probabilities(view.model, x)
    pred = probs.argmax(1)
    k = len(view.classes)
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (y, pred), 1)
    acc = float((pred == y).mean())
    cfg = view.cfg
    name = html.escape(view.folder.name)
    curves = (f'<img id="curves" alt="training curves" src="{_figure_uri(curves_figure(history))}">'
              if history else "<p>No history.json in this run.</p>")
    wrong = wrong_gallery(x, y, probs, view.classes, n_wrong)
    filters_img = f'<img id="filters" alt="filters" src="{_figure_uri(filters(view.model))}">'
    table = html.escape(str(summary(view.model, view.input_shape)))
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>striate report: {name}</title>"
             f"<style>{_CSS}</style></head><body>", f"<h1>{name}</h1>",
             f"<p>{html.escape(cfg.model)} on {html.escape(cfg.dataset)}, {len(history)} epochs, optimizer "
             f"{html.escape(cfg.optimizer)} lr {cfg.lr}, batch {cfg.batch_size}. Test accuracy "
             f"<b id='test-accuracy'>{100 * acc:.2f}%</b> on {len(y)} images (best checkpoint).</p>",
             "<h2>Training curves</h2>", curves,
             "<h2>Confusion matrix (test set)</h2>", confusion_table(cm, view.classes),
             f"<h2>Most confidently wrong test images</h2>{wrong}",
             f"<h2>First-layer filters</h2>{filters_img}",
             "<h2>Activation statistics (64 test images)</h2>", stats_table(activations(view.model, x[:64])),
             f"<h2>Summary</h2><pre id='summary'>{table}</pre>", "</body></html>"]
    return "\n".join(parts)


def run(args: argparse.Namespace) -> int:
    from striate.io_atomic import atomic_write_text

    out = Path(args.out) if args.out else Path(args.run) / "report.html"
    try:
        text = build_report(args.run, args.wrong)
    except ImportError as e:
        raise SystemExit(f"error: {e}") from None
    atomic_write_text(out, text)
    print(out)
    return 0
