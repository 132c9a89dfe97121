"""Smoke test of benchmarks/bench_startup.py: one fresh process is timed and every figure is a
positive number. No timing is asserted: speed lives in the benchmark script."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_startup.py"


def test_startup_benchmark_times_one_fresh_process() -> None:
    spec = importlib.util.spec_from_file_location("bench_startup", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    row = module.measure_once()
    assert set(row) == {"import_s", "first_step_s", "process_s", "import_cpu_s", "first_step_cpu_s"}
    assert all(math.isfinite(v) and v > 0 for v in row.values())
    assert row["process_s"] > row["import_s"]
