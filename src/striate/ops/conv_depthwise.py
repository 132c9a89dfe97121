"""The depthwise convolution (groups = in_channels) as a direct loop, without im2col.

Every input channel c has its own m = O/C filters and output channels c*m .. c*m + m - 1:

    Y[n, c*m + q, y, x] = b[c*m + q] + sum_ij W[c*m + q, 0, i, j] * X[n, c, S*y + D*i - P, S*x + D*j - P]
    dW[c*m + q, 0, i, j] = sum_{n, y, x} dY[n, c*m + q, y, x] * X[n, c, S*y + D*i - P, S*x + D*j - P]
    dX[n, c, S*y + D*i - P, S*x + D*j - P] += sum_q W[c*m + q, 0, i, j] * dY[n, c*m + q, y, x]

As im2col + GEMM a depthwise layer is C products of (m x kh*kw) @ (kh*kw x OH*OW), too thin for
BLAS, after a kh*kw-fold copy of the input; the direct loop reads each input row once per tap.
A single-channel first layer (C = 1, groups = 1: LeNet's 1 -> 6 5x5) is the same computation
with m = O. The kernels are `striate.kernels.depthwise_forward/backward` (Numba, with a NumPy
twin); `conv.conv_path` chooses this path where `striate.tuning` says it pays.
"""

from __future__ import annotations

import numpy as np

from striate import kernels, tuning
from striate.autograd.function import Function
from striate.ops.conv_chunks import ConvGeometry, in_threads, input_shaped, pad_into, sum_pairs


def supports(groups: int, in_channels: int) -> bool:
    """Can the depthwise path compute this layer: one input channel per group."""
    return groups == in_channels


def applies(groups: int, in_channels: int, out_channels: int) -> bool:
    """Does it pay (`striate.tuning`): depthwise layers with groups > 1, and single-channel first
    layers up to tuning.DIRECT_FIRST_LAYER_MAX_OUT output channels."""
    if not supports(groups, in_channels):
        return False
    return groups > 1 or out_channels <= tuning.DIRECT_FIRST_LAYER_MAX_OUT


class Conv2dDepthwise(Function):
    """Y = conv2d(X, W, b, groups=C) for W (C*m, 1, kh, kw): each channel filtered on its own.

    Inputs: x (N, C, H, W), w (O, 1, kh, kw), b (O,) or absent; `pads` is (top, bottom, left,
    right). The batch runs in chunks, one run of chunks per striate thread; the padded input is
    kept for the backward (as the im2col path does).
    """

    saves_inputs = (0, 1)

    def forward(self, x, w, b=None, *, geometry: ConvGeometry, pads, groups):
        x = np.ascontiguousarray(x)  # the kernels read rows as contiguous runs
        N, C, H, W = x.shape
        O, _, kh, kw = w.shape
        g = geometry
        wc = np.ascontiguousarray(w.reshape(C, O // C, kh, kw))
        bias = np.zeros(O, x.dtype) if b is None else b
        xp = np.empty((N, C, H + pads[0] + pads[1], W + pads[2] + pads[3]), x.dtype) if any(pads) else x
        y = np.empty((N, O, g.oh, g.ow), x.dtype)

        def forward_chunk(start: int, stop: int) -> None:
            if xp is not x:
                pad_into(xp[start:stop], x[start:stop], pads)
            kernels.depthwise_forward(xp[start:stop], wc, bias, g.sh, g.sw, g.dh, g.dw, y[start:stop])

        in_threads(forward_chunk, N, (C * xp.shape[2] * xp.shape[3] + O * g.oh * g.ow) * x.itemsize)
        if self.needs_input_grad is not None:
            self.xp, self.wc, self.w_shape, self.x_shape = xp, wc, w.shape, x.shape
            self.geometry, self.pads = geometry, pads
        return y

    def backward(self, gy):
        xp, wc, g, needs = self.xp, self.wc, self.geometry, self.needs_input_grad
        N, C, Hp, Wp = xp.shape
        top, left = self.pads[0], self.pads[2]
        H, W = self.x_shape[2:]
        gy = np.ascontiguousarray(gy)
        gx = np.empty(self.x_shape, gy.dtype) if needs[0] else None
        bias_grad = len(needs) == 3 and needs[2]

        def backward_chunk(start: int, stop: int):
            gxp = np.zeros((stop - start, C, Hp, Wp), gy.dtype) if needs[0] else None
            gw = kernels.depthwise_backward(gy[start:stop], xp[start:stop], wc, g.sh, g.sw, g.dh, g.dw, gxp)
            if gxp is not None:
                gx[start:stop] = gxp[:, :, top:top + H, left:left + W]
            return gw, (gy[start:stop].sum(axis=(0, 2, 3), dtype=np.float64) if bias_grad else 0)

        item = (2 * C * Hp * Wp + gy.shape[1] * g.oh * g.ow) * gy.itemsize
        partials = in_threads(backward_chunk, N, item)
        gw, gb = sum_pairs(partials, (np.zeros(wc.shape), np.zeros(gy.shape[1])))
        return input_shaped(needs, self.x_shape, self.w_shape, gx, gw.astype(gy.dtype), gb.astype(gy.dtype))
