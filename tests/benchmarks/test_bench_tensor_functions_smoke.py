"""Smoke test of benchmarks/bench_tensor_functions.py on tiny sizes: every case runs in both
libraries and reports finite times. No timing is asserted."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_tensor_functions.py"


def test_bench_tensor_functions_runs_on_tiny_sizes() -> None:
    import torch

    spec = importlib.util.spec_from_file_location("bench_tensor_functions", BENCH)
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    threads = torch.get_num_threads()
    try:
        rows = bench.run(repeats=1, scale=0.03)
    finally:
        torch.set_num_threads(threads)
    assert [r["case"] for r in rows] == list(bench.cases(0.03))
    for r in rows:
        assert math.isfinite(r["striate_ms"]) and math.isfinite(r["torch_ms"]) and r["ratio"] > 0
    assert "ratio" in bench.format_table(rows)
