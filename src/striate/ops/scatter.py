"""Writing into places: `masked_fill`, `scatter`, `scatter_add`, `index_select` (+ in-place forms).

The backward of a write is the reverse read: the elements that were overwritten get no gradient
from the output (their old values were lost), the written values get the output gradient at the
places they went to (`gather`), and an added value gets it unchanged (scatter_add).

The in-place forms (`masked_fill_`, `scatter_`, `scatter_add_`) go through
`ops.inplace.apply_inplace`, as `add_`/`zero_` do: on a tensor in the graph the op is recorded
(the tensor's grad_fn becomes its node, with PyTorch's version rule), elsewhere the values are
written in place; a leaf that requires grad is refused as PyTorch refuses it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor, wrap
from striate.ops.inplace import apply_inplace
from striate.ops.reduce import normalize_dims


def _int_index(index: Any, op: str) -> np.ndarray:
    idx = index.array if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): index must be an int64 tensor, got {idx.dtype}; use index.long()")
    return idx.astype(np.int64, copy=False)


def _value_tensor(value: Any, like: Tensor, op: str) -> Tensor:
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"{op}() only supports a 0-dimensional value tensor, but got a tensor "
                               f"of shape {value.shape}; pass a number or a 0-d tensor")
        return value if value.dtype == like.dtype else wrap(value.array.astype(like.dtype), False)
    return wrap(np.asarray(value, dtype=like.dtype), False)


# ---------------------------------------------------------------------------- masked_fill
class MaskedFill(Function):
    """z = value where mask else x;  dL/dx = dL/dz where not mask, dL/dvalue = sum over mask."""

    def forward(self, x, value, mask):
        self.mask = np.broadcast_to(mask, x.shape)
        return np.where(self.mask, value, x)

    def backward(self, g):
        nx, nv = self.needs_input_grad
        zero = np.zeros((), g.dtype)
        gx = np.where(self.mask, zero, g) if nx else None
        gv = np.asarray(np.where(self.mask, g, zero).sum(), g.dtype) if nv else None
        return gx, gv


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:  # noqa: A002
    """A copy of input with `value` wherever the bool `mask` (broadcast to input's shape) is True."""
    m = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill only supports boolean masks, but got a mask of dtype {m.dtype}; "
                           "use mask.bool() or a comparison such as x > 0")
    try:
        np.broadcast_to(m, input.shape)
    except ValueError:
        raise RuntimeError(f"masked_fill: the mask of shape {m.shape} does not broadcast to the "
                           f"input's shape {input.shape}") from None
    return MaskedFill.apply(input, _value_tensor(value, input, "masked_fill"), mask=m)


def masked_fill_(input: Tensor, mask: Any, value: Any) -> Tensor:  # noqa: A002
    return apply_inplace(input, _tensors(value), lambda a: masked_fill(wrap(a), mask, _detached(value)).array,
                         lambda old: masked_fill(old, mask, value))


# ---------------------------------------------------------------------------- scatter
def _scatter_places(idx: np.ndarray, axis: int) -> tuple[np.ndarray, ...]:
    """The full coordinates `self[i][index[i][j]]...` that scatter writes (for dim = axis)."""
    coords = [np.arange(n).reshape([-1 if k == i else 1 for k in range(idx.ndim)])
              for i, n in enumerate(idx.shape)]
    coords[axis] = idx
    return tuple(np.broadcast_arrays(*coords))


def _src_part(src: np.ndarray, idx_shape: tuple[int, ...]) -> np.ndarray:
    return src[tuple(slice(0, n) for n in idx_shape)]


class Scatter(Function):
    """z = x with z[place(i)] = src[i] (place: the index along dim);  dL/dx = dL/dz with the
    overwritten places zeroed, dL/dsrc = dL/dz read at the places (gather), 0 beyond the index."""

    def forward(self, x, src, places, idx_shape, add):
        self.places, self.idx_shape, self.src_shape, self.add = places, idx_shape, src.shape, add
        out = x.copy()
        part = _src_part(src, idx_shape) if src.ndim else np.broadcast_to(src, idx_shape)
        if add:
            np.add.at(out, places, part)
        else:
            out[places] = part
        return out

    def backward(self, g):
        nx, ns = self.needs_input_grad
        gx = gs = None
        if nx:
            gx = g.copy()
            if not self.add:
                gx[self.places] = 0
        if ns:
            picked = g[self.places]
            if len(self.src_shape) == 0:
                gs = np.asarray(picked.sum(), g.dtype)
            else:
                gs = np.zeros(self.src_shape, g.dtype)
                gs[tuple(slice(0, n) for n in self.idx_shape)] = picked
        return gx, gs


