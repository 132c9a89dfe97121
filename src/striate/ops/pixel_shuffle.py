"""Pixel shuffle (sub-pixel convolution's rearrangement) and its inverse.

PixelShuffle(r) moves an r x r block of channels into space (Shi et al., ESPCN):

    y[..., c, h*r + i, w*r + j] = x[..., c*r*r + i*r + j, h, w]
    (*, C r^2, H, W) -> (*, C, H r, W r)

PixelUnshuffle(r) is the exact inverse, (*, C, H r, W r) -> (*, C r^2, H, W). Both only move
values, so the gradient of one is the other applied to dL/dy.
"""

from __future__ import annotations

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor


def _shuffle(x: np.ndarray, r: int) -> np.ndarray:
    """(*, C r^2, H, W) -> (*, C, H r, W r): split channels into (C, r, r), interleave with space."""
    *lead, crr, h, w = x.shape
    c = crr // (r * r)
    k = len(lead)
    y = x.reshape(*lead, c, r, r, h, w)
    y = y.transpose(*range(k), k, k + 3, k + 1, k + 4, k + 2)  # (*, C, H, r, W, r)
    return y.reshape(*lead, c, h * r, w * r)


def _unshuffle(x: np.ndarray, r: int) -> np.ndarray:
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse permutation of `_shuffle`."""
    *lead, c, hr, wr = x.shape
    h, w = hr // r, wr // r
    k = len(lead)
    y = x.reshape(*lead, c, h, r, w, r)
    y = y.transpose(*range(k), k, k + 2, k + 4, k + 1, k + 3)  # (*, C, r, r, H, W)
    return y.reshape(*lead, c * r * r, h, w)


class PixelShuffle(Function):
    """y[..., c, h r + i, w r + j] = x[..., c r^2 + i r + j, h, w];  dL/dx = unshuffle(dL/dy)."""

    def forward(self, x, *, r):
        self.r = r
        return _shuffle(x, r)

    def backward(self, g):
        return (_unshuffle(g, self.r),)


class PixelUnshuffle(Function):
    """y[..., c r^2 + i r + j, h, w] = x[..., c, h r + i, w r + j];  dL/dx = shuffle(dL/dy)."""

    def forward(self, x, *, r):
        self.r = r
        return _unshuffle(x, r)

    def backward(self, g):
        return (_shuffle(g, self.r),)


def _check(input: Tensor, factor: int, op: str, what: str) -> int:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a striate Tensor, got {type(input).__name__}")
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)):
        raise TypeError(f"{op}: {what} must be an int, got {factor!r}")
    if factor <= 0:
        raise ValueError(f"{op} expects a positive {what}, but got {factor}")
    if input.ndim < 3:
        raise ValueError(f"{op} expects input to have at least 3 dimensions (*, C, H, W), but got "
                         f"input with {input.ndim} dimension(s)")
    return int(factor)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r), r = upscale_factor.

    >>> import striate as st, striate.nn.functional as F
    >>> F.pixel_shuffle(st.arange(4.).reshape(1, 4, 1, 1), 2).tolist()
    [[[[0.0, 1.0], [2.0, 3.0]]]]
    """
    r = _check(input, upscale_factor, "pixel_shuffle", "upscale_factor")
    channels = input.shape[-3]
    if channels % (r * r):
        raise ValueError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
            f"upscale_factor, but input.size(-3)={channels} is not divisible by {r * r}"
        )
    return PixelShuffle.apply(input, r=r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W), r = downscale_factor (the inverse of pixel_shuffle)."""
    r = _check(input, downscale_factor, "pixel_unshuffle", "downscale_factor")
    for axis, name in ((-2, "height"), (-1, "width")):
        if input.shape[axis] % r:
            raise ValueError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                f"input.size({axis})={input.shape[axis]} is not divisible by {r}"
            )
    return PixelUnshuffle.apply(input, r=r)
