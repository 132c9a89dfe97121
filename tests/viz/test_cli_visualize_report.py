"""`striate visualize` and `striate report` on a short digits run; the report opened in real
headless Chromium (Playwright, Debian's /usr/bin/chromium) without console errors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from striate.cli import EXIT_RUN, EXIT_USAGE, main
from striate.viz.cli_visualize import WHAT

pytest.importorskip("matplotlib", reason="the pictures need matplotlib (striate[viz])")
pytest.importorskip("PIL", reason="the pictures need Pillow (striate[viz])")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("runs")
    assert main(["train", "--epochs", "2", "--out", str(base), "--quiet"]) == 0
    (run,) = [p for p in base.iterdir() if p.is_dir()]
    return run


def test_visualize_writes_every_kind(run_folder, tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "pics"
    assert main(["visualize", str(run_folder), "--what", "all", "--steps", "8", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    for name in ["filters.png", "saliency.png", "gradcam.png", "maximize.png", "dream.png", "graph.svg",
                 "activations.txt"]:
        assert str(out / name) in printed and (out / name).stat().st_size > 0, name
    assert any(p.startswith(str(out / "activations-")) for p in printed)
    for png in out.glob("*.png"):
        img = np.asarray(Image.open(png).convert("L"), np.float64)
        assert img.shape[0] > 50 and img.std() > 5, f"{png.name} looks blank"
    assert "<svg" in (out / "graph.svg").read_text()
    assert len(WHAT) == 7


def test_visualize_named_layer_class_and_image(run_folder, tmp_path):
    npy = tmp_path / "x.npy"
    np.save(npy, np.random.default_rng(0).random((8, 8)).astype(np.float32))
    out = tmp_path / "p"
    assert main(["visualize", str(run_folder), "--what", "gradcam,filters", "--layer", "conv2",
                 "--class", "3", "--image", str(npy), "--out", str(out)]) == 0
    assert (out / "gradcam.png").exists() and (out / "filters.png").exists()


@pytest.mark.parametrize("argv, message", [
    (["--what", "colours"], "unknown colours"),
    (["--layer", "nope"], "not a module"),
    (["--class", "12"], "out of range"),
])
def test_visualize_bad_options_give_one_line_errors(run_folder, tmp_path, argv, message, capsys):
    assert main(["visualize", str(run_folder), *argv, "--out", str(tmp_path)]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert re.search(message, err) and "\n" not in err and err.startswith("striate visualize: error:")


def test_report_in_headless_chromium(run_folder, tmp_path):
    out = tmp_path / "report.html"
    assert main(["report", str(run_folder), "--out", str(out)]) == 0
    text = out.read_text()
    assert "http://" not in text and "https://" not in text, "the page must be self-contained"
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1150, "height": 900})
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(out.as_uri())
            page.wait_for_load_state("load")
            assert errors == []
            assert page.eval_on_selector("#curves", "e => e.complete && e.naturalWidth") > 300
            assert page.eval_on_selector("#filters", "e => e.complete && e.naturalWidth") > 50
            assert page.locator("#confusion tr").count() == 11
            assert page.locator("#confusion td").count() == 100
            texts = page.locator("#confusion td").all_inner_texts()
            cells = np.array([int(t) for t in texts]).reshape(10, 10)
            acc = float(page.inner_text("#test-accuracy").rstrip("%")) / 100
            assert abs(np.trace(cells) / cells.sum() - acc) < 1e-4
            assert page.locator(".wrong img").count() > 0
            assert "Total params" in page.inner_text("#summary")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_report_on_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == EXIT_RUN
    err = capsys.readouterr().err.strip()
    assert "not a striate run folder" in err and "\n" not in err