def _check_scatter(x: Tensor, dim: int, idx: np.ndarray, src: Tensor | None, op: str) -> int:
    normalize_dims(dim, x.ndim, op)
    axis = int(dim) % max(x.ndim, 1)
    if idx.ndim != max(x.ndim, 1) and not (x.ndim == 0 and idx.ndim <= 1):
        raise RuntimeError(f"{op}(): index must have the same number of dimensions as self "
                           f"({x.ndim}), got shape {idx.shape}")
    if src is not None and src.ndim and src.dtype != x.dtype:
        raise RuntimeError(f"{op}(): expected self.dtype ({x.dtype}) to be equal to src.dtype "
                           f"({src.dtype}); convert src with .to(self.dtype)")
    shape = x.shape or (1,)
    for d, n in enumerate(idx.shape):
        if d != axis and n > shape[d]:
            raise RuntimeError(f"{op}(): index shape {idx.shape} is larger than self's {x.shape} in "
                               f"dimension {d}")
        if src is not None and src.ndim and n > src.shape[d]:
            raise RuntimeError(f"{op}(): index shape {idx.shape} is larger than src's {src.shape} in "
                               f"dimension {d}")
    if idx.size and (idx.min() < 0 or idx.max() >= shape[axis]):
        bad = int(idx.min() if idx.min() < 0 else idx.max())
        raise RuntimeError(f"{op}(): index {bad} is out of bounds for dimension {axis} with size "
                           f"{shape[axis]}")
    return axis


def _scatter(x: Tensor, dim: int, index: Any, src: Any, add: bool, op: str) -> Tensor:
    idx = _int_index(index, op)
    src_t = src if isinstance(src, Tensor) else _value_tensor(src, x, op)
    axis = _check_scatter(x, dim, idx, src_t if isinstance(src, Tensor) else None, op)
    if x.ndim == 0:  # a 0-d self behaves as one element
        out = _scatter(x.reshape(1), 0, idx.reshape(-1), src_t.reshape(-1) if src_t.ndim else src_t,
                       add, op)
        return out.reshape(())
    if src_t.dtype != x.dtype:
        src_t = wrap(src_t.array.astype(x.dtype), False)
    return Scatter.apply(x, src_t, places=_scatter_places(idx, axis), idx_shape=idx.shape, add=add)


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, value: Any = None,  # noqa: A002
            reduce: str | None = None) -> Tensor:
    """out = input with out[i][index[i][j]] = src[i][j] (dim=1; likewise for other dims).
    `src` may be a tensor or a number (`value=` too); reduce='add' adds instead (scatter_add)."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() needs src (a tensor) or value (a number)")
    if reduce not in (None, "add"):
        raise RuntimeError(f"scatter(): reduce must be None or 'add' here, got {reduce!r}; "
                           "'multiply' is not supported (use scatter_reduce in PyTorch terms)")
    return _scatter(input, dim, index, src, reduce == "add", "scatter")


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:  # noqa: A002
    """out = input with src[i][j] added at out[i][index[i][j]] (repeated places add up)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): src must be a Tensor, got {type(src).__name__}")
    return _scatter(input, dim, index, src, True, "scatter_add")


def scatter_(input: Tensor, dim: int, index: Any, src: Any = None, value: Any = None,  # noqa: A002
             reduce: str | None = None) -> Tensor:
    return apply_inplace(input, _tensors(src, value),
                         lambda a: scatter(wrap(a), dim, index, _detached(src), _detached(value),
                                           reduce).array,
                         lambda old: scatter(old, dim, index, src, value, reduce))


def scatter_add_(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:  # noqa: A002
    return apply_inplace(input, _tensors(src),
                         lambda a: scatter_add(wrap(a), dim, index, _detached(src)).array,
                         lambda old: scatter_add(old, dim, index, src))


def _tensors(*values: Any) -> tuple[Tensor, ...]:
    """The operands of an in-place op that are tensors (those may bring a gradient)."""
    return tuple(v for v in values if isinstance(v, Tensor))


def _detached(t: Any) -> Any:
    return t.detach() if isinstance(t, Tensor) else t


# ---------------------------------------------------------------------------- index_select
class IndexSelect(Function):
    """z = x[..., index, ...] along `axis`;  dL/dx adds dL/dz back at each picked place."""

    def forward(self, x, idx, axis):
        self.idx, self.axis, self.shape = idx, axis, x.shape
        return np.take(x, idx, axis=axis)

    def backward(self, g):
        grad = np.zeros(self.shape, g.dtype)
        np.add.at(np.moveaxis(grad, self.axis, 0), self.idx, np.moveaxis(g, self.axis, 0))
        return (grad,)


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:  # noqa: A002
    idx = _int_index(index, "index_select")
    if idx.ndim > 1:
        raise IndexError(f"index_select(): index must be a vector (1-D or 0-d), got shape {idx.shape}")
    normalize_dims(dim, input.ndim, "index_select")
    if input.ndim == 0:
        return index_select(input.reshape(1), 0, idx).reshape(idx.shape if idx.ndim else ())
    axis = int(dim) % input.ndim
    n = input.shape[axis]
    if idx.size and (idx.min() < -n or idx.max() >= n or idx.min() < 0):
        bad = int(idx.min() if idx.min() < 0 else idx.max())
        raise IndexError(f"index_select(): index {bad} is out of range for dimension {axis} of size {n}")
    return IndexSelect.apply(input, idx=idx.reshape(-1), axis=axis)
