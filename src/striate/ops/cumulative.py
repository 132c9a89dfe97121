"""Running and full products and sums: `cumsum`, `cumprod`, `prod`.

cumsum: z_i = sum_{j<=i} x_j, so dL/dx_j = sum_{i>=j} dL/dz_i, a cumsum of the reversed gradient.
prod:   z = prod_j x_j, so dz/dx_j = prod_{k!=j} x_k, computed as (exclusive cumprod from the left)
        * (exclusive cumprod from the right), which stays right when some x_k are 0 (z/x_j would not).
cumprod: z_i = prod_{j<=i} x_j, dL/dx_j = sum_{i>=j} dL/dz_i prod_{k<=i, k!=j} x_k; computed
        exactly in O(n^2) along the axis for inputs with zeros, and as revcumsum(g z)/x otherwise.

Integer and bool inputs to sum-like ops give int64, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor, _resolve_dtype, wrap
from striate.ops.reduce import _expand_back, normalize_dims


def _rev_cumsum(g: np.ndarray, axis: int) -> np.ndarray:
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def _exclusive_cumprod(x: np.ndarray, axis: int) -> np.ndarray:
    """out_i = prod_{j<i} x_j (1 for i = 0)."""
    ones = np.ones_like(np.take(x, [0], axis=axis))
    head = np.take(x, np.arange(x.shape[axis] - 1), axis=axis)
    return np.cumprod(np.concatenate([ones, head], axis=axis), axis=axis)


def _others_product(x: np.ndarray, axis: int) -> np.ndarray:
    """prod_{k != j} x_k along `axis`, for every j, without dividing."""
    left = _exclusive_cumprod(x, axis)
    right = np.flip(_exclusive_cumprod(np.flip(x, axis), axis), axis)
    return left * right


class CumSum(Function):
    """z_i = sum_{j<=i} x_j along `axis`;  dL/dx_j = sum_{i>=j} dL/dz_i."""

    def forward(self, x, axis):
        self.axis = axis
        return np.cumsum(x, axis=axis, dtype=x.dtype)

    def backward(self, g):
        return (_rev_cumsum(g, self.axis),)


class CumProd(Function):
    """z_i = prod_{j<=i} x_j along `axis` (see the module docstring for the gradient)."""

    saves_inputs = (0,)

    def forward(self, x, axis):
        self.x, self.axis = x, axis
        self.out = np.cumprod(x, axis=axis, dtype=x.dtype)
        return self.out

    def backward(self, g):
        x, axis = self.x, self.axis
        if x.size == 0:
            return (np.zeros_like(x),)
        if np.all(x != 0):
            return (_rev_cumsum(g * self.out, axis) / x,)
        xm, gm = np.moveaxis(x, axis, -1), np.moveaxis(g, axis, -1)
        grad = np.zeros_like(xm)
        n = xm.shape[-1]
        for j in range(n):  # z_i for i >= j with x_j left out of the product
            without = xm.copy()
            without[..., j] = 1
            part = np.cumprod(without, axis=-1)[..., j:]
            grad[..., j] = (gm[..., j:] * part).sum(axis=-1)
        return (np.moveaxis(grad, -1, axis),)


class Prod(Function):
    """z = prod x over `axes` (None: all);  dz/dx_j = prod_{k != j} x_k."""

    saves_inputs = (0,)

    def forward(self, x, axis, keepdim):
        self.x, self.axis, self.keepdim = x, axis, keepdim
        return np.asarray(np.prod(x, axis=axis, keepdims=keepdim), dtype=x.dtype)

    def backward(self, g):
        x = self.x
        if x.size == 0:
            return (np.zeros_like(x),)
        if self.axis is None:
            others = _others_product(x.reshape(-1), 0).reshape(x.shape)
        else:
            others = _others_product(x, self.axis)
        axes = None if self.axis is None else (self.axis,)
        return (_expand_back(g, x.shape, axes, self.keepdim) * others,)


def _sum_dtype(x: Tensor, dtype: Any) -> Tensor:
    if dtype is not None:
        dt = _resolve_dtype(dtype)
        return x if x.dtype == dt else x.type(dt)
    if x.dtype.kind in "biu":  # PyTorch accumulates integers and bools in int64
        return wrap(x.array.astype(np.int64), False)
    return x


def _one_axis(x: Tensor, dim: Any, op: str) -> int:
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}(): dim must be one int, got {dim!r}")
    normalize_dims(dim, x.ndim, op)
    return int(dim) % max(x.ndim, 1)


def _running(fn: type[Function], input: Tensor, dim: int, dtype: Any, op: str) -> Tensor:  # noqa: A002
    x = _sum_dtype(input, dtype)
    axis = _one_axis(x, dim, op)
    if x.ndim == 0:  # a 0-d tensor is its own running sum/product
        return fn.apply(x.reshape(1), axis=0).reshape(())
    return fn.apply(x, axis=axis)


def cumsum(input: Tensor, dim: int, dtype: Any = None) -> Tensor:  # noqa: A002
    return _running(CumSum, input, dim, dtype, "cumsum")


def cumprod(input: Tensor, dim: int, dtype: Any = None) -> Tensor:  # noqa: A002
    return _running(CumProd, input, dim, dtype, "cumprod")


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, dtype: Any = None) -> Tensor:  # noqa: A002
    """Product of all elements, or along one `dim` (torch.prod takes a single dim)."""
    x = _sum_dtype(input, dtype)
    if dim is None:
        return Prod.apply(x, axis=None, keepdim=False)
    axis = _one_axis(x, dim, "prod")
    if x.ndim == 0:
        return Prod.apply(x, axis=None, keepdim=False)
    return Prod.apply(x, axis=axis, keepdim=keepdim)
