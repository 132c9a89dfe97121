"""Reductions: sum, mean, max/min, var, argmax.

A sum copies its gradient back to every element it summed; a mean does the same divided by
the count; max is seed 003's *max gate*, a gradient router: only the winning element gets it.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor, wrap
from striate.ops.limits import DimensionError

MaxMin = namedtuple("MaxMin", ["values", "indices"])


def normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """`dim` as a sorted tuple of non-negative axes (None means all).

    A 0-d tensor accepts dim 0 or -1, as in PyTorch, and has no axis to reduce: ().
    """
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        dims = (dim,)
    elif isinstance(dim, (tuple, list)):
        dims = tuple(dim)
    else:
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    out = []
    lim = ndim if ndim > 0 else 1
    for d in dims:
        if not isinstance(d, (int, np.integer)):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
        if not -lim <= d < lim:
            raise DimensionError(
                f"{op}: dimension {d} is out of range for a tensor with {ndim} dimensions "
                f"(expected {-lim} <= dim < {lim})"
            )
        out.append(d % lim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dimension {dim} appears more than once in the list of dims")
    return tuple(sorted(out)) if ndim else ()


def _expand_back(g: np.ndarray, shape: tuple[int, ...], axes, keepdim: bool) -> np.ndarray:
    """Re-insert reduced axes into g so that it broadcasts against the input."""
    if axes is None:
        return g.reshape((1,) * len(shape)) if shape else g
    if not keepdim and shape:
        g = np.expand_dims(g, axes)
    return g


class Sum(Function):
    """z = sum_i x_i;  dz/dx_i = 1 (the gradient is copied to every summed element)."""

    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        return np.asarray(x.sum(axis=axes, keepdims=keepdim))

    def backward(self, g):
        g = _expand_back(g, self.shape, self.axes, self.keepdim)
        return (np.broadcast_to(g, self.shape),)


class Mean(Function):
    """z = (1/N) sum_i x_i;  dz/dx_i = 1/N."""

    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        self.n = n
        # sum / n (NumPy's mean does the same pairwise sum); an empty mean is nan, as in PyTorch
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(x.sum(axis=axes, keepdims=keepdim) / x.dtype.type(n), dtype=x.dtype)

    def backward(self, g):
        g = _expand_back(g, self.shape, self.axes, self.keepdim)
        return (np.broadcast_to(g / np.asarray(self.n, g.dtype), self.shape),)


class Extreme(Function):
    """Full max/min (or amax/amin over axes): the gradient is shared evenly between ties."""

    saves_inputs = (0,)

    def forward(self, x, axes, keepdim, largest):
        if x.size == 0 and (axes is None or any(x.shape[a] == 0 for a in axes)):
            raise ValueError(
                f"max()/min() over an empty dimension of a tensor of shape {x.shape} has no value; "
                "give a non-empty input or reduce over a non-empty dimension"
            )
        self.x, self.axes, self.keepdim = x, axes, keepdim
        red = np.max if largest else np.min
        self.out_keep = red(x, axis=axes, keepdims=True)
        return np.asarray(red(x, axis=axes, keepdims=keepdim))

    def backward(self, g):
        x = self.x
        mask = (x == self.out_keep).astype(g.dtype)
        count = mask.sum(axis=self.axes, keepdims=True)
        g = _expand_back(g, x.shape, self.axes, self.keepdim)
        return (g * mask / count,)


class TakeAlong(Function):
    """Pick x[..., idx, ...] along one axis (max/min with dim): the gradient goes to idx only."""

    def forward(self, x, idx, axis):
        self.shape, self.idx, self.axis = x.shape, idx, axis
        if idx is None:  # 0-d input: the value itself
            return x.copy()
        return np.take_along_axis(x, idx, axis)

    def backward(self, g):
        if self.idx is None:
            return (g,)
        out = np.zeros(self.shape, g.dtype)
        np.put_along_axis(out, self.idx, g, self.axis)
        return (out,)


class Var(Function):
    """v = sum (x - mean)^2 / (N - correction);  dv/dx_i = 2 (x_i - mean) / (N - correction)."""

    def forward(self, x, axes, keepdim, correction):
        n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        self.axes, self.keepdim, self.shape = axes, keepdim, x.shape
        with np.errstate(divide="ignore", invalid="ignore"):  # empty: nan, as in PyTorch
            self.centered = x - x.mean(axis=axes, keepdims=True)
        self.denom = n - correction if n > correction else 0
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (self.centered ** 2).sum(axis=axes, keepdims=keepdim) / x.dtype.type(self.denom)
        return np.asarray(out, dtype=x.dtype)

    def backward(self, g):
        g = _expand_back(g, self.shape, self.axes, self.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g * (2 * self.centered) / g.dtype.type(self.denom),)


def sum(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    """The sum over `dim` (all by default); `dtype` casts the input first, as PyTorch does."""
    if dtype is not None:
        x = x.type(dtype)
    return Sum.apply(x, axes=normalize_dims(dim, x.ndim, "sum"), keepdim=keepdim)


def mean(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The mean over `dim` (all by default); `dtype` casts the input first, as PyTorch does."""
    if dtype is not None:
        x = x.type(dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"mean() needs a floating point tensor, got {x.dtype}; use .float() first")
    return Mean.apply(x, axes=normalize_dims(dim, x.ndim, "mean"), keepdim=keepdim)


