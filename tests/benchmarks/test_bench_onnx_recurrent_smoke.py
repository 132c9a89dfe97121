"""Smoke test of benchmarks/bench_onnx_recurrent.py on tiny sizes: every configuration exports,
runs in onnxruntime and agrees with striate (and PyTorch). No timing is asserted."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime", reason="the ONNX benchmark needs onnxruntime: pip install 'striate[onnx]'")
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_onnx_recurrent.py"


def test_quick_configurations_agree(tmp_path) -> None:
    spec = importlib.util.spec_from_file_location("bench_onnx_recurrent", BENCH)
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    for cfg in bench.configs(quick=True):
        r = bench.check(cfg, tmp_path, threads=1)
        assert r["error"] <= 1e-5, r
        assert r["torch_error"] is None or r["torch_error"] <= 1e-5, r
        assert all(math.isfinite(r[k]) for k in ("export_s", "striate_ms", "ort_ms")), r
