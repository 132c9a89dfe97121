"""Transposed convolution ("deconvolution", U-Net's up-convolution): the adjoint of conv2d.

Each input pixel scatters W-weighted copies of itself into the output:

    OH = (H - 1)*S - 2P + D*(kH - 1) + output_padding + 1

Forward: col = W_mat^T @ X; Y = crop(col2im(col)) (+ b), i.e. conv2d's input gradient.
Backward: col = im2col(pad(dY)); dX = W_mat @ col; dW = X @ col^T; db = sum(dY).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate import kernels
from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops import args
from striate.ops.args import IntOrPair
from striate.ops.conv_chunks import ConvGeometry, batch_last, columns, padded


class ConvTranspose2d(Function):
    """Y = conv_transpose2d(X, W) + b; x (N, Cin, H, W), w (Cin, Cout/G, kh, kw)."""

    saves_inputs = (0, 1)
    saved_for = {0: (1,), 1: (0,)}  # input i is read only for these inputs' gradients

    def forward(self, x, w, b=None, *, stride, padding, output_padding, groups, dilation):
        N, Cin, H, W = x.shape
        _, Cog, kh, kw = w.shape
        (sh, sw), (ph, pw), (dh, dw), G = stride, padding, dilation, groups
        OH, OW = (args.conv_transpose_output_size(n, k, s, p, o, d) for n, k, s, p, o, d in
                  zip((H, W), (kh, kw), stride, padding, output_padding, dilation))
        Cout = Cog * G
        xm = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).reshape(G, Cin // G, N * H * W)
        wm = w.reshape(G, Cin // G, Cog * kh * kw)
        col = np.matmul(wm.transpose(0, 2, 1), xm).reshape(Cout, kh, kw, N, H, W)
        full = kernels.col2im(col, OH + 2 * ph, OW + 2 * pw, sh, sw, dh, dw)
        y = full[:, :, ph:ph + OH, pw:pw + OW]
        if b is not None:
            y = y + b[:, None, None, None]
        needs = self.needs_input_grad
        if needs is not None:
            # the backward's im2col reads dY padded by P with this kernel, stride and dilation
            self.geometry = ConvGeometry(kh, kw, sh, sw, dh, dw, H, W)
            self.padding, self.groups, self.w_shape = padding, G, w.shape
            self.xm = xm if needs[1] else None
            self.wm = wm if needs[0] else None
        return batch_last(y)

    def backward(self, g):
        ph, pw = self.padding
        needs, G = self.needs_input_grad, self.groups
        N, H, W = g.shape[0], self.geometry.oh, self.geometry.ow
        col = columns(padded(g, (ph, ph, pw, pw)), self.geometry, stacked=True)
        colm = col.reshape(G, -1, N * H * W)
        gx = gw = None
        if needs[0]:
            Cin = self.wm.shape[0] * self.wm.shape[1]
            gx = batch_last(np.matmul(self.wm, colm).reshape(Cin, N, H, W))
        if needs[1]:
            gw = np.matmul(self.xm, colm.transpose(0, 2, 1)).reshape(self.w_shape)
        if len(needs) == 2:
            return gx, gw
        return gx, gw, (g.sum(axis=(0, 2, 3)) if needs[2] else None)


def _transpose_arguments(stride: Any, padding: Any, output_padding: Any, dilation: Any,
                         op: str) -> tuple[tuple[int, ...], ...]:
    stride_t = args.positive(args.int_tuple(stride, 2, "stride", op), "stride", op)
    dilation_t = args.positive(args.int_tuple(dilation, 2, "dilation", op), "dilation", op)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a pair, got {padding!r} ('same' needs conv2d)")
    pad_t = args.int_tuple(padding, 2, "padding", op)
    out_pad = args.int_tuple(output_padding, 2, "output_padding", op)
    if any(p < 0 for p in pad_t + out_pad):
        raise ValueError(f"{op}: padding {pad_t} and output_padding {out_pad} must be non-negative")
    for op_, s, d in zip(out_pad, stride_t, dilation_t):
        if op_ >= s and op_ >= d:
            raise ValueError(
                f"{op}: output_padding {out_pad} must be smaller than either stride {stride_t} or "
                f"dilation {dilation_t}"
            )
    return stride_t, pad_t, out_pad, dilation_t


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrPair = 1,
                     padding: IntOrPair = 0, output_padding: IntOrPair = 0, groups: int = 1,
                     dilation: IntOrPair = 1) -> Tensor:
    """Transposed 2-D convolution ("deconvolution", U-Net's up-convolution).

    weight has shape (C_in, C_out/groups, kH, kW). Output height (width likewise):

        OH = (H - 1)*S - 2P + D*(kH - 1) + output_padding + 1

    It is the gradient of conv2d with respect to its input, so conv2d with the same
    stride/padding maps the output size back to H.
    """
    op = "conv_transpose2d"
    unbatched = args.check_conv_inputs(input, weight, bias, 2, op)
    x = input.unsqueeze(0) if unbatched else input
    stride_t, pad_t, out_pad, dilation_t = _transpose_arguments(stride, padding, output_padding, dilation, op)
    groups = int(groups)
    Cin = x.shape[1]
    if groups <= 0 or weight.shape[0] % groups:
        raise ValueError(f"{op}: groups={groups} must be positive and divide in_channels ({weight.shape[0]})")
    if weight.shape[0] != Cin:
        raise ValueError(
            f"{op}: input has {Cin} channels but weight expects {weight.shape[0]} (weight shape "
            f"{weight.shape}: (in_channels, out_channels/groups, kH, kW))"
        )
    Cout = weight.shape[1] * groups
    if bias is not None and bias.shape != (Cout,):
        raise ValueError(f"{op}: bias must have shape ({Cout},) (one per output channel), got {bias.shape}")
    sizes = tuple(args.conv_transpose_output_size(n, k, s, p, o, d) for n, k, s, p, d, o in
                  zip(x.shape[2:], weight.shape[2:], stride_t, pad_t, dilation_t, out_pad))
    if min(sizes) <= 0:
        raise ValueError(
            f"{op}: output size {sizes} is not positive for input {tuple(x.shape)}; "
            f"padding {pad_t} is too large for kernel {tuple(weight.shape[2:])} and stride {stride_t}"
        )
    inputs = (x, weight) if bias is None else (x, weight, bias)
    out = ConvTranspose2d.apply(*inputs, stride=stride_t, padding=pad_t, output_padding=out_pad,
                                groups=groups, dilation=dilation_t)
    return out.squeeze(0) if unbatched else out
