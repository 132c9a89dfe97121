"""Subsets and seeded splits (a validation set taken from the training set).

The split is a permutation of `range(len(dataset))` drawn from `np.random.default_rng(seed)`,
so the same seed gives the same split on every run; subsets keep the dataset's fast batch path
(`get_batch` fancy-indexes the parent's arrays through the subset's indices).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from striate.data.datasets.base import _as_array, _as_tensor, transform_batch


class Subset:
    """The items `indices` of `dataset` (torch.utils.data.Subset), optionally with an extra
    `transform` applied after the dataset's own (e.g. augmentation on the training part only)."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray, transform: Callable | None = None
                 ) -> None:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"subset indices must lie in [-{n}, {n}) for a dataset of {n} items")
        self.dataset = dataset
        self.indices = idx % n if n else idx
        self.transform = transform

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def targets(self) -> np.ndarray:
        return np.asarray(self.dataset.targets)[self.indices]

    @property
    def data(self) -> np.ndarray:
        return np.asarray(self.dataset.data)[self.indices]

    @property
    def classes(self) -> list[str]:
        return list(self.dataset.classes)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        n = len(self)
        i = int(index)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for a Subset of size {n}")
        image, label = self.dataset[int(self.indices[i])]
        if self.transform is not None:
            image = _as_tensor(self.transform(_as_array(image)))
        return image, label

    def get_batch(self, indices: Any, rng: np.random.Generator | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        parent = self.indices[np.asarray(indices, dtype=np.int64)]
        if hasattr(self.dataset, "get_batch"):
            x, y = self.dataset.get_batch(parent, rng)
        else:
            items = [self.dataset[int(i)] for i in parent]
            x = np.stack([np.asarray(_as_array(im), dtype=np.float32) for im, _ in items])
            y = np.asarray([lab for _, lab in items], dtype=np.int64)
        return transform_batch(self.transform, x, rng), y

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return self.get_batch(np.arange(len(self)))

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {type(self.dataset).__name__} with {len(self.dataset)} items)"


def _resolve_seed(seed: int | None) -> int:
    if seed is not None:
        return int(seed)
    from striate.random import default_generator

    return int(default_generator().integers(0, 2**63 - 1))


def _lengths(n: int, lengths: Sequence[float]) -> list[int]:
    if all(isinstance(x, (int, np.integer)) for x in lengths):
        if sum(lengths) != n or any(x < 0 for x in lengths):
            raise ValueError(f"split lengths {list(lengths)} must be non-negative and sum to the dataset "
                             f"size {n}")
        return [int(x) for x in lengths]
    if any(x < 0 for x in lengths) or not math.isclose(sum(lengths), 1.0, abs_tol=1e-9):
        raise ValueError(f"split fractions {list(lengths)} must be non-negative and sum to 1")
    from striate.utils.data.dataset import fraction_sizes  # torch.utils.data.random_split's rule

    return fraction_sizes(n, lengths)


def random_split(dataset: Any, lengths: Sequence[float], seed: int | None = None) -> list[Subset]:
    """Split `dataset` into non-overlapping subsets of the given lengths (or fractions summing
    to 1), in a random order fixed by `seed` (drawn from striate's generator when None)."""
    n = len(dataset)
    sizes = _lengths(n, lengths)
    order = np.random.default_rng(_resolve_seed(seed)).permutation(n)
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def train_val_split(dataset: Any, val_fraction: float = 0.1, seed: int = 0) -> tuple[Subset, Subset]:
    """(train, validation) subsets of a training set: `round(val_fraction * len)` items go to
    validation, chosen by a permutation seeded with `seed`; both keep the dataset's order
    within themselves (sorted indices), so they read the arrays sequentially."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1 (exclusive), got {val_fraction}")
    n = len(dataset)
    n_val = int(round(val_fraction * n))
    if n_val == 0 or n_val == n:
        raise ValueError(f"val_fraction={val_fraction} of {n} items leaves an empty part; use a larger "
                         "dataset or a different fraction")
    order = np.random.default_rng(int(seed)).permutation(n)
    return Subset(dataset, np.sort(order[n_val:])), Subset(dataset, np.sort(order[:n_val]))
