"""Smoke test of benchmarks/bench_dashboard.py: one 1-epoch run with publisher, server and an
event-stream client (no timing asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dashboard.py"


def test_bench_dashboard_runs(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_dashboard", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    seconds, size, cpu, own = bench.one_run("publisher+server+client", 1, tmp_path)  # uses everything
    assert seconds > 0 and size > 0 and cpu > 0 and 0 < own < seconds
