"""Smoke tests of the thread benchmarks (issue 14), each once on tiny sizes in a fresh process
(they drop OPENBLAS_CORETYPE for their own process, never for the tests'). No timing is asserted:
speed lives in the benchmark scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from striate.kernels import gemm_serial

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(not gemm_serial.available(), reason="no private serial BLAS here (needs glibc)")
def test_concurrent_gemm_benchmark_runs() -> None:
    out = _run("benchmarks/bench_concurrent_gemm.py", "--shape", "8", "16", "8", "--rounds", "1",
               "--reps", "1")
    assert out.count("ms wall") == 4 and "load average" in out


def test_thread_policy_benchmark_runs() -> None:
    out = _run("benchmarks/bench_thread_policy.py", "--rounds", "1", "--steps", "1",
               "--only", "LeNet-5 1x28x28 b2")
    row = [line for line in out.splitlines() if line.startswith("LeNet-5")]
    assert len(row) == 1 and all(p in row[0] for p in ("default", "one", "issue13", "shared-pool"))
