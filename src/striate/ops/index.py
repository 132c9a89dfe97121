"""Indexing: `t[index]` and `gather`. The gradient is scattered back to the picked places;
an element picked twice receives both gradients (accumulated, never overwritten)."""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.limits import DimensionError

_BASIC = (int, np.integer, slice, type(None), type(Ellipsis))


def _to_numpy_index(index: Any) -> tuple[Any, bool]:
    """Convert tensors inside an index to arrays; report whether the index is basic."""
    parts = index if isinstance(index, tuple) else (index,)
    out, basic = [], True
    for p in parts:
        if isinstance(p, Tensor):
            p = p.array
        elif isinstance(p, list):
            p = np.asarray(p)
        if not isinstance(p, _BASIC):
            basic = False
            if isinstance(p, np.ndarray) and p.dtype.kind not in "iub":
                raise IndexError(f"tensors used as indices must be integer or bool, got {p.dtype}")
        out.append(p)
    return (tuple(out) if isinstance(index, tuple) else out[0]), basic


class GetItem(Function):
    """y = x[index]; dL/dx is zero except at the picked places, which receive dL/dy."""

    is_view = True  # the output may share the input's memory (and version counter)

    def forward(self, x, index, basic):
        self.shape, self.index, self.basic = x.shape, index, basic
        out = x[index]
        if not isinstance(out, np.ndarray):  # one element: a 0-d view of it, as PyTorch's x[i]
            out = x[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
        return out

    def backward(self, g):
        grad = np.zeros(self.shape, g.dtype)
        if self.basic:  # a view: every element picked at most once
            grad[self.index] = g
        else:
            np.add.at(grad, self.index, g)
        return (grad,)


def getitem(x: Tensor, index: Any) -> Tensor:
    idx, basic = _to_numpy_index(index)
    try:
        return GetItem.apply(x, index=idx, basic=basic)
    except IndexError as e:
        raise IndexError(f"index {index!r} does not fit a tensor of shape {x.shape}: {e}") from None


class Gather(Function):
    """y[i][j] = x[i][index[i][j]] along `dim`; the gradient is added back at the same places.

    As in PyTorch, `index` may be smaller than x along every dimension except `dim`: only the
    leading part of x is read there.
    """

    def forward(self, x, index, axis):
        self.shape, self.index, self.axis = x.shape, index, axis
        if index.shape[:axis] + index.shape[axis + 1:] != x.shape[:axis] + x.shape[axis + 1:]:
            x = x[tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(index.shape))]
        return np.take_along_axis(x, index, axis)

    def backward(self, g):
        grad = np.zeros(self.shape, g.dtype)
        idx = [np.arange(n).reshape([-1 if k == i else 1 for k in range(g.ndim)])
               for i, n in enumerate(self.index.shape)]
        idx[self.axis] = self.index
        np.add.at(grad, tuple(idx), g)
        return (grad,)


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j][k] = x[i][index[i][j][k]][k] for dim=1 (and likewise for other dims), as
    `torch.gather`; index is an integer tensor with x's number of dimensions."""
    idx = index.array if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"gather: index must be an integer tensor, got {idx.dtype}")
    if idx.ndim != x.ndim:
        raise ValueError(
            f"gather: index has {idx.ndim} dimensions (shape {idx.shape}) but input has {x.ndim} "
            f"(shape {x.shape}); they must be equal"
        )
    ndim = x.ndim if x.ndim else 1
    if not -ndim <= dim < ndim:
        raise DimensionError(f"gather: dim {dim} is out of range for a tensor of shape {x.shape}")
    axis = dim % ndim
    if x.ndim == 0:
        x, idx = x.reshape(1), idx.reshape(1)
        return gather(x, 0, idx).reshape(())
    for d in range(x.ndim):
        if d != axis and idx.shape[d] > x.shape[d]:
            raise ValueError(
                f"gather: index shape {idx.shape} is larger than input shape {x.shape} in "
                f"dimension {d}; only dimension {axis} (dim) may be larger"
            )
    if idx.size and (idx.min() < 0 or idx.max() >= x.shape[axis]):
        raise IndexError(
            f"gather: index values must be in [0, {x.shape[axis]}) for dimension {axis} of input "
            f"shape {x.shape}; got values from {idx.min()} to {idx.max()}"
        )
    return Gather.apply(x, index=idx.astype(np.int64, copy=False), axis=axis)