def _extreme_dim(x: Tensor, dim: Any, keepdim: bool, largest: bool):
    op = "max" if largest else "min"
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}(dim=...) takes one int dimension, got {dim!r}; use amax/amin for several")
    normalize_dims(dim, x.ndim, op)
    if x.ndim == 0:  # a 0-d tensor is its own max, at index 0, and stays 0-d (keepdim or not)
        return MaxMin(TakeAlong.apply(x, idx=None, axis=None), wrap(np.zeros((), np.int64), False))
    axis = int(dim) % x.ndim
    if x.shape[axis] == 0:
        raise ValueError(
            f"{op}(dim={dim}) of a tensor of shape {x.shape}: dimension {axis} has size 0, so there "
            "is no value"
        )
    idx = (np.argmax if largest else np.argmin)(x.array, axis=axis, keepdims=True)
    values = TakeAlong.apply(x, idx=idx, axis=axis)
    if not keepdim:
        values = values.squeeze(axis)
        idx = np.squeeze(idx, axis)
    return MaxMin(values, wrap(idx.astype(np.int64, copy=False), False))


def max(x: Tensor, dim: Any = None, keepdim: bool = False):  # noqa: A001
    """Largest element; with `dim`, a (values, indices) pair like `torch.max`."""
    if dim is None:
        return Extreme.apply(x, axes=None, keepdim=False, largest=True)
    return _extreme_dim(x, dim, keepdim, True)


def min(x: Tensor, dim: Any = None, keepdim: bool = False):  # noqa: A001
    """Smallest element; with `dim`, a (values, indices) pair like `torch.min`."""
    if dim is None:
        return Extreme.apply(x, axes=None, keepdim=False, largest=False)
    return _extreme_dim(x, dim, keepdim, False)


def amax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return Extreme.apply(x, axes=normalize_dims(dim, x.ndim, "amax"), keepdim=keepdim, largest=True)


def amin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return Extreme.apply(x, axes=normalize_dims(dim, x.ndim, "amin"), keepdim=keepdim, largest=False)


def var(x: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False,
        correction: int | None = None) -> Tensor:
    """Variance with Bessel's correction by default (divide by N - 1), like `torch.var`."""
    if correction is None:
        correction = 1 if unbiased else 0
    return Var.apply(x, axes=normalize_dims(dim, x.ndim, "var"), keepdim=keepdim,
                     correction=correction)


def std(x: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False,
        correction: int | None = None) -> Tensor:
    return var(x, dim, unbiased, keepdim, correction).sqrt()


def _arg(x: Tensor, dim: int | None, keepdim: bool, largest: bool) -> Tensor:
    fn = np.argmax if largest else np.argmin
    if x.numel() == 0:
        raise ValueError("argmax()/argmin() of an empty tensor has no answer")
    if dim is None:
        out = np.asarray(fn(x.array))
        if keepdim:
            out = out.reshape((1,) * x.ndim)
    else:
        if not isinstance(dim, (int, np.integer)):
            raise TypeError(f"argmax/argmin take one int dimension, got {dim!r}")
        normalize_dims(dim, x.ndim, "argmax" if largest else "argmin")
        out = fn(x.array, axis=int(dim) % x.ndim, keepdims=keepdim) if x.ndim else np.asarray(0)
    return wrap(np.asarray(out, dtype=np.int64), False)


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg(x, dim, keepdim, True)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg(x, dim, keepdim, False)
