"""Smoke test of benchmarks/bench_ops.py: its functions run on tiny sizes and report sane rows.

No timing is asserted (speed lives in the benchmark script itself)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import striate as st

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_ops.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_ops", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_bench_ops_runs_on_tiny_sizes() -> None:
    import torch

    bench = _load()
    threads = torch.get_num_threads()
    kernels = st.config.get_kernels()
    try:
        rows = bench.run(batch=2, repeats=1, warmup=1)
    finally:
        torch.set_num_threads(threads)
        st.config.set_kernels(kernels)
    assert [r["layer"] for r in rows] == [layer.name for layer in bench.layers(2)]
    assert any("lenet" in r["layer"] for r in rows) and any("cifar" in r["layer"] for r in rows)
    for r in rows:
        for key in (
            "striate_fwd_ms",
            "torch_fwd_ms",
            "striate_bwd_ms",
            "torch_bwd_ms",
            "fwd_ratio",
            "bwd_ratio",
        ):
            assert r[key] > 0 and math.isfinite(r[key]), (r["layer"], key)
    table = bench.format_table(rows)
    assert "geometric mean ratio" in table and rows[0]["layer"] in table


def test_bench_layers_compute_the_same_as_torch() -> None:
    """The timed closures run the same computation in both libraries (no silently wrong benchmark)."""
    import numpy as np
    import torch

    bench = _load()
    for layer in bench.layers(2)[:4]:
        arrays = bench._arrays(layer)
        ys = bench._striate_fn(layer)(*[st.from_numpy(a) for a in arrays])
        yt = bench._torch_fn(layer)(*[torch.from_numpy(a) for a in arrays])
        np.testing.assert_allclose(ys.numpy(), yt.numpy(), rtol=1e-4, atol=1e-4)
