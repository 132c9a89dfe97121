"""Moving elements without changing them: `flip`, `roll`, `tile`, `tril`/`triu`, `diag`, `meshgrid`.

Each is a permutation, a copy or a mask of the input, so its backward is the inverse
permutation (flip back, roll by -shift), the sum over the copies, or the same mask.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.reduce import normalize_dims
from striate.ops.shape import repeat, reshape


def _dims_list(dims: Any) -> tuple[int, ...]:
    if isinstance(dims, (int, np.integer)):
        return (int(dims),)
    return tuple(int(d) for d in dims)


class Flip(Function):
    """z = x reversed along `axes`;  dL/dx = dL/dz reversed along the same axes."""

    def forward(self, x, axes):
        self.axes = axes
        return np.flip(x, axes).copy()

    def backward(self, g):
        return (np.flip(g, self.axes).copy(),)


def flip(input: Tensor, dims: Any) -> Tensor:  # noqa: A002 - PyTorch's argument name
    axes = normalize_dims(_dims_list(dims), input.ndim, "flip")
    return Flip.apply(input, axes=axes if input.ndim else ())


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    if input.ndim < 2:
        raise RuntimeError(f"fliplr(): input must be at least 2-D, got shape {input.shape}")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    if input.ndim < 1:
        raise RuntimeError("flipud(): input must be at least 1-D, got a 0-d tensor")
    return flip(input, 0)


class Roll(Function):
    """z = x shifted cyclically by `shifts` along `axes` (flattened when axes is None);
    dL/dx = dL/dz rolled back by -shifts."""

    def forward(self, x, shifts, axes):
        self.shifts, self.axes, self.shape = shifts, axes, x.shape
        if axes is None:
            return np.roll(x.reshape(-1), shifts[0]).reshape(x.shape)
        return np.roll(x, shifts, axes)

    def backward(self, g):
        back = tuple(-s for s in self.shifts)
        if self.axes is None:
            return (np.roll(g.reshape(-1), back[0]).reshape(self.shape),)
        return (np.roll(g, back, self.axes),)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:  # noqa: A002
    shifts = _dims_list(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll(): without dims, shifts must be one int, got {shifts}")
        return Roll.apply(input, shifts=shifts, axes=None)
    dims = _dims_list(dims)
    if len(dims) != len(shifts):
        raise RuntimeError(f"roll(): shifts and dims must have the same length, got {len(shifts)} "
                           f"shifts and {len(dims)} dims")
    lim = max(input.ndim, 1)
    for d in dims:  # repeated dims are allowed here (the shifts add up), unlike in reductions
        normalize_dims(d, input.ndim, "roll")
    return Roll.apply(input, shifts=shifts, axes=tuple(d % lim for d in dims))


def tile(input: Tensor, dims: Any) -> Tensor:  # noqa: A002
    """`repeat` with fewer counts than dimensions allowed (the missing leading counts are 1)."""
    reps = _dims_list(dims)
    reps = (1,) * (input.ndim - len(reps)) + reps
    return repeat(input, reps)


class TriangleMask(Function):
    """z = x where the element is on the kept side of diagonal k, else 0;  dL/dx = dL/dz * mask."""

    def forward(self, x, k, lower):
        rows, cols = x.shape[-2:]
        keep = np.tri(rows, cols, k, dtype=bool)
        self.mask = keep if lower else ~np.tri(rows, cols, k - 1, dtype=bool)
        return np.where(self.mask, x, np.zeros((), x.dtype))

    def backward(self, g):
        return (np.where(self.mask, g, np.zeros((), g.dtype)),)


def _triangle(x: Tensor, diagonal: int, lower: bool) -> Tensor:
    if x.ndim < 2:
        name = "tril" if lower else "triu"
        raise RuntimeError(f"{name}(): input must be at least 2-D (a matrix or a batch of them), "
                           f"got shape {x.shape}")
    return TriangleMask.apply(x, k=int(diagonal), lower=lower)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The lower triangle (on and below diagonal k) of the last two dimensions; the rest 0."""
    return _triangle(input, diagonal, True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The upper triangle (on and above diagonal k) of the last two dimensions; the rest 0."""
    return _triangle(input, diagonal, False)


class Diag(Function):
    """1-D -> the square matrix with it on diagonal k; 2-D -> its diagonal k as 1-D.
    The two directions are each other's backward."""

    def forward(self, x, k):
        self.k, self.shape = k, x.shape
        return np.diag(x, k).copy()

    def backward(self, g):
        if len(self.shape) == 1:
            return (np.diag(g, self.k).copy(),)
        out = np.zeros(self.shape, g.dtype)
        rows = np.arange(g.shape[0]) + max(-self.k, 0)
        out[rows, rows + self.k] = g
        return (out,)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    if input.ndim not in (1, 2):
        raise RuntimeError(f"diag(): input must be 1-D or 2-D, got shape {input.shape}")
    return Diag.apply(input, k=int(diagonal))


_MESHGRID_WARNING = ("torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
                     "argument.")


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: out_i[j_1, ..., j_n] = tensors[i][j_i] ('ij'), or with the
    first two output dimensions swapped ('xy', NumPy's default). Like torch 2.x, no `indexing`
    means 'ij' and a UserWarning asking for the argument."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(_MESHGRID_WARNING, UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid(): indexing must be 'ij' or 'xy', got {indexing!r}")
    if not tensors:
        raise RuntimeError("meshgrid(): expects a non-empty list of tensors")
    _check_grid_inputs(tensors)
    flat = [t.reshape(-1) for t in tensors]
    sizes = [t.shape[0] for t in flat]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:  # 'xy' is 'ij' on the first two inputs exchanged, then the outputs' axes exchanged
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, t in enumerate(flat):
        pos = (1 - i if i < 2 else i) if swap else i
        view = [1] * len(flat)
        view[pos] = -1
        out.append(reshape(t, tuple(view)).expand(*sizes))
    return tuple(out)


def _check_grid_inputs(tensors: Sequence[Any]) -> None:
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"meshgrid(): expects Tensors, got {type(t).__name__}")
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid(): expected 0-D or 1-D tensors but got one of shape {t.shape}")
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError("meshgrid(): expects all tensors to have the same dtype, got "
                           f"{[str(t.dtype) for t in tensors]}")
