"""st.distributed pieces that need no MPI: sharding, buckets, SyncBatchNorm on one rank, the
messages when mpi4py or mpirun are missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import striate as st
import striate.nn as nn
from striate.data import DataLoader
from striate.data.datasets import ArrayDataset
from striate.distributed import (
    GradientBuckets,
    ShardedDataLoader,
    SyncBatchNorm,
    convert_sync_batchnorm,
    shard_bounds,
    single_process,
)
from striate.distributed.launch import mpirun_command
from striate.train import Trainer

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.mark.parametrize("n,size", [(64, 2), (41, 2), (10, 3), (7, 7), (5, 1)])
def test_shard_bounds_cover_the_batch_in_order(n, size):
    pieces = [shard_bounds(n, r, size) for r in range(size)]
    assert pieces[0][0] == 0 and pieces[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    assert max(b - a for a, b in pieces) - min(b - a for a, b in pieces) <= 1


@pytest.mark.parametrize("n,batch,ranks", [(100, 16, 2), (105, 20, 3), (64, 64, 4)])
def test_sharded_loader_ranks_together_serve_the_one_process_batches(n, batch, ranks):
    x = np.arange(n, dtype=np.float32).reshape(n, 1, 1, 1)
    ds = ArrayDataset(x, np.arange(n))
    whole = DataLoader(ds, batch_size=batch, shuffle=True, seed=3)
    whole.set_epoch(2)
    shards = [ShardedDataLoader(ds, batch, shuffle=True, seed=3, rank=r, world_size=ranks)
              for r in range(ranks)]
    for s in shards:
        s.set_epoch(2)
        assert len(s) == len(whole)
    for b, (batches, (_, y)) in enumerate(zip(zip(*shards), whole)):
        joined = np.concatenate([yb.numpy() for _, yb in batches])
        np.testing.assert_array_equal(joined, y.numpy())
        assert [len(yb) for _, yb in batches] == [s.local_count(b) for s in shards]
        assert shards[0].global_count(b) == len(y)
    whole.set_epoch(3)  # the shards' state is the one-process loader's: resumable with any number of ranks
    assert shards[0].state_dict() == whole.state_dict()


def test_sharded_loader_refuses_batches_it_cannot_split():
    ds = ArrayDataset(np.zeros((65, 1, 2, 2), np.float32), np.zeros(65, np.int64))
    with pytest.raises(ValueError, match="last batch holds 1 items, fewer than the 2 ranks; use drop_last"):
        ShardedDataLoader(ds, 64, rank=0, world_size=2)
    with pytest.raises(ValueError, match="batch of 2 cannot be split over 4 ranks"):
        ShardedDataLoader(ds, 2, rank=0, world_size=4)
    assert len(ShardedDataLoader(ds, 64, drop_last=True, rank=1, world_size=2)) == 1


def test_buckets_hold_several_parameters_per_message_and_split_by_dtype():
    net = nn.Sequential(nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 10), nn.Linear(10, 10).double())
    buckets = GradientBuckets(net.parameters(), bucket_bytes=10_000)
    assert len(buckets.buckets) < len(list(net.parameters()))
    for b in buckets.buckets:
        assert len({p._data.dtype for p in b}) == 1
    assert sorted(id(p) for b in buckets.buckets for p in b) == sorted(id(p) for p in net.parameters())
    assert buckets.nbytes == sum(p._data.nbytes for p in net.parameters())
    loss = net[3](net[2](net[1](net[0](st.randn(4, 100)))).double()).sum()
    loss.backward()
    before = [p.grad.numpy().copy() for p in net.parameters()]
    buckets.allreduce_(single_process(), scale=0.5)
    for p, g in zip(net.parameters(), before):
        np.testing.assert_array_equal(p.grad.numpy(), g * 0.5)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_sync_batchnorm_on_one_rank_is_batchnorm(shape):
    bn = nn.BatchNorm2d(3) if len(shape) == 4 else nn.BatchNorm1d(3)
    sync = convert_sync_batchnorm(nn.Sequential(bn), single_process())[0]
    assert isinstance(sync, SyncBatchNorm) and sync.weight is bn.weight
    assert set(sync.state_dict()) == set(nn.BatchNorm1d(3).state_dict())
    x = st.randn(*shape, requires_grad=True)
    ref = nn.BatchNorm1d(3) if len(shape) < 4 else nn.BatchNorm2d(3)
    x2 = x.detach().requires_grad_()
    (sync(x) * st.arange(x.numel()).reshape(shape)).sum().backward()
    (ref(x2) * st.arange(x.numel()).reshape(shape)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), x2.grad.numpy())
    np.testing.assert_array_equal(sync.running_var.numpy(), ref.running_var.numpy())


def test_distributed_trainer_needs_a_dataloader():
    net = nn.Linear(2, 2)
    batches = [(st.randn(4, 2), st.tensor([0, 1, 0, 1]))]
    with pytest.raises(TypeError, match="needs the training data as an st.data.DataLoader"):
        Trainer(net, st.optim.SGD(net.parameters(), lr=0.1), batches, distributed=single_process())


def test_distributed_on_one_process_trains_as_before():
    x = np.random.default_rng(0).standard_normal((40, 1, 4, 4)).astype(np.float32)
    y = np.arange(40) % 3

    def run(distributed):
        st.manual_seed(0)
        net = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
        loader = DataLoader(ArrayDataset(x, y), batch_size=8, shuffle=True, seed=1)
        Trainer(net, st.optim.SGD(net.parameters(), lr=0.1), loader, epochs=2, progress=False,
                distributed=distributed).fit()
        return net[1].weight.numpy()

    np.testing.assert_array_equal(run(single_process()), run(False))


def _fake_mpi_env(tmp_path: Path) -> dict[str, str]:
    """A process that looks launched by mpirun but where `import mpi4py` fails."""
    blocker = tmp_path / "block"
    (blocker / "mpi4py").mkdir(parents=True)
    (blocker / "mpi4py" / "__init__.py").write_text("raise ImportError('No module named mpi4py')\n")
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(blocker), SRC]), OMPI_COMM_WORLD_SIZE="2",
                OMPI_COMM_WORLD_RANK="0")


def test_clear_message_when_mpi4py_is_missing(tmp_path):
    cmd = [sys.executable, "-m", "striate.cli", "train", "--epochs", "1", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, env=_fake_mpi_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 6  # the command line's exit code for a missing package
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "striate train: error: distributed training needs mpi4py (and an MPI library with mpirun): "
        "pip install 'striate[mpi]'")
    assert "Traceback" not in proc.stderr


def test_clear_message_when_mpirun_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))  # nor beside this Python
    with pytest.raises(FileNotFoundError, match=r"mpirun was not found on PATH: pip install 'striate\[mpi"):
        mpirun_command(2, ["python"])


def test_importing_striate_distributed_does_not_start_mpi():
    code = "import sys, striate.distributed; print('mpi4py.MPI' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=SRC),
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_overlapped_allreduce_counts_shared_weights_and_matches_the_blocking_one():
    from striate.distributed.overlap import OverlappedAllreduce, leaf_uses

    st.manual_seed(0)
    shared = nn.Linear(6, 6)
    head = nn.Linear(6, 3)
    params = list(shared.parameters()) + list(head.parameters())
    x = st.randn(5, 6)

    def loss_fn():
        return head(shared(shared(x).relu())).sum()  # `shared` used twice

    loss = loss_fn()
    assert leaf_uses(loss)[id(shared.weight)] == 2 and leaf_uses(loss)[id(head.weight)] == 1
    loss.backward()
    want = [p.grad.numpy() * 0.25 for p in params]
    for p in params:
        p.grad = None
    overlapped = OverlappedAllreduce(GradientBuckets(params, bucket_bytes=64), single_process())
    loss = loss_fn()
    overlapped.start(loss, 0.25)
    loss.backward()
    assert overlapped.next_bucket == -1  # every bucket left during the backward
    overlapped.finish()
    for p, g in zip(params, want):
        np.testing.assert_array_equal(p.grad.numpy(), g)
