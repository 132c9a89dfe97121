"""Datasets with torch.utils.data's classes and semantics.

A map-style dataset has `__getitem__(index)` and `__len__()`; an iterable-style one has
`__iter__()` (its DataLoader workers each iterate their own pass: shard with
`get_worker_info()`). `Dataset + Dataset` is a ConcatDataset, `IterableDataset + IterableDataset`
a ChainDataset. `random_split` draws `randperm(sum(lengths), generator=generator)` from
PyTorch's stream, so the same seed gives torch's split.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from striate.autograd.tensor import Tensor
from striate.random import Generator
from striate.random import generator as _global_generator

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map-style dataset: subclass it and define `__getitem__` (and `__len__` for samplers)."""

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index) (subclasses of "
                                  "Dataset return one sample per index)")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """An iterable-style dataset: subclass it and define `__iter__`."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__() (subclasses of "
                                  "IterableDataset yield their samples)")

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the i-th rows of `tensors` (all with the same first dimension)."""

    def __init__(self, *tensors: Tensor) -> None:
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            raise ValueError(f"Size mismatch between tensors: first dimensions {sizes}; every tensor of a "
                             "TensorDataset needs one row per sample")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0] if self.tensors else 0


class StackDataset(Dataset):
    """Samples are tuples (positional) or dicts (keywords) of the datasets' samples at one index."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("StackDataset takes datasets either as positional arguments (tuple samples) or "
                             "as keyword arguments (dict samples), not both")
        datasets = list(args) or list(kwargs.values())
        if not datasets:
            raise ValueError("StackDataset needs at least one dataset")
        lengths = [len(d) for d in datasets]
        if len(set(lengths)) > 1:
            raise ValueError(f"Size mismatch between datasets: lengths {lengths}")
        self._length = lengths[0]
        self.datasets: tuple | dict = tuple(args) if args else dict(kwargs)

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset):
    """The datasets one after the other; `cumulative_sizes[i]` is the end of dataset i."""

    @staticmethod
    def cumsum(sequence: Sequence[Any]) -> list[int]:
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable: give ConcatDataset at least one "
                             "dataset")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset; chain those with "
                                "ChainDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        if which >= len(self.datasets):
            raise IndexError(f"index {idx} is out of range for a ConcatDataset of {len(self)} samples")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Iterable datasets one after the other."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)  # type: ignore[arg-type]


class Subset(Dataset):
    """The samples `indices` of `dataset` (indices kept as given, as torch does)."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list[Any]:
        parent = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(parent)
        return [self.dataset[i] for i in parent]

    def __len__(self) -> int:
        return len(self.indices)


def fraction_sizes(n: int, fractions: Sequence[float]) -> list[int]:
    """floor(n * f) for each fraction, the remainder handed out one by one from the first part."""
    sizes = [math.floor(n * frac) for frac in fractions]
    for i in range(n - sum(sizes)):
        sizes[i % len(sizes)] += 1
    return sizes


def split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """torch's rule: fractions summing to 1 become floor(n * f) each, the remainder handed out
    one by one from the first part; integer lengths must sum to n."""
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        sizes = fraction_sizes(n, lengths)
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=3)
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths does not equal the length of the input dataset! (lengths "
                         f"{lengths} sum to {sum(lengths)}, the dataset has {n} samples; give lengths that "
                         "sum to it, or fractions that sum to 1)")
    return [int(x) for x in lengths]


def random_split(dataset: Any, lengths: Sequence[float], generator: Generator | None = None) -> list[Subset]:
    """Non-overlapping Subsets of the given lengths (or fractions summing to 1): consecutive
    slices of `randperm(len(dataset), generator=generator)`, the global generator by default."""
    from striate.sampling import randperm

    sizes = split_lengths(len(dataset), lengths)
    gen = generator if generator is not None else _global_generator()
    indices = randperm(sum(sizes), generator=gen).tolist()
    return [Subset(dataset, indices[end - size:end]) for end, size in zip(itertools.accumulate(sizes), sizes)]
