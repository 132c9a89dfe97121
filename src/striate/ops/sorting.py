"""Ordering: `sort`, `argsort`, `msort`, `topk`.

Sorting permutes the input, so the values it returns are x gathered at the sorted indices and
the gradient goes back through the same indices (the max gate of seed 003 generalised: each
output position routes its gradient to the one input element it came from).
NaN sorts as the largest value, as in PyTorch.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from striate.autograd.tensor import Tensor, wrap
from striate.ops.reduce import TakeAlong, normalize_dims

SortResult = namedtuple("sort", ["values", "indices"])  # torch.return_types.sort
TopKResult = namedtuple("topk", ["values", "indices"])  # torch.return_types.topk


def _axis(x: Tensor, dim: int, op: str) -> int:
    normalize_dims(dim, x.ndim, op)
    return int(dim) % max(x.ndim, 1)


def sort_indices(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable order along `axis`: ties keep their input order, ascending or descending."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    # descending and stable: sort the reversed array ascending, then reverse the order back
    n = a.shape[axis]
    rev = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return np.flip(n - 1 - rev, axis)


def _gathered(x: Tensor, idx: np.ndarray, axis: int) -> Tensor:
    if x.ndim == 0:
        return TakeAlong.apply(x, idx=None, axis=None)
    return TakeAlong.apply(x, idx=idx, axis=axis)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False  # noqa: A002
         ) -> SortResult:
    """(values, indices) sorted along `dim`; always stable here (PyTorch's stable=False allows any
    order among ties, and a stable order is one of them)."""
    axis = _axis(input, dim, "sort")
    if input.ndim == 0:
        return SortResult(_gathered(input, None, 0), wrap(np.zeros((), np.int64), False))
    idx = sort_indices(input.array, axis, descending).astype(np.int64, copy=False)
    return SortResult(_gathered(input, idx, axis), wrap(idx, False))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False  # noqa: A002
            ) -> Tensor:
    return sort(input, dim, descending, stable).indices


def msort(input: Tensor) -> Tensor:  # noqa: A002
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True  # noqa: A002
         ) -> TopKResult:
    """The k largest (or smallest) entries along `dim` and their indices, largest first.

    With sorted=False PyTorch returns them in an unspecified order; here they are always sorted."""
    axis = _axis(input, dim, "topk")
    n = input.shape[axis] if input.ndim else 1
    if not 0 <= int(k) <= n:
        raise RuntimeError(f"topk(): k ({k}) is out of range for dimension {dim} of size {n} "
                           f"(need 0 <= k <= {n})")
    if input.ndim == 0:
        if k == 1:
            return TopKResult(_gathered(input, None, 0), wrap(np.zeros((), np.int64), False))
        return TopKResult(wrap(np.zeros((0,), input.dtype), False), wrap(np.zeros((0,), np.int64), False))
    idx = _top_indices(input.array, int(k), axis, largest)
    return TopKResult(_gathered(input, idx, axis), wrap(idx, False))


def _top_indices(a: np.ndarray, k: int, axis: int, largest: bool) -> np.ndarray:
    """The indices of the k largest (smallest) along `axis`, in sorted order: a partition (O(n))
    picks the k, then only those k are sorted. Which of several equal values at the k-th place is
    picked is unspecified, as in PyTorch."""
    n = a.shape[axis]
    if k == 0 or 4 * k >= n:  # small n or large k: sorting everything is as cheap
        order = sort_indices(a, axis, descending=largest)
        return np.take(order, np.arange(k), axis=axis).astype(np.int64, copy=False)
    kth = n - k if largest else k - 1
    part = np.argpartition(a, kth, axis=axis)
    chosen = np.take(part, np.arange(n - k, n) if largest else np.arange(k), axis=axis)
    # order the chosen k by value (ties by index, so the result does not depend on the partition)
    chosen = np.sort(chosen, axis=axis)
    values = np.take_along_axis(a, chosen, axis)
    order = sort_indices(values, axis, descending=largest)
    return np.take_along_axis(chosen, order, axis).astype(np.int64, copy=False)
