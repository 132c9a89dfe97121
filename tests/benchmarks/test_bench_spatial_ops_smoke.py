"""Smoke test of benchmarks/bench_spatial_ops.py on tiny sizes: every case runs in both libraries
and reports finite times. No timing is asserted."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_bench_spatial_ops_runs_on_tiny_sizes(monkeypatch) -> None:
    import torch

    import striate as st

    monkeypatch.syspath_prepend(str(BENCHMARKS))  # it imports bench_tensor_functions, as when run
    spec = importlib.util.spec_from_file_location("bench_spatial_ops", BENCHMARKS / "bench_spatial_ops.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)
    spec.loader.exec_module(bench)
    threads, own_threads = torch.get_num_threads(), st.config.get_num_threads()
    try:
        rows = bench.run(repeats=1, threads=1, scale=0.03)
    finally:
        torch.set_num_threads(threads)
        st.config.set_num_threads(own_threads)
    assert [r["case"] for r in rows] == list(bench.cases(0.03))
    for r in rows:
        assert math.isfinite(r["striate_ms"]) and math.isfinite(r["torch_ms"]) and r["ratio"] > 0
