"""Shape operations: they move values around, so the gradient moves back the same way."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from striate.autograd.function import Function, unbroadcast
from striate.autograd.rebase import mark_multi_output
from striate.autograd.tensor import Tensor, wrap
from striate.ops.limits import DimensionError


class Reshape(Function):
    """Same values in a new shape; the gradient is reshaped back."""

    is_view = True  # the output may share the input's memory (and version counter)

    def forward(self, x, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, g):
        return (g.reshape(self.shape),)


class Permute(Function):
    """Axes reordered by `dims`; the gradient is permuted by the inverse order."""

    is_view = True  # the output may share the input's memory (and version counter)

    def forward(self, x, dims):
        self.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(self, g):
        return (g.transpose(self.inverse),)


class Expand(Function):
    """Broadcast to a larger shape (a view); the gradient sums over the copies."""

    is_view = True  # the output may share the input's memory (and version counter)

    def forward(self, x, shape):
        self.shape = x.shape
        return np.broadcast_to(x, shape)

    def backward(self, g):
        return (unbroadcast(g, self.shape),)


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype."""

    def forward(self, x, dtype):
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return (g.astype(self.dtype) if self.dtype.kind == "f" else None,)


class Clone(Function):
    """A copy with its own memory; gradient passes through."""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return (g,)


class Cat(Function):
    """Concatenate along an axis; each input gets its slice of the gradient back."""

    def forward(self, *xs, axis):
        self.axis = axis
        self.bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=axis)

    def backward(self, g):
        parts = np.split(g, self.bounds, axis=self.axis)
        return tuple(p if need else None for p, need in zip(parts, self.needs_input_grad))


class Stack(Function):
    """Stack along a new axis; each input gets its index of the gradient back."""

    def forward(self, *xs, axis):
        self.axis = axis
        return np.stack(xs, axis=axis)

    def backward(self, g):
        return tuple(
            np.take(g, i, axis=self.axis) if need else None
            for i, need in enumerate(self.needs_input_grad)
        )


class Repeat(Function):
    """Tile the tensor (`torch.Tensor.repeat`); the gradient sums the tiles."""

    def forward(self, x, reps):
        self.shape = x.shape
        self.reps = reps
        return np.tile(x.reshape((1,) * (len(reps) - x.ndim) + x.shape), reps)

    def backward(self, g):
        src = (1,) * (len(self.reps) - len(self.shape)) + self.shape
        split = []
        for r, s in zip(self.reps, src):
            split += [r, s]
        g = g.reshape(split).sum(axis=tuple(range(0, 2 * len(src), 2)))
        return (g.reshape(self.shape),)


def _dim(d: int, ndim: int, op: str) -> int:
    if not -ndim <= d < ndim:
        raise DimensionError(
            f"{op}: dimension {d} is out of range for a tensor with {ndim} dimensions "
            f"(expected {-ndim} <= dim < {ndim})"
        )
    return d % ndim


