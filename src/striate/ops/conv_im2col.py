"""The convolution as im2col + one matrix product per image (the general fast path).

    Y[n] = W_mat @ col_n (+ b)        col_n = im2col(pad(X[n])), (C*kh*kw, OH*OW)
    dW = sum_n dY[n] @ col_n^T        db = sum of dY over n, y, x
    dX = conv(pad(dY, k - 1 - P), flip(W)^T)    (stride 1, dilation 1: a full convolution)
    dX[n] = col2im(W_mat^T @ dY[n])             (otherwise: scatter the columns back)
    dX[n] = W_mat^T @ dY[n]                     (an unpadded 1x1 layer: no columns at all)

The readable version of the same math is `conv_reference`; `conv.conv2d` chooses the path.
"""

from __future__ import annotations

import numpy as np

from striate import kernels, tuning
from striate.autograd.function import Function
from striate.kernels import parallel
from striate.ops import fusion
from striate.ops.conv_chunks import (
    ConvGeometry,
    columns,
    conv_chunk,
    in_threads,
    input_shaped,
    padded,
    sum_pairs,
)


def full_conv_pads(geometry: ConvGeometry, pads: tuple[int, ...], in_channels: int,
                   out_channels: int) -> tuple[int, ...] | None:
    """Padding that turns dX into a plain convolution of dY, or None when it does not pay.

    For stride 1 and dilation 1, dX = conv(pad(dY, k - 1 - P), W flipped in space with its
    in/out channels swapped) ("the gradient of a convolution is a full convolution"). It needs
    P <= k - 1 on every side, and it pays when dY has no more channels than X: its im2col copies
    O*k*k values per pixel where col2im scatters C*k*k (measured: 7% faster on the CIFAR net's
    32->32 layer, 2x slower on a 3->32 first layer). Otherwise the backward uses col2im.
    """
    g = geometry
    if (g.sh, g.sw, g.dh, g.dw) != (1, 1, 1, 1) or out_channels > in_channels:
        return None
    top, bottom, left, right = pads
    full = (g.kh - 1 - top, g.kh - 1 - bottom, g.kw - 1 - left, g.kw - 1 - right)
    return full if min(full) >= 0 else None


