"""Smoke test of benchmarks/bench_distributed.py: striate only, LeNet-5, a global batch of 4,
one timed step, 1 process and `mpirun -np 2`. No timing is asserted: speed lives in the
benchmark script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from striate.distributed.launch import mpi_available

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_distributed.py"


@pytest.mark.skipif(not mpi_available(), reason="needs mpi4py and mpirun: pip install 'striate[mpi]'")
def test_distributed_benchmark_runs_one_and_two_ranks():
    cmd = [sys.executable, str(SCRIPT), "--tiny", "--steps", "1", "--warmup", "0", "--no-torch",
           "--networks", "LeNet-5 1x28x28"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| LeNet-5")]
    assert [r.split("|")[4].strip() for r in rows] == ["1 x 2", "2 x 1"]
    assert "load average at start" in proc.stdout and "BLAS:" in proc.stdout
    assert all("0.18 MB" in r for r in rows)  # LeNet-5's gradient bytes per rank and step
