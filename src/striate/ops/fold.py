"""`F.unfold` (im2col) and `F.fold` (col2im): sliding blocks to columns and back.

unfold copies every kh x kw block of a zero-padded (N, C, H, W) input into a column:

    cols[n, (c, i, j), l] = xp[n, c, y_l * sh + i * dh, x_l * sw + j * dw]       (N, C*kh*kw, L)

with l = y_l * OW + x_l over the OH x OW block positions (seed 002's output size). fold is its
adjoint: each column entry is *added* to the pixel it came from, then the padding is dropped,

    y[n, c, p] = sum over (i, j, l) that read p of cols[n, (c, i, j), l]

so fold(unfold(x)) counts each pixel once per block covering it. The gradient of one is the
other: dL/dx = fold(dL/dcols) and dL/dcols = unfold(dL/dy). Both use striate's im2col/col2im
kernels (`striate.kernels`: a strided copy, and a Numba scatter with a NumPy twin).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate import kernels
from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.args import conv_output_size, int_tuple, positive


class _Geometry:
    """kernel, dilation, padding, stride (pairs), the output plane and the block grid."""

    def __init__(self, kernel, dilation, padding, stride, height: int, width: int) -> None:
        self.kernel, self.dilation, self.padding, self.stride = kernel, dilation, padding, stride
        self.height, self.width = height, width
        self.oh = conv_output_size(height, kernel[0], stride[0], padding[0], dilation=dilation[0])
        self.ow = conv_output_size(width, kernel[1], stride[1], padding[1], dilation=dilation[1])


def _unfold(x: np.ndarray, geo: _Geometry) -> np.ndarray:
    """(N, C, H, W) -> (N, C*kh*kw, OH*OW) through the zero-padded input."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = geo.kernel, geo.dilation, geo.padding, geo.stride
    n, c = x.shape[:2]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    # kernels.im2col reads a (C, N, H, W) layout through strides: the transpose costs nothing
    col = kernels.im2col(xp.transpose(1, 0, 2, 3), kh, kw, sh, sw, dh, dw, geo.oh, geo.ow, batch_first=True)
    return col.reshape(n, c * kh * kw, geo.oh * geo.ow)


def _fold(cols: np.ndarray, geo: _Geometry) -> np.ndarray:
    """(N, C*kh*kw, OH*OW) -> (N, C, H, W): col2im into the padded plane, padding dropped."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = geo.kernel, geo.dilation, geo.padding, geo.stride
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    col = cols.reshape(n, c, kh, kw, geo.oh, geo.ow).transpose(1, 2, 3, 0, 4, 5)
    hp, wp = geo.height + 2 * ph, geo.width + 2 * pw
    xp = kernels.col2im(col, hp, wp, sh, sw, dh, dw)  # (C, N, hp, wp)
    return np.ascontiguousarray(xp[:, :, ph:ph + geo.height, pw:pw + geo.width].transpose(1, 0, 2, 3))


class Unfold(Function):
    """cols[n, (c,i,j), l] = xp[n, c, y_l sh + i dh, x_l sw + j dw];  dL/dx = fold(dL/dcols)."""

    def forward(self, x, *, geometry):
        self.geometry = geometry
        return _unfold(x, geometry)

    def backward(self, g):
        return (_fold(g, self.geometry),)


class Fold(Function):
    """y[n, c, p] = sum of the column entries copied from p;  dL/dcols = unfold(dL/dy)."""

    def forward(self, cols, *, geometry):
        self.geometry = geometry
        return _fold(cols, geometry)

    def backward(self, g):
        return (_unfold(g, self.geometry),)


def _settings(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple:
    kernel = positive(int_tuple(kernel_size, 2, "kernel_size", op), "kernel_size", op)
    dil = positive(int_tuple(dilation, 2, "dilation", op), "dilation", op)
    pads = int_tuple(padding, 2, "padding", op)
    strides = positive(int_tuple(stride, 2, "stride", op), "stride", op)
    if min(pads) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {pads}")
    return kernel, dil, pads, strides


def _check_input(input: Any, ranks: tuple[int, int], layout: str, op: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a striate Tensor, got {type(input).__name__}")
    if input.ndim not in ranks:
        raise ValueError(f"{op}: expected a {ranks[0]}-D or {ranks[1]}-D input {layout}, got shape "
                         f"{tuple(input.shape)} (only 4-D images, i.e. spatial 2-D blocks, are supported, "
                         "as in PyTorch)")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {input.dtype}; use .float()")


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Extract sliding kh x kw blocks: (N, C, H, W) -> (N, C*kh*kw, L), L = OH * OW blocks.

    >>> import striate as st, striate.nn.functional as F
    >>> F.unfold(st.arange(9.).reshape(1, 1, 3, 3), 2).shape
    striate.Size([1, 4, 4])
    """
    op = "unfold"
    _check_input(input, (3, 4), "(N, C, H, W) or (C, H, W)", op)
    settings = _settings(op, kernel_size, dilation, padding, stride)
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    geo = _Geometry(*settings, x.shape[2], x.shape[3])
    if geo.oh < 1 or geo.ow < 1 or 0 in x.shape[1:]:
        raise ValueError(
            f"{op}: the {settings[0]} kernel (dilation {settings[1]}, padding {settings[2]}) does not fit "
            f"the input of shape {tuple(input.shape)}: it would give ({geo.oh}, {geo.ow}) blocks; use a "
            "smaller kernel_size or dilation, or more padding"
        )
    out = Unfold.apply(x, geometry=geo)
    return out.squeeze(0) if unbatched else out


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Sum sliding blocks back into an image: (N, C*kh*kw, L) -> (N, C, *output_size).

    The inverse of `unfold` only where blocks do not overlap; overlapping entries are added.
    """
    op = "fold"
    _check_input(input, (2, 3), "(N, C*kh*kw, L) or (C*kh*kw, L)", op)
    settings = _settings(op, kernel_size, dilation, padding, stride)
    height, width = positive(int_tuple(output_size, 2, "output_size", op), "output_size", op)
    unbatched = input.ndim == 2
    cols = input.unsqueeze(0) if unbatched else input
    geo = _Geometry(*settings, height, width)
    (kh, kw), blocks = settings[0], cols.shape[2]
    if cols.shape[1] % (kh * kw):
        raise ValueError(
            f"{op}: expected the size of dimension 1 of the input ({cols.shape[1]}) to be divisible by "
            f"the product of kernel_size ({kh * kw}), got input of shape {tuple(input.shape)}"
        )
    if geo.oh < 1 or geo.ow < 1 or blocks != geo.oh * geo.ow:
        raise ValueError(
            f"{op}: given output_size={(height, width)}, kernel_size={settings[0]}, "
            f"dilation={settings[1]}, padding={settings[2]}, stride={settings[3]}, expected the last "
            f"dimension of the input to be {max(geo.oh, 0) * max(geo.ow, 0)} "
            f"({max(geo.oh, 0)} x {max(geo.ow, 0)} blocks), but got {blocks}"
        )
    out = Fold.apply(cols, geometry=geo)
    return out.squeeze(0) if unbatched else out
