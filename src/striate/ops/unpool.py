"""Max unpooling: `F.max_unpool2d` / `F.max_unpool1d`, the partial inverse of max pooling.

`max_pool2d(x, ..., return_indices=True)` gives each window's maximum and where it was (a flat
index into the H x W plane). Unpooling writes every value back at its index and zeros elsewhere
(the "switches" of Zeiler and Fergus' deconvnet):

    y[n, c, idx[n, c, k]] = x[n, c, k]          y = 0 at every other position

It only moves values, so dL/dx[n, c, k] = dL/dy[n, c, idx[n, c, k]] (a gather). Output size per
axis: (in - 1) * stride - 2 * padding + kernel_size, or `output_size` within one stride of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.args import int_tuple, positive


class MaxUnpool(Function):
    """y[b, idx[b, k]] = x[b, k] on flattened (N*C, L_in) -> (N*C, L_out) planes; dx = g[b, idx]."""

    def forward(self, x, *, index, out_shape):
        planes = x.shape[0] * x.shape[1]
        flat = index.reshape(planes, -1)
        size = int(np.prod(out_shape[2:]))
        y = np.zeros((planes, size), x.dtype)
        np.put_along_axis(y, flat, x.reshape(planes, -1), axis=1)
        self.flat, self.in_shape = flat, x.shape
        return y.reshape(out_shape)

    def backward(self, g):
        planes = self.flat.shape[0]
        return (np.take_along_axis(g.reshape(planes, -1), self.flat, axis=1).reshape(self.in_shape),)


def _output_size(spatial: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
                 padding: tuple[int, ...], output_size: Any, op: str) -> tuple[int, ...]:
    """PyTorch's `_unpool_output_size`: the default, or `output_size` checked against it."""
    default = tuple((n - 1) * s + k - 2 * p for n, k, s, p in zip(spatial, kernel, stride, padding))
    if output_size is None:
        return default
    sizes = tuple(int(v) for v in output_size)
    if len(sizes) == len(kernel) + 2:
        sizes = sizes[2:]
    if len(sizes) != len(kernel):
        raise ValueError(f"{op}: output_size should be a sequence of {len(kernel)} or {len(kernel) + 2} "
                         f"ints, got {tuple(output_size)}")
    for d, (want, base, s) in enumerate(zip(sizes, default, stride)):
        if not base - s < want < base + s:
            raise ValueError(f"{op}: invalid output_size {sizes} (dim {d} must be between {base - s + 1} "
                             f"and {base + s - 1})")
    return sizes


def _max_unpool(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any, padding: Any,
                output_size: Any, dims: int, op: str) -> Tensor:
    for name, t in (("input", input), ("indices", indices)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a striate Tensor, got {type(t).__name__}")
    if input.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{op}: expected a {dims + 1}-D or {dims + 2}-D input (unbatched or batched), "
                         f"got shape {tuple(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise ValueError(f"{op}: indices {tuple(indices.shape)} must have the shape of the input "
                         f"{tuple(input.shape)} (pass the indices max_pool returned with "
                         "return_indices=True)")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer tensor (int64), got {indices.dtype}")
    kernel = positive(int_tuple(kernel_size, dims, "kernel_size", op), "kernel_size", op)
    strides = kernel if stride is None else positive(int_tuple(stride, dims, "stride", op), "stride", op)
    pads = int_tuple(padding, dims, "padding", op)
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    index = indices.array[None] if unbatched else indices.array
    sizes = _output_size(tuple(x.shape[2:]), kernel, strides, pads, output_size, op)
    if min(sizes) < 0:
        raise ValueError(f"{op}: the output size {sizes} is negative; check kernel_size, stride and padding")
    total = int(np.prod(sizes))
    if index.size and (index.min() < 0 or index.max() >= total):
        bad = int(index.max() if index.max() >= total else index.min())
        raise ValueError(f"{op}: found an invalid max index: {bad} (output volumes are of size "
                         f"{'x'.join(map(str, sizes))}); give output_size= the size of the pooled input")
    out = MaxUnpool.apply(x, index=index.astype(np.int64, copy=False), out_shape=tuple(x.shape[:2]) + sizes)
    return out.squeeze(0) if unbatched else out


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] | None = None, padding: int | Sequence[int] = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """Put each pooled maximum back where `max_pool2d(..., return_indices=True)` found it.

    >>> import striate as st, striate.nn.functional as F
    >>> y, idx = F.max_pool2d(st.tensor([[[[1., 2.], [4., 3.]]]]), 2, return_indices=True)
    >>> F.max_unpool2d(y, idx, 2).tolist()
    [[[[0.0, 0.0], [4.0, 0.0]]]]
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] | None = None, padding: int | Sequence[int] = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """The 1-D version of `max_unpool2d`, for (N, C, L) or (C, L) inputs."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")
