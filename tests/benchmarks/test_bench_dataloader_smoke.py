"""Smoke test of benchmarks/bench_dataloader.py on tiny sizes: both libraries load the same
samples and the same number of batches; the timing code runs. No timing is asserted."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dataloader.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_dataloader", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_both_libraries_load_the_same_epochs() -> None:
    import torch

    import striate as st

    bench = _load()
    for kind, (n, shape) in bench.QUICK.items():
        ours = bench.Images(kind, n, shape, st.from_numpy)
        theirs = bench.Images(kind, n, shape, torch.from_numpy)
        for i in (0, n - 1):
            np.testing.assert_array_equal(ours[i][0].numpy(), theirs[i][0].numpy())
        expected = math.ceil(n / 64)
        for lib, workers in (("striate", 0), ("striate", 2), ("torch", 0)):
            seconds, batches = bench.epoch_seconds(lib, kind, n, shape, workers, repeats=1)
            assert batches == expected and math.isfinite(seconds)
    assert "| numpy | 2 |" in bench.format_table([{"workload": "numpy", "num_workers": 2, "striate_s": 1.0,
                                                    "torch_s": 2.0}])
