"""Smoke test of benchmarks/bench_vision2.py on tiny images: every case runs in both libraries and
reports finite times. No timing is asserted."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_vision2.py"


def test_bench_vision2_runs_on_tiny_images() -> None:
    import torch

    spec = importlib.util.spec_from_file_location("bench_vision2", BENCH)
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    threads = torch.get_num_threads()
    try:
        rows = bench.run(repeats=1, side=32, models=("squeezenet1_1",))  # the small one
    finally:
        torch.set_num_threads(threads)
    assert len(rows) == 3
    for r in rows:
        assert math.isfinite(r["striate_ms"]) and math.isfinite(r["torch_ms"]) and r["ratio"] > 0
    assert "ratio" in bench.format_table(rows)
