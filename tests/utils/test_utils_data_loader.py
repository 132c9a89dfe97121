"""DataLoader behaviour: torch's argument checks, workers (errors, shutdown, seeds, iterable
datasets), striate's datasets and the Trainer."""

from __future__ import annotations

import _thread
import threading
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import striate as st
import striate.utils.data as sud
from striate.utils.data import DataLoader, Dataset, TensorDataset


def _dataloader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("striate-dataloader")]


def test_import_paths():
    from striate.utils.data.sampler import BatchSampler, RandomSampler  # noqa: F401

    assert st.utils.data is sud
    assert sud.sampler.WeightedRandomSampler is sud.WeightedRandomSampler


DATA = list(range(10))
BAD_OPTIONS = [
    {"num_workers": -1},
    {"timeout": -1},
    {"prefetch_factor": 2},
    {"num_workers": 1, "prefetch_factor": -1},
    {"persistent_workers": True},
    {"sampler": [0, 1], "shuffle": True},
    {"batch_sampler": [[0, 1]], "batch_size": 2},
    {"batch_sampler": [[0, 1]], "shuffle": True},
    {"batch_sampler": [[0, 1]], "sampler": [0, 1]},
    {"batch_sampler": [[0, 1]], "drop_last": True},
    {"batch_size": None, "drop_last": True},
    {"multiprocessing_context": "fork"},
]


