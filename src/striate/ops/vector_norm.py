"""Norms: `vector_norm` (p = 2, 1, inf, -inf, 0, any real p), the matrix norms that need no SVD
('fro', 1, -1, inf, -inf) and `Tensor.norm` / `torch.norm`'s argument forms.

    ||x||_p = (sum_i |x_i|^p)^(1/p)        d||x||_p / dx_i = sgn(x_i) |x_i|^(p-1) / ||x||_p^(p-1)

so p = 2 gives x / ||x||, p = 1 gives sgn(x), p = inf gives sgn(x) on the entries that reach the
maximum (shared evenly between ties), p = 0 (a count) gives 0. Where the norm is 0 the gradient is
0, as in PyTorch. The matrix 1-norm is the largest column sum of |A| and the inf-norm the largest
row sum: compositions of abs, sum and amax, whose gradients the graph already knows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.elementwise import abs as _abs
from striate.ops.reduce import _expand_back, amax, amin, normalize_dims
from striate.ops.reduce import sum as _sum


class VectorNorm(Function):
    """z = ||x||_p over `axes` (None: all elements); gradient in the module docstring."""

    saves_inputs = (0,)
    saves_output = True

    def forward(self, x, p, axes, keepdim):
        self.x, self.p, self.axes, self.keepdim = x, p, axes, keepdim
        a = np.abs(x)
        if p == 2:
            out = np.sqrt(np.sum(a * a, axis=axes, keepdims=keepdim))
        elif p == 1:
            out = np.sum(a, axis=axes, keepdims=keepdim)
        elif math.isinf(p):
            red = np.max if p > 0 else np.min
            out = red(a, axis=axes, keepdims=keepdim)
        elif p == 0:
            out = np.sum(a != 0, axis=axes, keepdims=keepdim).astype(x.dtype)
        else:
            with np.errstate(divide="ignore"):
                out = np.sum(a ** p, axis=axes, keepdims=keepdim) ** (1 / p)
        self.out = np.asarray(out, dtype=x.dtype)
        return self.out

    def backward(self, g):
        x, p = self.x, self.p
        n = _expand_back(self.out, x.shape, self.axes, self.keepdim)
        g = _expand_back(g, x.shape, self.axes, self.keepdim)
        zero = np.zeros((), x.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 0:
                return (np.zeros_like(x),)
            if p == 1:
                return (g * np.sign(x),)
            if math.isinf(p):
                hit = (np.abs(x) == n).astype(x.dtype)
                count = hit.sum(axis=self.axes, keepdims=True)
                return (np.sign(x) * hit * g / count,)
            if p == 2:
                return (np.where(n == 0, zero, g * x / n),)
            scaled = np.sign(x) * np.abs(x) ** (p - 1)
            return (np.where(n == 0, zero, scaled * g / n ** (p - 1)),)


def _float_input(x: Tensor, op: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor as input, got {x.dtype}; "
                           "convert it first with .float()")


def _ord_value(ord: Any, op: str) -> float:  # noqa: A002
    if isinstance(ord, (str, bool)):
        raise RuntimeError(f"{op}: ord must be a number (2, 1, inf, -inf, 0 or any real p), got {ord!r}")
    return float(ord)


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False,  # noqa: A002
                dtype: Any = None) -> Tensor:
    """||x||_ord over `dim` (None: every element), like `torch.linalg.vector_norm`."""
    _float_input(x, "linalg.vector_norm")
    if dtype is not None:
        x = x.type(dtype)
    p = _ord_value(ord, "linalg.vector_norm")
    axes = normalize_dims(dim, x.ndim, "linalg.vector_norm")
    if p < 0 or math.isinf(p):
        dims = range(x.ndim) if axes is None else axes
        if any(x.shape[d] == 0 for d in dims):
            raise RuntimeError(f"linalg.vector_norm: cannot compute the {ord} norm of an empty "
                               f"dimension of a tensor of shape {x.shape} (it has no maximum/minimum)")
    return VectorNorm.apply(x, p=p, axes=axes, keepdim=keepdim)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False,  # noqa: A002, N803
                dtype: Any = None) -> Tensor:
    """Matrix norms over the two dims: 'fro', 1, -1, inf, -inf (the SVD-based 2, -2, 'nuc' are not
    available in striate: a clear error says so)."""
    _float_input(A, "linalg.matrix_norm")
    if dtype is not None:
        A = A.type(dtype)
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple of ints, got {dim!r}")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: the input must be at least 2-D, got shape {A.shape}")
    for d in dim:
        normalize_dims(d, A.ndim, "linalg.matrix_norm")
    rows, cols = int(dim[0]) % A.ndim, int(dim[1]) % A.ndim
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different, got {dim}")
    if ord == "fro":
        return VectorNorm.apply(A, p=2.0, axes=tuple(sorted((rows, cols))), keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs singular values, which "
                                  "striate does not compute; use 'fro', 1, -1, inf or -inf")
    p = _ord_value(ord, "linalg.matrix_norm")
    if abs(p) not in (1.0, math.inf):
        raise RuntimeError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2, "
                           f"got {ord!r}")
    # 1-norm: sum over rows (a column sum), then the extreme over columns; inf-norm the reverse
    summed, over = (rows, cols) if abs(p) == 1 else (cols, rows)
    sums = _sum(_abs(A), summed, keepdim=True)
    out = (amax if p > 0 else amin)(sums, over, keepdim=True)
    return out if keepdim else out.squeeze(max(rows, cols)).squeeze(min(rows, cols))


def linalg_norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False,  # noqa: A002, N803
                dtype: Any = None) -> Tensor:
    """`torch.linalg.norm`: a vector norm for a 1-D input or an int dim, a matrix norm for a 2-D
    input with an ord or a 2-tuple dim; ord=None is the 2-norm of the flattened input / 'fro'."""
    _float_input(A, "linalg.norm")
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, tuple(dim), keepdim, dtype)
    if dim is None and ord is not None:
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype)
        if A.ndim != 1:
            raise RuntimeError(f"linalg.norm: with ord={ord!r} and no dim the input must be 1-D or 2-D, "
                               f"got shape {A.shape}; give dim")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,  # noqa: A002
         dtype: Any = None) -> Tensor:
    """`torch.norm` / `Tensor.norm`: p='fro' (the default) or a number is the vector p-norm of the
    flattened input or over `dim`; p='fro' over two dims is the Frobenius norm; p='nuc' needs an
    SVD (not available)."""
    if p == "fro" or p is None:
        return vector_norm(input, 2, dim, keepdim, dtype)
    if p == "nuc":
        raise NotImplementedError("norm(p='nuc') needs singular values, which striate does not "
                                  "compute; use p='fro' or a number")
    return vector_norm(input, p, dim, keepdim, dtype)
