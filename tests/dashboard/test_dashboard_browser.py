"""The dashboard in real headless Chromium during a real digits training run."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from dashboard_helpers import LiveRun, open_page, sync_playwright

# The README's screenshot is refreshed only on request (STRIATE_SHOTS=docs/images): a test run
# must not change the source tree.
SHOTS = Path(os.environ["STRIATE_SHOTS"]) if os.environ.get("STRIATE_SHOTS") else None


def _step(page) -> int:
    text = page.text_content("#now-step") or ""
    return int(text) if text.isdigit() else -1


def _loss_pixels(page) -> int:
    """How many pixels of the loss chart have the first run's line colour (#1f77b4)."""
    return page.evaluate("""() => {
        const c = document.getElementById('chart-loss');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4)
            if (Math.abs(d[i] - 31) < 40 && Math.abs(d[i + 1] - 119) < 40
                && Math.abs(d[i + 2] - 180) < 40 && d[i + 3] > 100) n++;
        return n; }""")


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_live_training_page(tmp_path):
    playwright = sync_playwright()
    run = LiveRun(tmp_path, "--epochs", "300", "--batch-size", "32")
    errors: list[str] = []
    try:
        with playwright() as p:
            browser, page = open_page(p, run.url, errors)

            # loss curve and accuracy update while the steps advance
            _wait(lambda: _step(page) > 0, 120, "the first step on the page")
            first = _step(page)
            _wait(lambda: _loss_pixels(page) > 30, 60, "the loss curve")
            _wait(lambda: _step(page) > first + 20, 60, "steps to advance")
            assert re.fullmatch(r"\d+\.\d%", page.text_content("#now-training") or "")
            _wait(lambda: "%" in (page.text_content("#now-validation") or ""), 120,
                  "the first epoch's validation accuracy")

            # change the learning rate from the page; find it in the trainer and the history
            page.fill("#set-lr", "0.0003")
            page.click("#apply")
            _wait(lambda: (page.text_content("#now-learning") or "") == "3.00e-4", 60,
                  "the trainer's new learning rate on the page")
            controls = json.loads((run.folder / "controls.json").read_text())
            assert controls[-1]["action"] == "set" and controls[-1]["lr"] == pytest.approx(3e-4)
            assert controls[-1]["step"] > 0
            epochs_before = len(json.loads((run.folder / "history.json").read_text()))

            def history_has_new_lr() -> bool:
                rows = json.loads((run.folder / "history.json").read_text())
                return len(rows) > epochs_before and rows[-1]["lr"] == pytest.approx(3e-4)

            _wait(history_has_new_lr, 120, "an epoch of the history with lr 3e-4")

            # pause: the step counter stops; resume: it moves again
            page.click("#pause")
            _wait(lambda: page.text_content("#now-state") == "PAUSED", 30, "the pause")
            paused_at = _step(page)
            time.sleep(2.0)
            assert _step(page) == paused_at
            assert page.text_content("#pause") == "Resume"

            # the drawing pad gives probabilities (computed between steps, also while paused)
            page.locator("#pad").scroll_into_view_if_needed()
            box = page.locator("#pad").bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + 25
            page.mouse.move(x, y)
            page.mouse.down()
            for i in range(12):
                page.mouse.move(x, y + 10 * i, steps=2)
            page.mouse.up()
            _wait(lambda: page.locator("#pred .bar").count() == 10, 30, "the pad's probabilities")
            cells = page.locator("#pred .bar span:last-child").all_text_contents()
            shares = [float(t.rstrip("%")) for t in cells]
            assert sum(shares) == pytest.approx(100, abs=1)

            # a page opened now replays the whole history: the same step, the same curve
            late = browser.new_page(viewport={"width": 1400, "height": 1000})
            late.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            late.goto(run.url)
            _wait(lambda: _step(late) == paused_at, 30, "a late page to replay the history")
            assert _loss_pixels(late) > 30 and late.locator("#control-log li").count() >= 2
            late.close()

            page.click("#pause")  # resume
            _wait(lambda: _step(page) > paused_at, 60, "training to resume")
            _wait(lambda: page.locator("#layers tr").count() > 5, 60, "the layer table")
            _wait(lambda: page.locator("#probes .probe").count() > 0, 60, "held-out examples")
            shots = SHOTS or tmp_path
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

            page.click("#stop-epoch")
            run.proc.wait(timeout=120)
            browser.close()
        assert run.proc.returncode == 0, "".join(run.stderr)
        history = json.loads((run.folder / "history.json").read_text())
        assert len(history) < 300
        assert not errors, errors
    finally:
        run.stop()


EVIL = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"


def _finished_run(folder: Path, seed: int, classes: list[str]) -> None:
    """A run folder as the publisher leaves it (events written by hand, deterministic)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    folder.mkdir()
    config = {"dataset": "digits", "model": "lenet5", "classes": classes}
    (folder / "config.json").write_text(json.dumps(config))
    evs = [{"t": "run", "step": 0, "epoch": 0, "epochs": 2, "model": "LeNet", "params": 61706,
            "classes": classes, "settings": {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0}}]
    for step in range(1, 81):
        evs.append({"t": "step", "step": step, "epoch": step // 40, "loss": 2.3 / step ** (0.3 + 0.1 * seed),
                    "acc": min(1.0, step / 60), "lr": 1e-3, "gnorm": float(rng.uniform(1, 3)),
                    "seen": 32 * step, "fwd_ms": 0.1, "bwd_ms": 0.2, "paused": False})
        if step % 40 == 0:
            evs.append({"t": "epoch", "step": step, "epoch": step // 40, "loss": 0.5, "accuracy": 0.9,
                        "val_loss": 0.4, "val_accuracy": 0.85 + 0.05 * seed,
                        "confusion": (np.eye(10, dtype=int) * 14 + 1).tolist()})
    evs.append({"t": "end", "step": 80, "epoch": 2})
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in evs))


def test_runs_side_by_side_and_names_shown_as_text(tmp_path):
    from striate.dashboard import DashboardServer, RunSource

    playwright = sync_playwright()
    _finished_run(tmp_path / EVIL, 0, [SCRIPT] + [str(i) for i in range(1, 10)])
    _finished_run(tmp_path / "second-run", 1, [str(i) for i in range(10)])
    server = DashboardServer([RunSource(tmp_path / EVIL), RunSource(tmp_path / "second-run")], port=0).start()
    errors: list[str] = []
    try:
        with playwright() as p:
            browser, page = open_page(p, server.url, errors)
            _wait(lambda: page.locator("#runs .run").count() == 2, 30, "both runs")
            _wait(lambda: _step(page) == 80, 30, "the first run's history")
            assert EVIL in page.text_content("#legend") and "second-run" in page.text_content("#legend")
            assert page.text_content("#now-run") == EVIL
            assert page.locator("img").count() == 0  # the name stayed text
            assert page.locator("#controls").is_hidden()  # a folder is watched, not controlled
            page.locator("#runs .run").nth(1).click()
            _wait(lambda: page.text_content("#now-run") == "second-run", 10, "the second run's panels")
            page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
            browser.close()
        assert not errors, errors
    finally:
        server.stop()
