"""DataLoader: batches, order per (seed, epoch), exact resume, prefetch; splits and subsets."""

from __future__ import annotations

import gc
import threading
import time

import numpy as np
import pytest

import striate as st
from striate.autograd.tensor import Tensor
from striate.data import ArrayDataset, DataLoader, Subset, random_split, train_val_split
from striate.data import transforms as T


def _dataset(n=23, transform=None):
    x = np.arange(n * 2 * 3 * 3, dtype=np.float32).reshape(n, 2, 3, 3) / 1000
    return ArrayDataset(x, np.arange(n) % 5, transform=transform)


class _ItemsOnly:
    """A generic dataset: only __len__ and __getitem__ (the per-item path)."""

    def __init__(self, base):
        self.base = base

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        return self.base[i]


def _ids(x: Tensor) -> np.ndarray:
    return np.rint(x.numpy()[:, 0, 0, 0] * 1000 / 18).astype(int)   # recover the item index


@pytest.mark.parametrize("prefetch", [True, False])
def test_batches_shapes_dtypes_and_len(prefetch):
    loader = DataLoader(_dataset(), batch_size=5, prefetch=prefetch)
    batches = list(loader)
    assert len(loader) == 5 and len(batches) == 5
    x, y = batches[0]
    assert isinstance(x, Tensor) and x.shape == (5, 2, 3, 3) and x.dtype == st.float32
    assert isinstance(y, Tensor) and y.shape == (5,) and y.dtype == st.int64
    assert batches[-1][0].shape == (3, 2, 3, 3)
    assert np.array_equal(np.concatenate([_ids(b[0]) for b in batches]), np.arange(23))


def test_drop_last():
    loader = DataLoader(_dataset(), batch_size=5, drop_last=True)
    assert len(loader) == 4 and [b[0].shape[0] for b in loader] == [5, 5, 5, 5]
    assert len(DataLoader(_dataset(20), batch_size=5, drop_last=True)) == 4
    assert len(DataLoader(_dataset(3), batch_size=5, drop_last=True)) == 0


def test_shuffle_reproducible_per_seed_and_epoch_and_different_across_epochs():
    def epoch_order(seed, epoch):
        loader = DataLoader(_dataset(), batch_size=4, shuffle=True, seed=seed)
        loader.set_epoch(epoch)
        return np.concatenate([_ids(x) for x, _ in loader])

    a0, a0_again, a1, b0 = epoch_order(1, 0), epoch_order(1, 0), epoch_order(1, 1), epoch_order(2, 0)
    assert np.array_equal(a0, a0_again)
    assert not np.array_equal(a0, a1) and not np.array_equal(a0, b0)
    for order in (a0, a1, b0):
        assert sorted(order) == list(range(23))          # every sample exactly once per epoch


def test_consecutive_passes_advance_the_epoch():
    loader = DataLoader(_dataset(), batch_size=4, shuffle=True, seed=3)
    first = np.concatenate([_ids(x) for x, _ in loader])
    second = np.concatenate([_ids(x) for x, _ in loader])
    assert loader.epoch == 2 and not np.array_equal(first, second)
    assert np.array_equal(second, loader.order(1))
    loader.set_epoch(0)
    assert np.array_equal(np.concatenate([_ids(x) for x, _ in loader]), first)


def test_seed_none_comes_from_the_global_generator():
    st.manual_seed(11)
    a = DataLoader(_dataset(), shuffle=True).seed
    st.manual_seed(11)
    assert DataLoader(_dataset(), shuffle=True).seed == a


@pytest.mark.parametrize("prefetch", [True, False])
def test_resume_mid_epoch_gives_the_same_remaining_batches(prefetch):
    augment = T.Compose([T.RandomCrop(3, padding=1), T.GaussianNoise(0.1)])
    ds = _dataset(transform=augment)
    loader = DataLoader(ds, batch_size=4, shuffle=True, seed=7, prefetch=prefetch)
    loader.set_epoch(2)
    it = iter(loader)
    for _ in range(3):
        next(it)
    state = loader.state_dict()
    assert state["epoch"] == 2 and state["batches_done"] == 3
    rest = [(x.numpy().copy(), y.numpy().copy()) for x, y in it]
    following = [x.numpy().copy() for x, _ in loader]     # epoch 3

    st.manual_seed(999)                                   # global state must not matter
    resumed = DataLoader(_dataset(transform=augment), batch_size=4, shuffle=True, prefetch=not prefetch)
    resumed.load_state_dict(state)
    again = [(x.numpy(), y.numpy()) for x, y in resumed]
    assert len(again) == len(rest) == 3
    for (xa, ya), (xb, yb) in zip(rest, again):
        np.testing.assert_array_equal(xa, xb)             # same items and the same augmentation
        np.testing.assert_array_equal(ya, yb)
    assert resumed.epoch == 3
    for xa, xb in zip(following, [x.numpy() for x, _ in resumed]):
        np.testing.assert_array_equal(xa, xb)


def test_skip_jumps_without_loading():
    calls = []

    class Counting(ArrayDataset):
        def get_batch(self, indices, rng=None):
            calls.append(len(indices))
            return super().get_batch(indices, rng)

    base = _dataset()
    loader = DataLoader(Counting(base.data, base.targets), batch_size=5, shuffle=True, seed=0, prefetch=False)
    full = [_ids(x) for x, _ in loader]
    loader.set_epoch(0)
    calls.clear()
    it = loader.skip(iter(loader), 3)
    rest = [_ids(x) for x, _ in it]
    assert calls == [5, 3] and all(np.array_equal(a, b) for a, b in zip(rest, full[3:]))


