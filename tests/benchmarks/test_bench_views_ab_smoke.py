"""Smoke test of benchmarks/bench_views_ab.py: its workloads run once (tiny repeat count) and the
residual in-place workload computes torch's gradients. No timing is asserted."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

import striate as st

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_views_ab.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_views_ab", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_workloads_run_once() -> None:
    import striate.nn.functional as F

    bench = _load()
    workloads = bench._workloads(st, F)
    assert set(workloads) == {"ops10k", "views10k", "lenet_step", "inplace_view"}
    for name in ("ops10k", "views10k"):  # lenet_step: the network benchmarks' smoke tests run it
        best, median = bench._best_median(workloads[name], 1)
        assert 0 <= best <= median


def test_residual_workload_matches_torch() -> None:
    import torch

    bench = _load()
    grads = []
    for lib in (st, torch):
        run = bench._residual(lib)
        run()  # 20 steps of out = a * 2; out[:, :8] += b; (out * out).sum().backward()
        grads.append([t.grad.numpy() for t in run.inputs])
    for s, t in zip(*grads):
        np.testing.assert_allclose(s, t, rtol=1e-5)
