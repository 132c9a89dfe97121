"""Smoke test of the honest benchmark (benchmarks/honest.py, what `striate bench` runs): both modes
run once at batch 2 (LeNet-5) and every JSON field the README table and the closing notes read is present
and finite. No timing is asserted: speed lives in the benchmark script. Also: the networks are
the same in both libraries, and the timed processes start without the OpenBLAS kernel override
while the parent's environment (the peer's) is left as it was."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import striate.bench as bench

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
# One network keeps the run to four fresh processes (facts, one, 2 x separate); every network is
# built and compared in both libraries in-process below.
SMOKE_WORKLOADS = ["LeNet-5 1x28x28 b64"]


def _load(name: str):
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"striate_benchmarks_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _finite_positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("honest")
    env_before = dict(os.environ)
    os.environ["OPENBLAS_CORETYPE"] = "Haswell"  # as some of this project's machines set it
    try:
        env_asked = dict(os.environ)
        assert bench.main(["--tiny", "--out", str(out), "--only", *SMOKE_WORKLOADS]) == 0
        env_unchanged = dict(os.environ) == env_asked
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    (path,) = out.glob("honest-*.json")
    return json.loads(path.read_text()), path, env_unchanged


def test_both_modes_report_every_field(tiny_run) -> None:
    result, path, _ = tiny_run
    assert set(result["modes"]) == {"one", "separate"}
    for mode, rows in result["modes"].items():
        tiny_keys = [k.rsplit(" b", 1)[0] + " b2" for k in SMOKE_WORKLOADS]
        assert [f"{r['workload']} b{r['batch']}" for r in rows] == tiny_keys
        for row in rows:
            assert row["target_ratio"] in (1.0, 0.9)
            for kind in ("train", "infer"):
                k = row[kind]
                for key in ("striate_img_s", "torch_img_s", "ratio"):
                    assert _finite_positive(k[key]), (mode, row["workload"], kind, key, k[key])
                assert k["round_ratios"] and all(_finite_positive(v) for v in k["round_ratios"])
    m = result["machine"]
    assert m["cpu"] and m["cores"] >= 1 and m["numpy"] and m["numba"] and m["striate"] and m["python"]
    assert m["torch"]["version"] and m["torch"]["config"] and _finite_positive(m["torch"]["threads"])
    assert _finite_positive(m["sgemm_gflops"]["numpy"]) and _finite_positive(m["sgemm_gflops"]["torch"])
    for threads in (result["threads"], result["threads_separate"]):
        assert all(_finite_positive(threads[k]) for k in ("striate", "striate_blas", "torch"))
    assert len(result["load_average_before"]) == 3 and len(result["load_average_after"]) == 3
    md = path.with_suffix(".md").read_text()
    assert "### One process" in md and "### Separate processes" in md and "kernel `" in md


def test_timed_processes_drop_the_openblas_override_and_leave_the_peer_alone(tiny_run) -> None:
    result, _, env_unchanged = tiny_run
    assert result["environment_openblas"] == {"OPENBLAS_CORETYPE": "Haswell"}
    blas = result["machine"]["numpy_blas"]
    assert blas["loaded_with"]["OPENBLAS_CORETYPE"] is None and blas["kernel"]
    assert result["threads_asked"] is None  # each library kept its default thread count
    assert env_unchanged  # only the timed children's environment drops the variable
    assert result["machine"]["omp_wait_policy"] == os.environ.get("OMP_WAIT_POLICY")  # never forced


def test_speed_table_from_the_json(tiny_run, tmp_path: Path) -> None:
    result, path, _ = tiny_run
    speed_table = _load("speed_table")
    readme = tmp_path / "README.md"
    block = f"{speed_table.BEGIN}\n(no run yet)\n{speed_table.END}"
    readme.write_text(f"# x\n\n## Speed\n\n{block}\n\n## Layout\n")
    assert speed_table.main([str(path), str(path), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "(no run yet)" not in text and text.endswith("## Layout\n")
    assert "| LeNet-5 1x28x28 | 2 |" in text and result["date"] in text and "kernel `" in text


def test_every_network_is_the_same_in_both_libraries(tmp_path: Path) -> None:
    """The comparison is fair only if both libraries run the same network from the same weights."""
    import torch

    import striate as st

    honest = _load("honest")
    workloads = [replace(w, batch=2) for w in honest.WORKLOADS]
    honest.write_inputs(tmp_path, workloads)
    for w in workloads:
        state, x, _ = honest._load_inputs(tmp_path, w)
        t_model = w.build(torch.nn)
        t_model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
        s_model = w.build(st.nn)
        s_model.load_state_dict(state)
        t_model.eval()
        s_model.eval()
        with st.no_grad(), torch.no_grad():
            ours, theirs = s_model(st.from_numpy(x)).numpy(), t_model(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5, err_msg=w.key)


def test_conv_rates_tiny() -> None:
    conv_rates = _load("conv_rates")
    result = conv_rates.measure([conv_rates.find("Depthwise-separable 3x32x32 b2")], runs=1, threads=None,
                                sgemm_n=64)
    assert _finite_positive(result["sgemm_peak_gflops"]) and result["layers"]
    assert any(r["groups"] > 1 for r in result["layers"]) and any(r["k"] == 1 for r in result["layers"])
    for r in result["layers"]:
        for lib in ("striate", "torch"):
            assert _finite_positive(r[lib]["fwd_gflops"]) and _finite_positive(r[lib]["fwd_bwd_gflops"])
    assert "% peak" in conv_rates.markdown(result)