def test_state_dict_refuses_a_different_dataset():
    state = DataLoader(_dataset(23), batch_size=4).state_dict()
    with pytest.raises(ValueError, match="num_samples=23"):
        DataLoader(_dataset(20), batch_size=4).load_state_dict(state)


def test_generic_dataset_per_item_path_matches_fast_path():
    ds = _dataset(transform=T.Normalize((0.5, 0.5), (2.0, 2.0)))
    fast = list(DataLoader(ds, batch_size=6, shuffle=True, seed=1))
    slow = list(DataLoader(_ItemsOnly(ds), batch_size=6, shuffle=True, seed=1))
    for (xf, yf), (xs, ys) in zip(fast, slow):
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())
        assert ys.dtype == st.int64


def test_per_item_transform_fallback():
    ds = _dataset(transform=lambda im: im * 2)              # a plain function of one image
    x, _ = next(iter(DataLoader(ds, batch_size=4)))
    np.testing.assert_allclose(x.numpy(), ds.data[:4] * 2)


def test_errors_in_the_prefetch_thread_reach_the_caller():
    class Broken(ArrayDataset):
        def get_batch(self, indices, rng=None):
            if indices[0] >= 10:
                raise RuntimeError("disk on fire")
            return super().get_batch(indices, rng)

    base = _dataset()
    loader = DataLoader(Broken(base.data, base.targets), batch_size=5, prefetch=True)
    with pytest.raises(RuntimeError, match="disk on fire"):
        list(loader)


def test_abandoned_iteration_stops_its_thread():
    before = threading.active_count()
    loader = DataLoader(_dataset(200), batch_size=2, prefetch=True)
    for i, _ in enumerate(loader):
        if i == 2:
            break
    gc.collect()
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert threading.active_count() <= before
    assert loader.epoch == 0 and loader.state_dict()["batches_done"] == 3
    assert np.array_equal(_ids(next(iter(loader))[0]), [0, 1])   # a new pass starts the epoch again


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(_dataset(), batch_size=0)
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        DataLoader(object())


# ------------------------------------------------------------------------- splits
def test_random_split_deterministic_disjoint_and_fast():
    ds = _dataset(40)
    a = random_split(ds, [30, 10], seed=4)
    b = random_split(ds, [30, 10], seed=4)
    assert [len(s) for s in a] == [30, 10]
    assert np.array_equal(a[0].indices, b[0].indices) and np.array_equal(a[1].indices, b[1].indices)
    assert not set(a[0].indices) & set(a[1].indices)
    assert sorted(np.concatenate([s.indices for s in a])) == list(range(40))
    assert not np.array_equal(random_split(ds, [30, 10], seed=5)[0].indices, a[0].indices)
    assert [len(s) for s in random_split(ds, [0.5, 0.3, 0.2], seed=0)] == [20, 12, 8]
    with pytest.raises(ValueError, match="sum to the dataset size 40"):
        random_split(ds, [30, 5])
    x, y = a[1].get_batch([0, 1])
    np.testing.assert_array_equal(x, ds.data[a[1].indices[:2]])
    np.testing.assert_array_equal(y, ds.targets[a[1].indices[:2]])


def test_train_val_split_and_subset_transform():
    ds = _dataset(50)
    train, val = train_val_split(ds, val_fraction=0.2, seed=0)
    train2, val2 = train_val_split(ds, val_fraction=0.2, seed=0)
    assert len(train) == 40 and len(val) == 10
    assert np.array_equal(val.indices, val2.indices) and not set(train.indices) & set(val.indices)
    assert np.array_equal(val.targets, ds.targets[val.indices]) and val.data.shape == (10, 2, 3, 3)
    loader = DataLoader(val, batch_size=4)
    ids = np.concatenate([_ids(x) for x, _ in loader])
    assert np.array_equal(ids, val.indices)
    flipped = Subset(ds, train.indices, transform=T.RandomHorizontalFlip(p=1.0))
    np.testing.assert_array_equal(flipped[0][0].numpy(), ds.data[train.indices[0]][:, :, ::-1])
    xb, _ = flipped.get_batch([0, 1])
    np.testing.assert_array_equal(xb, ds.data[train.indices[:2]][:, :, :, ::-1])
    with pytest.raises(ValueError, match="between 0 and 1"):
        train_val_split(ds, val_fraction=1.5)


def test_array_dataset_checks():
    with pytest.raises(ValueError, match="one label per image"):
        ArrayDataset(np.zeros((3, 1, 2, 2)), [0, 1])
    with pytest.raises(ValueError, match="integer class labels"):
        ArrayDataset(np.zeros((2, 1, 2, 2)), [0.5, 1.0])
    u8 = ArrayDataset(np.full((2, 4, 4, 3), 255, np.uint8), [0, 1], channels_last=True)
    x, y = u8.arrays()
    assert x.shape == (2, 3, 4, 4) and x.dtype == np.float32 and np.all(x == 1.0)


def test_unbatchable_compose_still_draws_from_the_loaders_generator():
    mixed = T.Compose([T.Lambda(lambda im: im + 1.0), T.GaussianNoise(0.5)])   # Lambda: not batched
    assert not mixed.batched
    runs = []
    for global_seed in (1, 2):
        st.manual_seed(global_seed)
        loader = DataLoader(_dataset(transform=mixed), batch_size=4, shuffle=True, seed=3)
        runs.append(np.concatenate([x.numpy() for x, _ in loader]))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_generic_datasets_are_read_in_the_calling_thread():
    seen = set()

    class Recording(_ItemsOnly):
        def __getitem__(self, i):
            seen.add(threading.get_ident())
            return super().__getitem__(i)

    list(DataLoader(Recording(_dataset()), batch_size=4, prefetch=True))
    assert seen == {threading.get_ident()}
