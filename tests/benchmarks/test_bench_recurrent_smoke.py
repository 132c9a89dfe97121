"""Smoke test of benchmarks/bench_recurrent.py on tiny sizes: both libraries' timed training
steps compute the same thing, and the worker and table run. No timing is asserted."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_recurrent.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_recurrent", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_training_steps_compute_the_same_in_both_libraries() -> None:
    bench = _load()
    for cfg in bench.configs(quick=True):
        built = {lib: bench.build(lib, cfg) for lib in ("striate", "torch")}
        losses = {lib: [bench.train_step(lib, *built[lib]) for _ in range(3)] for lib in built}
        np.testing.assert_allclose(losses["striate"], losses["torch"], rtol=1e-5)
        for ps, pt in zip(built["striate"][3], built["torch"][3]):  # parameters after 3 SGD steps
            np.testing.assert_allclose(ps.numpy(), pt.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_worker_and_table_run() -> None:
    import torch

    bench = _load()
    threads = torch.get_num_threads()
    try:
        info = bench.worker("striate", bench.configs(quick=True)[0], repeats=1, warmup=0)
        info_t = bench.worker("torch", bench.configs(quick=True)[0], repeats=1, warmup=0)
    finally:
        torch.set_num_threads(threads)
    assert math.isfinite(info["seconds"]) and math.isfinite(info_t["seconds"]) and "threads" in info
    rows = [{"config": "x", "striate_s": 1.0, "torch_s": 2.0, "ratio": 2.0}]
    assert "| x | 1.000 | 2.000 | 2.00 |" in bench.format_table(rows)
