"""Smoke test of benchmarks/side_by_side.py (what benchmarks/bench_networks.py runs: the per-op
rows; `striate bench` runs honest.py, tested in test_honest_smoke.py): every lecture workload,
op row and GEMM rate runs once at batch 2 and the files are written. No timing is asserted:
speed lives in the benchmark script."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_networks.py"


def _load_side_by_side():
    path = SCRIPT.with_name("side_by_side.py")
    spec = importlib.util.spec_from_file_location("striate_benchmarks_side_by_side", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _load_side_by_side()


@pytest.fixture
def torch_threads():
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_bench_main_runs_every_workload_tiny(tmp_path: Path, torch_threads) -> None:
    assert bench.main(tiny=True, out=tmp_path) == 0
    result = json.loads((tmp_path / "bench.json").read_text())
    names = [(r["workload"], r["batch"]) for r in result["networks"]]
    assert names == [(w.name, 2) for w in bench.WORKLOADS]
    for row in result["networks"]:
        for kind in ("train", "infer"):
            for key in ("striate_img_s", "torch_img_s", "ratio"):
                value = row[f"{kind}_{key}"]
                assert math.isfinite(value) and value > 0, (row["workload"], kind, key, value)
    ops = [r["op"] for r in result["ops"]]
    assert any(op.startswith("conv2d") for op in ops) and any("SGD" in op for op in ops)
    assert all(r["striate_ms"] > 0 and r["torch_ms"] > 0 for r in result["ops"])
    assert result["sgemm_peak_gflops"] > 0 and len(result["conv_gemm_gflops"]) == 3
    # the peer runs as its users run it: the policy recorded is the environment's, never forced
    assert result["omp_wait_policy"] == os.environ.get("OMP_WAIT_POLICY", "")
    md = (tmp_path / "bench.md").read_text()
    assert md.count("| ResNet-18 3x32x32 | 2 |") == 1 and "% of the sgemm peak" in md


def test_identical_weights_give_identical_outputs() -> None:
    """The comparison is fair only if both libraries run the same network on the same data."""
    import numpy as np

    st, torch, s_model, t_model, x, _ = bench._pair(replace(bench.WORKLOADS[3], batch=2))
    s_model.eval()
    t_model.eval()
    with st.no_grad(), torch.no_grad():
        np.testing.assert_allclose(s_model(st.from_numpy(x)).numpy(), t_model(torch.from_numpy(x)).numpy(),
                                   rtol=1e-4, atol=1e-5)


def test_script_help() -> None:
    out = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=True)
    assert "--tiny" in out.stdout and "--threads" in out.stdout
