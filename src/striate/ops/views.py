"""Shape helpers PyTorch programs use, built from the graph's existing ops (so their gradients
come for free): `unbind`, `narrow`, `movedim`, `swapaxes`, `broadcast_to`, `masked_select`,
`logsumexp`.

    logsumexp(x) = m + log sum_i e^(x_i - m),  m = max x  (stable);  d/dx_i = softmax(x)_i
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.rebase import mark_multi_output
from striate.autograd.tensor import Tensor
from striate.ops.reduce import _expand_back, normalize_dims
from striate.ops.shape import expand, permute


def _axis(x: Tensor, dim: int, op: str) -> int:
    normalize_dims(dim, x.ndim, op)
    return int(dim) % max(x.ndim, 1)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """The slices along `dim`, each without that dimension."""
    axis = _axis(input, dim, "unbind")
    lead = (slice(None),) * axis
    parts = tuple(input[lead + (i,)] for i in range(input.shape[axis]))
    mark_multi_output(parts, "Unbind")  # PyTorch refuses in-place changes of these views
    return parts


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    """input[..., start:start + length, ...] along `dim` (start may be negative)."""
    axis = _axis(input, dim, "narrow")
    n = input.shape[axis]
    begin = int(start) + n if start < 0 else int(start)
    if not 0 <= begin <= n or length < 0 or begin + length > n:
        raise IndexError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({n})")
    return input[(slice(None),) * axis + (slice(begin, begin + int(length)),)]


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:  # noqa: A002
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim(): source {source} and destination {destination} need the same length")
    dims = list(range(input.ndim))  # the source dims go to their places, the rest keep their order
    src_n = [_axis(input, s, "movedim") for s in src]
    dst_n = [_axis(input, d, "movedim") for d in dst]
    rest = [d for d in dims if d not in src_n]
    order = [None] * input.ndim
    for s, d in zip(src_n, dst_n):
        order[d] = s
    it = iter(rest)
    order = [o if o is not None else next(it) for o in order]
    return permute(input, tuple(order))


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:  # noqa: A002
    return input.transpose(axis0, axis1)


def broadcast_to(input: Tensor, size: Any) -> Tensor:  # noqa: A002
    return expand(input, tuple(size))


def masked_select(input: Tensor, mask: Any) -> Tensor:  # noqa: A002
    """The elements where the bool mask (broadcast with input) is True, as a 1-D tensor."""
    m = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected a boolean mask, got {m.dtype}")
    shape = np.broadcast_shapes(input.shape, m.shape)
    x = input if input.shape == shape else expand(input, shape)
    return x[np.broadcast_to(m, shape)]


class LogSumExp(Function):
    """z = log sum e^x over `axes`;  dz/dx = e^(x - z) (the softmax)."""

    saves_inputs = (0,)
    saves_output = True

    def forward(self, x, axes, keepdim):
        self.x, self.axes, self.keepdim = x, axes, keepdim
        m = np.max(x, axis=axes, keepdims=True) if x.size else np.zeros((1,) * x.ndim, x.dtype)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore", under="ignore"):
            out = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
        self.out = out if keepdim else np.squeeze(out, axis=axes)
        return np.asarray(self.out, dtype=x.dtype)

    def backward(self, g):
        z = _expand_back(self.out, self.x.shape, self.axes, self.keepdim)
        g = _expand_back(g, self.x.shape, self.axes, self.keepdim)
        with np.errstate(under="ignore", invalid="ignore"):
            return (g * np.exp(self.x - z),)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:  # noqa: A002
    axes = normalize_dims(dim, input.ndim, "logsumexp")
    if input.dtype.kind != "f":
        input = input.float()
    if input.ndim == 0:
        return LogSumExp.apply(input, axes=None, keepdim=False)
    return LogSumExp.apply(input, axes=axes, keepdim=keepdim)
