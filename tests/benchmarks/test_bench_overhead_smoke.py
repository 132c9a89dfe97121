"""Smoke test of benchmarks/bench_overhead.py: its functions run and report sane numbers.

No timing is asserted (speed lives in the benchmark script itself)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

import striate as st

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_overhead.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_overhead", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chains_compute_the_same_values_in_striate_and_torch() -> None:
    import torch

    bench = _load()
    for chain in bench.CHAINS.values():
        xs = st.ones(4, 4, dtype=st.float64, requires_grad=True)
        xt = torch.ones(4, 4, dtype=torch.float64, requires_grad=True)
        out_s, ops_s = chain(xs, 24, st.relu)
        out_t, ops_t = chain(xt, 24, torch.relu)
        out_s.backward()
        out_t.backward()
        assert ops_s == ops_t > 0
        np.testing.assert_allclose(out_s.item(), out_t.item(), rtol=1e-12)
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_measure_table_and_profile_run_with_tiny_n(capsys) -> None:
    bench = _load()
    rows = bench.measure(n=12, repeats=1)
    assert {r["library"] for r in rows} == {"striate", "torch"}
    assert len(rows) == len(bench.CHAINS) * len(bench.SHAPES) * 2
    assert all(r["forward_us"] > 0 and r["backward_us"] > 0 and r["ops"] > 0 for r in rows)
    table = bench.format_table(rows)
    assert "fwd us/op" in table and "x" in table.splitlines()[1]
    assert "run_backward" in bench.profile(n=12, top=40)
    bench.main(["--n", "12", "--repeats", "1"])
    assert "striate" in capsys.readouterr().out
