"""Smoke test of benchmarks/bench_dashboard.py: one 1-epoch run with publisher, server and an
event-stream client (no timing asserted)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dashboard.py"


def test_bench_dashboard_runs(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_dashboard", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    seconds, size, cpu, own = bench.one_run("publisher+server+client", 1, tmp_path)  # uses everything
    assert size > 0  # the event log was written
    assert all(math.isfinite(v) for v in (seconds, cpu, own))  # measured, not judged (a smoke test)
