"""Data-parallel training over MPI: `mpirun -np 2` against one process on the same data.

Each test launches `mpirun -np 2 python tests/distributed/mpi_worker.py ...` (loopback, two
ranks on this machine, one thread each) with a timeout, and compares what rank 0 wrote with
the same model trained here in one process (tests/distributed/mpi_cases.py builds both).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import striate as st
import striate.nn.functional as F
from striate.distributed import shard_bounds
from striate.distributed.launch import mpi_available, mpirun_command
from striate.train import Trainer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from mpi_cases import build  # noqa: E402

pytestmark = pytest.mark.skipif(not mpi_available(),
                                reason="needs mpi4py and mpirun: pip install 'striate[mpi]'")

TIMEOUT = 120


def run_ranks(nprocs: int, *args: str) -> subprocess.CompletedProcess:
    cmd, env = mpirun_command(nprocs, [sys.executable, str(HERE / "mpi_worker.py"), *args])
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def one_process(dtype: str = "float32", bn: bool = False, epochs: int = 2) -> dict[str, np.ndarray]:
    model, opt, loader = build(dtype, bn)
    trainer = Trainer(model, opt, loader, epochs=epochs, progress=False)
    trainer.fit()
    out = {k: v.numpy() for k, v in model.state_dict().items()}
    out["__loss"] = np.array(trainer.history["loss"])
    return out


def one_process_halves(dtype: str, bn: bool, epochs: int = 2) -> dict[str, np.ndarray]:
    """One process, each batch of 64 as two halves of 32 whose gradients (of loss / 2) are
    accumulated: the same sums in the same order as two ranks averaging theirs."""
    model, opt, loader = build(dtype, bn)
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            for rank in range(2):
                a, b = shard_bounds(len(y), rank, 2)
                (F.cross_entropy(model(x[a:b]), y[a:b]) * 0.5).backward()
            opt.step()
    return {k: v.numpy() for k, v in model.state_dict().items()}


def assert_weights(got: dict, want: dict, rtol: float, exact: bool = False, skip=("running", "num_batches")):
    keys = [k for k in want if not k.startswith("__") and not any(s in k for s in skip)]
    assert keys
    for k in keys:
        assert got[k].shape == want[k].shape, (k, got[k].shape, want[k].shape)
        if exact:
            np.testing.assert_array_equal(got[k], want[k], err_msg=k)
        else:  # relative to the tensor's largest magnitude (harness convention)
            scale = max(float(np.abs(want[k]).max()), 1e-30)
            assert np.abs(got[k] - want[k]).max() <= rtol * scale, (k, np.abs(got[k] - want[k]).max(), scale)


@pytest.fixture(scope="module")
def one_thread():
    """Ranks run one thread each; the convolution's chunks (so its sum order) follow the thread
    count, so the one-process references here run on one thread too."""
    st.config.set_num_threads(1)
    try:
        yield
    finally:
        st.config.set_num_threads(None)


def _run_suite(out: Path) -> None:
    model, opt, loader = build("float32")  # a one-process checkpoint for the ranks to resume
    trainer = Trainer(model, opt, loader, epochs=1, progress=False)
    trainer.fit()
    trainer.save_checkpoint(out / "one-process-epoch1.safetensors")
    proc = run_ranks(2, "suite", str(out), "--resume", str(out / "one-process-epoch1.safetensors"))
    (out / "log.txt").write_text(proc.stderr[-3000:])
    (out / ("done" if proc.returncode == 0 else "failed")).touch()


@pytest.fixture(scope="module")
def suite(tmp_path_factory, one_thread):
    """Every two-rank training case in one mpirun launch (see mpi_worker.py), run once even when
    pytest-xdist spreads these tests over workers (they share the base temporary folder)."""
    base = tmp_path_factory.getbasetemp()  # under xdist: this worker's folder in the run's folder
    out = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "striate-mpi-suite"
    out.mkdir(exist_ok=True)
    try:
        os.close(os.open(out / "started", os.O_CREAT | os.O_EXCL))
        _run_suite(out)
    except FileExistsError:  # another worker runs it: wait for its result
        deadline = time.monotonic() + 2 * TIMEOUT
        while not ((out / "done").exists() or (out / "failed").exists()) and time.monotonic() < deadline:
            time.sleep(0.5)
    assert (out / "done").exists(), (out / "log.txt").read_text() if (out / "log.txt").exists() else "timeout"
    return out


def result(folder: Path, name: str) -> dict[str, np.ndarray]:
    with np.load(folder / f"{name}.npz") as data:
        return dict(data)


def test_two_ranks_equal_one_process_float32(suite):
    got, want = result(suite, "float32"), one_process("float32")
    assert_weights(got, want, rtol=1e-5)
    np.testing.assert_allclose(got["__loss"], want["__loss"], rtol=1e-6)


@pytest.mark.parametrize("case", ["float64", "float64-blocking", "float64-bn"])
def test_two_ranks_float64_bitwise_equal_to_fixed_sum_order(suite, case):
    """All-reduce overlapped with the backward (default) or after it, per-rank batch norm."""
    bn = case.endswith("-bn")
    got = result(suite, case)
    assert_weights(got, one_process_halves("float64", bn), rtol=0, exact=True)
    if not bn:  # and within float64 rounding of one process on the whole batch
        assert_weights(got, one_process("float64"), rtol=1e-12)


@pytest.mark.parametrize("dtype,rtol", [("float32", 1e-5), ("float64", 1e-12)])
def test_sync_batchnorm_two_ranks_equal_one_process(suite, dtype, rtol):
    got = result(suite, f"{dtype}-syncbn")
    want = one_process(dtype, bn=True)
    assert_weights(got, want, rtol=rtol, skip=())  # running statistics included
    np.testing.assert_allclose(got["__loss"], want["__loss"], rtol=1e-6)


def test_resume_two_ranks_in_one_and_one_in_two(suite):
    want = one_process("float32", epochs=2)
    model, opt, loader = build("float32")  # 2 ranks -> 1 process
    trainer = Trainer(model, opt, loader, epochs=2, progress=False)
    trainer.load_checkpoint(suite / "two-ranks-epoch1.safetensors")
    trainer.fit()
    assert_weights({k: v.numpy() for k, v in model.state_dict().items()}, want, rtol=1e-5)
    got = result(suite, "resumed")  # 1 process -> 2 ranks
    assert_weights(got, want, rtol=1e-5)
    np.testing.assert_allclose(got["__loss"], want["__loss"], rtol=1e-6)


def test_a_raising_rank_ends_the_job_with_a_message(tmp_path):
    proc = run_ranks(2, "raise", str(tmp_path / "never.npz"))
    assert proc.returncode != 0
    assert "rank 1 of 2 failed; stopping all ranks" in proc.stderr
    assert "rank 1 fails on purpose in step 3" in proc.stderr
    assert not (tmp_path / "never.npz").exists()


def test_a_killed_rank_ends_the_job(tmp_path):
    proc = run_ranks(2, "die", str(tmp_path / "never.npz"))
    assert proc.returncode != 0
    assert not (tmp_path / "never.npz").exists()


def test_striate_train_under_mpirun(tmp_path):
    cmd, env = mpirun_command(2, [sys.executable, "-m", "striate.cli", "train", "--epochs", "1", "--quiet",
                                 "--out", str(tmp_path), "--batch-size", "64", "--model", "mnist_convnet",
                                 "--sync-bn"])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("test accuracy:") == 1  # rank 0 only
    assert proc.stderr.count("run folder:") == 1
    (run,) = list(tmp_path.iterdir())
    assert (run / "checkpoints" / "last.safetensors").exists() and (run / "result.json").exists()
    assert not list((run / "checkpoints").glob(".*.tmp"))  # atomic writes left nothing behind
    resumed = subprocess.run([sys.executable, "-m", "striate.cli", "train", "--resume", str(run), "--quiet"],
                             capture_output=True, text=True, timeout=TIMEOUT)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "test accuracy:" in resumed.stdout