class Conv2dIm2col(Function):
    """Y[n, o] = sum_c sum_ij W[o, c, i, j] X[n, c, S*y + D*i - P, S*x + D*j - P] + b[o].

    Inputs: x (N, C, H, W), w (O, C/G, kh, kw), b (O,) or absent; `pads` is (top, bottom, left,
    right). Images are processed in chunks sized to stay in cache, one run of chunks per thread
    (`striate.kernels.parallel`), and the columns are rebuilt in the backward rather than kept:
    copying a chunk again is cheaper than writing every layer's columns to memory and reading
    them back (and a step's memory stays at the size of its activations). Small output planes
    (< tuning.STACK_BELOW pixels) put a chunk's images side by side instead (one wide product
    and a transpose). Groups: W_mat is (G, O/G, C/G*kh*kw), one batched product over G.
    """

    saves_inputs = (0, 1)
    saved_for = {0: (1,), 1: (0,)}  # input i is read only for these inputs' gradients
    relu = False  # fused with the ReLU after it (`ops.fusion`): max(0, .) chunk by chunk, in cache

    def forward(self, x, w, b=None, *, geometry: ConvGeometry, pads, groups):
        N, C, H, W = x.shape
        O, Cg, kh, kw = w.shape
        OH, OW = geometry.oh, geometry.ow
        G = groups
        wm = w.reshape(G, O // G, Cg * kh * kw)
        y = np.empty((N, G, O // G, OH * OW), x.dtype)
        bias = None if b is None else b.reshape(G, O // G, 1)

        def forward_chunk(start: int, stop: int) -> None:
            conv_chunk(padded(x[start:stop], pads), wm, geometry, y[start:stop])  # padded per chunk
            if bias is not None:
                y[start:stop] += bias
            if self.relu:
                np.maximum(y[start:stop], y.dtype.type(0), out=y[start:stop])

        # every chunk reads the whole weight: a chunk's columns are kept at least that large
        # (ResNet's 512-channel 3x3 layer: 17.9 -> 16.3 ms forward)
        item = C * kh * kw * OH * OW * x.itemsize
        in_threads(forward_chunk, N, item, min_items=-(-w.nbytes // max(item, 1)))
        if self.needs_input_grad is not None:
            # the input, not its padded copy: backward pads again chunk by chunk (a copy kept
            # until backward would double the layer's input memory)
            self.x, self.w, self.geometry, self.pads = x, w, geometry, pads
            if self.relu:
                self.relu_out = y
        return y.reshape(N, O, OH, OW)

    def backward(self, g):
        x, w, geometry, needs, pads = self.x, self.w, self.geometry, self.needs_input_grad, self.pads
        N, C, H, W = x.shape
        O, Cg, kh, kw = w.shape
        G = C // Cg
        gm = np.ascontiguousarray(g).reshape(N, G, O // G, geometry.oh * geometry.ow)
        padded_shape = (N, C, H + pads[0] + pads[1], W + pads[2] + pads[3])
        input_grad, collect_gx = self._input_grad(gm, padded_shape) if needs[0] else (None, None)
        bias_grad = len(needs) == 3 and needs[2]

        def backward_chunk(start: int, stop: int):
            gc = gm[start:stop]
            if self.relu:  # dL/d(conv) = dL/dy where y = relu(conv) > 0: masked while in cache
                gc = fusion.relu_mask(gc, self.relu_out[start:stop])
            if input_grad is not None:
                input_grad(gc, start, stop)
            gw_part = self._weight_grad_chunk(gc, padded(x[start:stop], pads)) if needs[1] else 0
            gb_part = gc.sum(axis=(0, 3)) if bias_grad else 0
            return gw_part, gb_part

        # every chunk writes a weight-sized partial dW: a chunk's columns are kept at least that
        # large (ResNet's 512-channel 3x3 layer: 71 -> 55 ms forward and backward)
        item = 2 * C * kh * kw * geometry.oh * geometry.ow * g.itemsize
        partials = in_threads(backward_chunk, N, item, min_items=-(-w.nbytes // max(item, 1)))
        # an empty batch contributes nothing: zero gradients, as in PyTorch
        zeros = (np.zeros((G, Cg * kh * kw, O // G), g.dtype), np.zeros((G, O // G), g.dtype))
        gw_t, gb_sum = sum_pairs(partials, zeros)
        gx = collect_gx() if needs[0] else None
        return input_shaped(needs, x.shape, w.shape, gx, gw_t.transpose(0, 2, 1), gb_sum)

    def _weight_grad_chunk(self, gc: np.ndarray, xc: np.ndarray) -> np.ndarray:
        """sum over the chunk's images of col_n @ dY[n]^T = dW^T, as (G, C/G*kh*kw, O/G).

        Transposed on purpose: OpenBLAS runs col @ dY^T (many rows, few columns) at 60-93 GFLOP/s
        where dY @ col^T (few rows) ran at 29-84 on the same shapes (1.5-2x on the thin layers).
        """
        n, G, Og, L = gc.shape
        stacked = L < tuning.STACK_BELOW
        col = columns(xc, self.geometry, stacked)
        if stacked:
            gs = np.ascontiguousarray(gc.transpose(1, 2, 0, 3)).reshape(G, Og, n * L)
            return parallel.matmul(col.reshape(G, -1, n * L), gs.transpose(0, 2, 1))
        return parallel.matmul(col.reshape(n, G, -1, L), gc.transpose(0, 1, 3, 2)).sum(axis=0)

    def _input_grad(self, gm: np.ndarray, padded_shape: tuple[int, ...]):
        """A chunk worker for dX (called with the chunk's dY), and a function that returns dX once
        every chunk is done."""
        N, C, Hp, Wp = padded_shape
        G, Og, L = gm.shape[1:]
        geo = self.geometry
        kh, kw, OH, OW = geo.kh, geo.kw, geo.oh, geo.ow
        top, bottom, left, right = self.pads
        H, W = Hp - top - bottom, Wp - left - right
        full = full_conv_pads(geo, self.pads, C, G * Og)
        if full is not None:  # dX = conv(pad(dY), flip(W)^T), written straight into (N, C, H, W)
            gx = np.empty((N, G, C // G, H * W), gm.dtype)
            wf = self.w[:, :, ::-1, ::-1].reshape(G, Og, C // G, kh * kw).transpose(0, 2, 1, 3)
            wf = np.ascontiguousarray(wf).reshape(G, C // G, Og * kh * kw)
            full_geometry = ConvGeometry(kh, kw, 1, 1, 1, 1, H, W)

            def work(gc: np.ndarray, start: int, stop: int) -> None:
                gp = padded(gc.reshape(stop - start, G * Og, OH, OW), full)
                conv_chunk(gp, wf, full_geometry, gx[start:stop])

            return work, lambda: gx
        wt = self.w.reshape(G, Og, -1).transpose(0, 2, 1)
        if kh == kw == 1 and not any(self.pads):
            return self._pointwise_input_grad(gm, wt, (N, C, H, W))
        gx = np.empty((N, C, H, W), gm.dtype)

        def work(gc: np.ndarray, start: int, stop: int) -> None:
            n = stop - start
            gcol = parallel.matmul(wt, gc).reshape(n * C, kh, kw, 1, OH, OW)
            gxp = kernels.col2im(gcol, Hp, Wp, geo.sh, geo.sw, geo.dh, geo.dw).reshape(n, C, Hp, Wp)
            gx[start:stop] = gxp[:, :, top:top + H, left:left + W]  # the padding's share is dropped

        return work, lambda: gx

    def _pointwise_input_grad(self, gm: np.ndarray, wt: np.ndarray, shape: tuple[int, ...]):
        """dX of an unpadded 1x1 layer: W^T @ dY is dX itself (stride 1) or dX at every S-th pixel
        (zeros between), a plain product with no col2im."""
        N, C, H, W = shape
        G, L = gm.shape[1], gm.shape[3]
        geo = self.geometry
        if (geo.sh, geo.sw) == (1, 1):
            gx = np.empty((N, G, C // G, L), gm.dtype)

            def work(gc: np.ndarray, start: int, stop: int) -> None:
                parallel.matmul(wt, gc, out=gx[start:stop])

            return work, lambda: gx
        gx = np.zeros((N, C, H, W), gm.dtype)
        rows, cols = slice(0, geo.sh * geo.oh, geo.sh), slice(0, geo.sw * geo.ow, geo.sw)

        def work_strided(gc: np.ndarray, start: int, stop: int) -> None:
            gcol = parallel.matmul(wt, gc).reshape(stop - start, C, geo.oh, geo.ow)
            gx[start:stop, :, rows, cols] = gcol

        return work_strided, lambda: gx
