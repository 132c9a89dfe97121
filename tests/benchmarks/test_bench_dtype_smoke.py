"""Smoke test of benchmarks/bench_dtype.py: it runs on tiny sizes and reports every workload.

No timing is asserted (speed lives in the benchmark script itself)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dtype.py"


def test_measure_reports_each_workload() -> None:
    spec = importlib.util.spec_from_file_location("bench_dtype", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.measure(n_ops=60, n_small=100, repeats=1)
    assert set(result) == {"ops (fwd+bwd)", "t.dtype", "t.float()", "zeros(dtype=)",
                           "np.zeros(dtype=t.dtype)", "t.to(float64)"}
    assert all(ns >= 0 for ns in result.values())
    assert bench.dtype_calls_on_hot_path(60) == {}  # the op path never touches the dtype objects