def reshape(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    size = x.array.size
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if shape.count(-1) > 1 or (-1 not in shape and known != size) or (
        -1 in shape and (known == 0 or size % known)
    ):
        raise ValueError(
            f"cannot reshape a tensor of shape {x.shape} ({size} elements) into {shape}"
        )
    return Reshape.apply(x, shape=shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.ndim == 0:
        return reshape(x, (1,))
    s = _dim(start_dim, x.ndim, "flatten")
    e = _dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:]
    return Reshape.apply(x, shape=shape)


def permute(x: Tensor, dims: tuple[int, ...]) -> Tensor:
    if len(dims) != x.ndim:
        raise ValueError(f"permute: {len(dims)} dims given for a {x.ndim}-d tensor of shape {x.shape}")
    dims = tuple(_dim(d, x.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} dimensions")
    return Permute.apply(x, dims=dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    order = list(range(x.ndim))
    a, b = _dim(dim0, x.ndim, "transpose"), _dim(dim1, x.ndim, "transpose")
    order[a], order[b] = order[b], order[a]
    return Permute.apply(x, dims=tuple(order))


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if x.ndim == 0:
            return x
        axes = {_dim(d, x.ndim, "squeeze") for d in dims}
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1))
    return x if shape == x.shape else Reshape.apply(x, shape=shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    d = _dim(dim, x.ndim + 1, "unsqueeze")
    return Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def expand(x: Tensor, sizes: tuple[int, ...]) -> Tensor:
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes given for a tensor of shape {x.shape}")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i, s in enumerate(x.shape):
        if s != 1 and s != shape[i + lead]:
            raise ValueError(f"expand: dimension {i} of size {s} cannot expand to {shape[i + lead]}")
    return Expand.apply(x, shape=shape)


def repeat(x: Tensor, reps: tuple[int, ...]) -> Tensor:
    if len(reps) < x.ndim:
        raise ValueError(f"repeat: need at least {x.ndim} repeat counts for shape {x.shape}")
    return Repeat.apply(x, reps=reps)


def t(x: Tensor) -> Tensor:
    """`torch.t`: the transpose of a matrix; a 0-d or 1-d tensor is returned as it is."""
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D; "
                           "use transpose(dim0, dim1) or permute")
    return x if x.ndim < 2 else transpose(x, 0, 1)


def cast(x: Tensor, dtype: np.dtype) -> Tensor:
    if dtype.kind != "f":  # integer and bool results are outside the graph, as in PyTorch
        return wrap(x.array.astype(dtype), False)
    return Cast.apply(x, dtype=dtype)


def clone(x: Tensor) -> Tensor:
    return Clone.apply(x)


def _check_same_rank(tensors, op: str, dim: int, new_axis: bool):
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    ndim = tensors[0].ndim
    axis = _dim(dim, ndim + (1 if new_axis else 0), op)
    for t in tensors[1:]:
        a, b = list(tensors[0].shape), list(t.shape)
        if not new_axis and len(a) == len(b):
            a.pop(axis)
            b.pop(axis)
        if a != b:
            raise ValueError(
                f"{op}: tensors of shapes {tensors[0].shape} and {t.shape} do not fit "
                f"({'all shapes must be equal' if new_axis else f'only dimension {axis} may differ'})"
            )
    return tensors, axis


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate tensors along an existing dimension, like `torch.cat`."""
    tensors, axis = _check_same_rank(list(tensors), "cat", dim, False)
    return Cat.apply(*tensors, axis=axis)


def stack(tensors, dim: int = 0) -> Tensor:
    """Stack equally shaped tensors along a new dimension, like `torch.stack`."""
    tensors, axis = _check_same_rank(list(tensors), "stack", dim, True)
    return Stack.apply(*tensors, axis=axis)


def split(x: Tensor, split_size: Any, dim: int = 0) -> list[Tensor]:
    """Pieces of `split_size` along `dim` (the last may be smaller), or pieces of the listed
    sizes, like `torch.split`; each piece is a view whose gradient flows back to its slice."""
    axis = _dim(dim, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(split_size, (int, np.integer)):
        if split_size <= 0:
            raise ValueError(f"split: split_size must be a positive integer, got {split_size}")
        sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else [])
        if n == 0:
            sizes = [0]
    else:
        sizes = [int(s) for s in split_size]
        if any(s < 0 for s in sizes) or builtins.sum(sizes) != n:
            raise ValueError(
                f"split: sizes {sizes} must be non-negative and add up to {n}, the size of "
                f"dimension {axis} of the tensor of shape {x.shape}"
            )
    out, start = [], 0
    for s in sizes:
        idx = [slice(None)] * x.ndim
        idx[axis] = slice(start, start + s)
        out.append(x[tuple(idx)])
        start += s
    # PyTorch refuses in-place changes of these views (one node makes them all)
    mark_multi_output(out, "Split" if isinstance(split_size, (int, np.integer)) else "SplitWithSizes")
    return out


def chunk(x: Tensor, chunks: int, dim: int = 0) -> list[Tensor]:
    """At most `chunks` pieces of ceil(n / chunks) along `dim`, like `torch.chunk`."""
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive integer, got {chunks!r}")
    n = x.shape[_dim(dim, x.ndim, "chunk")]
    return split(x, max(1, -(-n // chunks)), dim)
