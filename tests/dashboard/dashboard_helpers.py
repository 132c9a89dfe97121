"""Shared helpers for the dashboard's browser tests: a real `striate train --dashboard` run and
headless Debian Chromium through Playwright (skipped with the reason when either is missing)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def sync_playwright():
    pw = pytest.importorskip("playwright.sync_api", reason="the browser tests need Playwright "
                                                            "(pip install 'striate[test]')")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"the browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    return pw.sync_playwright


def open_page(p, url: str, errors: list[str]):
    """Chromium (headless, Debian's) on `url`; console errors, page errors and dialogs (an
    injected alert) are appended to `errors`. Returns (browser, page)."""
    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    page.goto(url)
    return browser, page


class LiveRun:
    """`striate train ... --dashboard --port 0` in a subprocess; `url` once the server is up."""

    def __init__(self, out: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "striate.cli", "train", "--dashboard", "--port", "0", "--quiet",
             "--out", str(out), *args], cwd=out, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self.folder = None
        deadline = time.monotonic() + 180
        while (self.url is None or self.folder is None) and time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if line.startswith("dashboard: "):
                self.url = line.split(" ", 1)[1].strip()
            if line.startswith("run folder: "):
                folder = Path(line.split(": ", 1)[1].strip())
                self.folder = folder if folder.is_absolute() else out / folder
        if self.url is None or self.folder is None:
            self.stop()
            raise AssertionError("the dashboard did not start: " + "".join(self.stderr))

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