@pytest.mark.parametrize("options", BAD_OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_option_errors_are_torchs(options):
    with pytest.raises(ValueError) as theirs:
        tud.DataLoader(DATA, **options)
    with pytest.raises(ValueError) as ours:
        DataLoader(DATA, **options)
    squeeze = str.maketrans("", "", " .")  # torch's text lacks a space after one full stop
    assert str(ours.value).translate(squeeze).startswith(str(theirs.value).translate(squeeze))


class Stream(sud.IterableDataset):
    """0..n-1, split between workers as torch's documentation shows."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        info = sud.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self) -> int:
        return self.n


class TorchStream(tud.IterableDataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        info = tud.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


@pytest.mark.parametrize("options", [{"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}])
def test_iterable_dataset_refuses_order_options(options):
    with pytest.raises(ValueError, match="DataLoader with IterableDataset: expected unspecified"):
        DataLoader(Stream(3), **options)


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (None, False)])
def test_iterable_dataset_with_workers_interleaves_as_torch(batch_size, drop_last):
    ours = DataLoader(Stream(11), batch_size=batch_size, drop_last=drop_last, num_workers=2)
    got = [b.tolist() if isinstance(b, st.Tensor) else b for b in ours]
    expected = [[0, 2, 4], [1, 3, 5], [6, 8, 10], [7, 9]] if batch_size else list(range(11))
    if drop_last:
        expected = expected[:3]
    assert got == expected
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(DataLoader(Stream(7), batch_size=3)) == 3


def test_iterable_dataset_interleaving_equals_torch_processes():
    theirs = [b.tolist() for b in tud.DataLoader(TorchStream(11), batch_size=3, num_workers=2)]
    assert [b.tolist() for b in DataLoader(Stream(11), batch_size=3, num_workers=2)] == theirs


class Noisy(Dataset):
    """Each sample draws from the global generator (as a random transform would)."""

    def __init__(self, rand) -> None:
        self.rand = rand

    def __getitem__(self, i: int):
        return self.rand(3)

    def __len__(self) -> int:
        return 12


def test_worker_generators_are_seeded_as_torchs_workers():
    st.manual_seed(7)
    torch.manual_seed(7)
    ours = [b.numpy() for b in DataLoader(Noisy(st.rand), batch_size=2, num_workers=2)]
    theirs = [b.numpy() for b in tud.DataLoader(Noisy(torch.rand), batch_size=2, num_workers=2)]
    np.testing.assert_array_equal(np.stack(ours), np.stack(theirs))
    np.testing.assert_array_equal(st.rand(5).numpy(), torch.rand(5).numpy())  # main stream untouched


def test_worker_info_and_init_fn():
    seen = {}

    class Who(Dataset):
        def __getitem__(self, i):
            info = sud.get_worker_info()
            return info.id

        def __len__(self):
            return 8

    def init(worker_id):
        seen[worker_id] = sud.get_worker_info().seed

    st.manual_seed(0)
    loader = DataLoader(Who(), batch_size=2, num_workers=2, worker_init_fn=init)
    assert [b.tolist() for b in loader] == [[0, 0], [1, 1], [0, 0], [1, 1]]
    assert seen[1] == seen[0] + 1
    assert sud.get_worker_info() is None


class Failing(Dataset):
    def __getitem__(self, i):
        if i == 5:
            raise KeyError(f"sample {i} is missing")
        return i

    def __len__(self):
        return 10


@pytest.mark.parametrize("num_workers", [0, 2])
def test_worker_errors_reach_the_caller_with_their_type(num_workers):
    loader = DataLoader(Failing(), batch_size=2, num_workers=num_workers)
    with pytest.raises(KeyError, match="sample 5 is missing") as err:
        list(loader)
    if num_workers:
        assert "worker thread 0" in str(err.value) and "batch 2" in str(err.value)
    assert not _dataloader_threads()


class Slow(Dataset):
    def __getitem__(self, i):
        time.sleep(0.02)
        return i

    def __len__(self):
        return 400


def _no_threads_within(seconds: float) -> bool:
    """Abandoned workers notice their stop event within a poll (0.1 s)."""
    deadline = time.monotonic() + seconds
    while _dataloader_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    return not _dataloader_threads()


def test_break_and_ctrl_c_leave_no_threads():
    it = iter(DataLoader(Slow(), batch_size=2, num_workers=2))
    next(it)
    del it  # an abandoned iterator: its workers stop
    assert _no_threads_within(5)
    timer = threading.Timer(0.2, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        for _ in DataLoader(Slow(), batch_size=4, num_workers=2):
            pass
    assert _no_threads_within(5)


def test_timeout_names_the_wait():
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        list(DataLoader(Slow(), batch_size=40, num_workers=1, timeout=0.2))
    assert not _dataloader_threads()


def test_persistent_workers_keep_torchs_order_and_threads():
    st.manual_seed(2)
    torch.manual_seed(2)
    options = {"batch_size": 2, "shuffle": True, "num_workers": 2, "persistent_workers": True}
    ours = DataLoader(list(range(9)), **options)
    theirs = tud.DataLoader(list(range(9)), **options)
    for epoch in range(3):
        got = []
        for b in ours:
            got.append(b.tolist())
            if epoch == 1 and len(got) == 2:
                break
        expected = []
        for b in theirs:
            expected.append(b.tolist())
            if epoch == 1 and len(expected) == 2:
                break
        assert got == expected
        if epoch == 0:
            threads = _dataloader_threads()
            assert len(threads) == 2
    assert _dataloader_threads() == threads


def test_pin_memory_is_accepted_with_torchs_warning():
    with pytest.warns(UserWarning, match="pin_memory"):
        batches = list(DataLoader(TensorDataset(st.ones(4, 2)), batch_size=2, pin_memory=True))
    assert [b[0].shape for b in batches] == [(2, 2), (2, 2)]


def test_options_cannot_change_after_construction():
    loader = DataLoader(DATA, batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    assert len(loader) == 5


def test_tensor_dataset_and_its_errors():
    x, y = st.randn(5, 3), st.arange(5)
    ds = TensorDataset(x, y)
    assert len(ds) == 5
    np.testing.assert_array_equal(ds[2][0].numpy(), x[2].numpy())
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(x, st.arange(4))
    concat = ds + ds
    assert len(concat) == 10 and concat[-1][1].item() == 4 and concat.cumulative_sizes == [5, 10]
    with pytest.raises(IndexError):
        concat[10]


def test_striate_datasets_and_the_trainer():
    digits = st.data.datasets.Digits(train=False)
    loader = DataLoader(digits, batch_size=64, shuffle=False)
    x, y = next(iter(loader))
    ref_x, ref_y = next(iter(st.data.DataLoader(digits, batch_size=64)))
    assert x.dtype == ref_x.dtype and y.dtype == ref_y.dtype
    np.testing.assert_array_equal(x.numpy(), ref_x.numpy())
    np.testing.assert_array_equal(y.numpy(), ref_y.numpy())
    part = sud.Subset(digits, list(range(128)))
    model = st.nn.Sequential(st.nn.Flatten(), st.nn.Linear(64, 10))
    history = st.train.fit(model, DataLoader(part, batch_size=32, shuffle=True, num_workers=2), epochs=2,
                           optimizer=st.optim.SGD(model.parameters(), lr=0.1))
    assert len(history.as_rows()) == 2


def _trainer(epochs: int, seed: int, callbacks=()):
    from striate.train import Trainer, runs

    x, y, _ = runs.load_arrays("digits", train=True)
    st.manual_seed(seed)
    model = st.nn.Sequential(st.nn.Flatten(), st.nn.Dropout(0.2), st.nn.Linear(64, 10))
    loader = DataLoader(TensorDataset(st.from_numpy(x[:256]), st.from_numpy(y[:256])), batch_size=32,
                        shuffle=True)
    return Trainer(model, st.optim.SGD(model.parameters(), lr=0.05), loader, epochs=epochs,
                   callbacks=list(callbacks), progress=False)


def test_trainer_resumes_this_loader_exactly_at_an_epoch_boundary(tmp_path):
    from striate.train import ModelCheckpoint

    straight = _trainer(3, seed=0)
    straight.fit()
    _trainer(1, seed=0, callbacks=[ModelCheckpoint(tmp_path)]).fit()
    resumed = _trainer(3, seed=99)
    resumed.load_checkpoint(tmp_path / "last.safetensors")
    resumed.fit()
    for k, v in straight.model.state_dict().items():
        assert np.array_equal(np.asarray(v), np.asarray(resumed.model.state_dict()[k])), k


def test_generic_subclasses_as_torch_programs_write_them():
    class Evens(sud.Sampler[int]):
        def __init__(self, n: int) -> None:
            self.n = n

        def __iter__(self):
            return iter(range(0, self.n, 2))

        def __len__(self) -> int:
            return (self.n + 1) // 2

    class Squares(Dataset[int]):
        def __getitem__(self, i: int) -> int:
            return i * i

        def __len__(self) -> int:
            return 7

    assert [b.tolist() for b in DataLoader(Squares(), batch_size=2, sampler=Evens(7))] == [[0, 4], [16, 36]]
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        Dataset()[0]
