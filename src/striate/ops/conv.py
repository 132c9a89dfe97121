"""Convolution (seed 001's cross-correlation) as im2col + one matrix product, and its backward.

Seed 001 slides a filter over the image and takes a dot product at every position; seed 002
sizes the result:

    output = (W - F + 2P) / S + 1        (floored, as PyTorch does; with dilation D the
                                          filter spans D*(F - 1) + 1 pixels)

im2col copies every receptive field into a column, so the whole layer is one matrix product
(Y = W_mat @ col). The backward is built from the same pieces:

    dL/dW = dL/dY @ col^T        dL/dX = col2im(W_mat^T @ dL/dY)        dL/db = sum(dL/dY)

Groups split the channels into G independent convolutions, done as one batched product over a
leading G axis (depthwise conv is G = C). Stride-1 3x3 and 5x5 layers with enough channels take
Winograd's minimal filtering instead (`striate.ops.winograd`), which multiplies 2.25-2.8x less.
The transposed convolution runs the same kernels with the roles swapped: its forward is conv's
input-gradient (col2im) and its backward uses im2col.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from striate import kernels
from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.kernels import parallel
from striate.ops import winograd
from striate.ops.limits import check_output_size

IntOrPair = int | Sequence[int]


# ---------------------------------------------------------------------------- argument helpers
def _tuple(value: Any, n: int, what: str, op: str) -> tuple[int, ...]:
    """An int or a length-n sequence of ints, as an n-tuple (PyTorch's _pair / _single)."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    try:
        items = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: {what} must be an int or a tuple of {n} ints, got {value!r}") from None
    if len(items) == 1:
        return items * n
    if len(items) != n:
        raise ValueError(f"{op}: {what} must have {n} values (one per spatial dimension), got {value!r}")
    return items


def _positive(values: tuple[int, ...], what: str, op: str) -> tuple[int, ...]:
    if any(v <= 0 for v in values):
        raise ValueError(f"{op}: {what} must be positive, got {values}; use {what}=1 for the default")
    return values


def _conv_padding(padding: Any, kernel: tuple[int, ...], dilation: tuple[int, ...],
                  stride: tuple[int, ...], op: str) -> tuple[tuple[int, int], ...]:
    """(before, after) padding per spatial dimension from an int, a tuple, 'valid' or 'same'.

    'same' pads a total of D*(F - 1) per dimension; when that is odd PyTorch puts the extra
    pixel after (right/bottom), and so do we.
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{op}: padding='same' is not supported for strided convolutions (stride={stride}); "
                    "use stride=1 or give the padding as numbers"
                )
            out = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                out.append((total // 2, total - total // 2))
            return tuple(out)
        raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    pads = _tuple(padding, n, "padding", op)
    if any(p < 0 for p in pads):
        raise ValueError(f"{op}: padding must be non-negative, got {pads}; crop with F.pad(x, negative pads)")
    return tuple((p, p) for p in pads)


def _batch_last(a: np.ndarray, N: int) -> np.ndarray:
    """(C, N, H, W) channel-major result back to PyTorch's (N, C, H, W), contiguous."""
    return np.ascontiguousarray(a.transpose(1, 0, 2, 3))


def _check_tensor(t: Any, what: str, op: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {what} must be a striate Tensor, got {type(t).__name__}")


# ---------------------------------------------------------------------------- Functions
def _padded(x: np.ndarray, pads: tuple[int, int, int, int]) -> np.ndarray:
    """x (N, C, H, W) with zeros around it: (N, C, H + top + bottom, W + left + right)."""
    if not any(pads):
        return x
    top, bottom, left, right = pads
    N, C, H, W = x.shape
    xp = np.empty((N, C, H + top + bottom, W + left + right), x.dtype)
    _pad_into(xp, x, pads)
    return xp


def _pad_into(xp: np.ndarray, x: np.ndarray, pads: tuple[int, int, int, int]) -> None:
    """Write x into the middle of xp and zeros into its border (the chunk workers' padding)."""
    top, bottom, left, right = pads
    H, W = x.shape[2:]
    xp[:, :, :top] = 0
    xp[:, :, top + H:] = 0
    xp[:, :, top:top + H, :left] = 0
    xp[:, :, top:top + H, left + W:] = 0
    xp[:, :, top:top + H, left:left + W] = x


# Output planes smaller than this many pixels use the stacked layout: a product per image would
# be too thin for BLAS (ResNet's 4x4 planes: (512 x 4608) @ (4608 x 16) per image).
STACK_BELOW = 256


def _columns(xp: np.ndarray, geometry: tuple[int, ...], stacked: bool) -> np.ndarray:
    """im2col of a chunk of n images: col[n, c, i, j, y, x] = xp[n, c, y*sh + i*dh, x*sw + j*dw].

    Per image (n, C*kh*kw, OH*OW): column q of image n is the receptive field of its output
    pixel q, so W_mat (O, C*kh*kw) @ col[n] is that image's output already in NCHW order; a 1x1
    kernel with unit stride needs no copy. Stacked (C*kh*kw, n*OH*OW): all images side by side,
    one wide product. Either way one strided copy.
    """
    kh, kw, sh, sw, dh, dw, oh, ow = geometry
    n, C = xp.shape[:2]
    if not stacked and kh == kw == 1 and sh == sw == 1 and (oh, ow) == xp.shape[2:]:
        return xp.reshape(n, C, oh * ow)
    s0, s1, s2, s3 = xp.strides
    shape, strides = (n, C, kh, kw, oh, ow), (s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw)
    if stacked:  # image axis just before the pixels
        shape, strides = shape[1:4] + shape[:1] + shape[4:], strides[1:4] + strides[:1] + strides[4:]
    view = np.lib.stride_tricks.as_strided(xp, shape, strides, writeable=False)
    col = np.ascontiguousarray(view)
    return col.reshape(C * kh * kw, n * oh * ow) if stacked else col.reshape(n, C * kh * kw, oh * ow)


def _in_threads(work, n: int, item_bytes: int, min_items: int = 1) -> list:
    """work(start, stop) over chunks of a batch of n, BLAS serial, one run of chunks per thread."""
    with parallel.serial_blas() as threads:
        return parallel.run_split(work, parallel.batch_parts(n, item_bytes, threads, min_items))


def _conv_chunk(xp: np.ndarray, wm: np.ndarray, geometry: tuple[int, ...], out: np.ndarray) -> None:
    """out (n, G, O/G, OH*OW) = convolution of the padded chunk xp (n, C, Hp, Wp) with W_mat.

    Per image the product W_mat @ col_n lands in NCHW order as it is; small output planes
    (< STACK_BELOW pixels) stack the chunk's images into one wider product and transpose.
    """
    n, (G, Og, _), L = xp.shape[0], wm.shape, out.shape[-1]
    stacked = L < STACK_BELOW
    col = _columns(xp, geometry, stacked)
    if stacked:
        out[...] = np.matmul(wm, col.reshape(G, -1, n * L)).reshape(G, Og, n, L).transpose(2, 0, 1, 3)
    else:
        np.matmul(wm, col.reshape(n, G, -1, L), out=out)


def _full_conv_pads(geometry: tuple[int, ...], pads: tuple[int, ...], in_channels: int,
                    out_channels: int) -> tuple[int, ...] | None:
    """Padding that turns dX into a plain convolution of dY, or None when it does not pay.

    For stride 1 and dilation 1, dX = conv(pad(dY, k - 1 - P), W flipped in space with its
    in/out channels swapped) ("the gradient of a convolution is a full convolution"). It needs
    P <= k - 1 on every side, and it pays when dY has no more channels than X: its im2col copies
    O*k*k values per pixel where col2im scatters C*k*k (measured: 7% faster on the CIFAR net's
    32->32 layer, 2x slower on a 3->32 first layer). Otherwise the backward uses col2im.
    """
    kh, kw, sh, sw, dh, dw = geometry[:6]
    if (sh, sw, dh, dw) != (1, 1, 1, 1) or out_channels > in_channels:
        return None
    top, bottom, left, right = pads
    full = (kh - 1 - top, kh - 1 - bottom, kw - 1 - left, kw - 1 - right)
    return full if min(full) >= 0 else None


def _sum_pairs(partials: list, zeros: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The chunks' (weight, bias) gradient parts summed in place into zeros (0 marks a part not needed)."""
    for total, parts in zip(zeros, zip(*partials)):
        for part in parts:
            total += part
    return zeros


class ConvNd(Function):
    """Y[n, o] = sum_c sum_ij W[o, c, i, j] X[n, c, S*y + D*i - P, S*x + D*j - P] + b[o].

    Per image n: col_n = im2col(pad(X[n])) (C*kh*kw, OH*OW); Y[n] = W_mat @ col_n (+ b), which
    is NCHW as it comes out of the product. Backward:

        dW = sum_n dY[n] @ col_n^T          db = sum of dY over n, y, x
        dX = conv(pad(dY, k - 1 - P), flip(W)^T)    (stride 1, dilation 1: a full convolution)
        dX[n] = col2im(W_mat^T @ dY[n])             (otherwise: scatter the columns back)

    Images are processed in chunks sized to stay in cache, one run of chunks per thread
    (`striate.kernels.parallel`), and the columns are rebuilt in the backward rather than kept:
    copying a chunk again is cheaper than writing every layer's columns to memory and reading
    them back (and a step's memory stays at the size of its activations). Small output planes
    (< STACK_BELOW pixels) put a chunk's images side by side instead (one wide product and a
    transpose). Groups: W_mat is (G, O/G, C/G*kh*kw), one batched product over G.
    Handles 1-D convolution by viewing (N, C, L) as (N, C, 1, L).
    """

    saves_inputs = (0, 1)

    def forward(self, x, w, b=None, *, stride, pads, dilation, groups):
        self.x_shape, self.w_shape = x.shape, w.shape
        if x.ndim == 3:  # conv1d: a 2-D convolution over a height-1 image
            x, w = x[:, :, None, :], w[:, :, None, :]
        N, C, H, W = x.shape
        O, Cg, kh, kw = w.shape
        Hp, Wp = H + pads[0] + pads[1], W + pads[2] + pads[3]
        OH = (Hp - dilation[0] * (kh - 1) - 1) // stride[0] + 1
        OW = (Wp - dilation[1] * (kw - 1) - 1) // stride[1] + 1
        geometry = (kh, kw, *stride, *dilation, OH, OW)
        self.u = None
        if winograd.applies(geometry, groups, C, O):
            return self._winograd_forward(x, w, b, pads, geometry)
        xp = np.empty((N, C, Hp, Wp), x.dtype) if any(pads) else x  # filled chunk by chunk
        G = groups
        wm = w.reshape(G, O // G, Cg * kh * kw)
        y = np.empty((N, G, O // G, OH * OW), x.dtype)
        bias = None if b is None else b.reshape(G, O // G, 1)

        def forward_chunk(start: int, stop: int) -> None:
            if xp is not x:
                _pad_into(xp[start:stop], x[start:stop], pads)
            _conv_chunk(xp[start:stop], wm, geometry, y[start:stop])
            if bias is not None:
                y[start:stop] += bias

        # every chunk reads the whole weight: a chunk's columns are kept at least that large
        # (ResNet's 512-channel 3x3 layer: 17.9 -> 16.3 ms forward)
        item = C * kh * kw * OH * OW * x.itemsize
        _in_threads(forward_chunk, N, item, min_items=-(-w.nbytes // max(item, 1)))
        if self.needs_input_grad is not None:
            self.xp, self.w4, self.geometry, self.pads = xp, w, geometry, pads
        out = y.reshape(N, O, OH, OW)
        return out if len(self.x_shape) == 4 else out.reshape(N, O, OW)

    def _winograd_forward(self, x, w, b, pads, geometry):
        """The forward of a stride-1 3x3 or 5x5 layer by Winograd F(2x2, r x r) (`ops.winograd`)."""
        N, C = x.shape[:2]
        O, OH, OW, r = w.shape[0], geometry[6], geometry[7], geometry[0]
        u = winograd.weight_transform(w)
        bias = np.zeros(O, x.dtype) if b is None else b
        y = np.empty((N, O, OH, OW), x.dtype)

        def forward_chunk(start: int, stop: int) -> None:
            winograd.forward_chunk(x[start:stop], u, bias, y[start:stop], pads[0], pads[2], r)

        # images side by side pay with several per chunk: twice the usual budget measured best
        _in_threads(forward_chunk, N, winograd.chunk_bytes(C, O, OH, OW, x.itemsize, r) // 2)
        if self.needs_input_grad is not None:
            self.xp, self.w4, self.geometry, self.u = x, w, geometry, u
            self.pads = winograd.padding(pads, x.shape, OH, OW, r)
        return y

    def _winograd_backward(self, g):
        x, needs, pads = self.xp, self.needs_input_grad, self.pads
        (N, C, H, W), (top, left) = x.shape, (pads[0], pads[2])
        O, OH, OW = g.shape[1:]
        r = self.geometry[0]
        g = np.ascontiguousarray(g)
        gx = np.empty(x.shape, g.dtype) if needs[0] else None
        u = self.u if needs[0] else None
        bias_grad = len(needs) == 3 and needs[2]

        def backward_chunk(start: int, stop: int):
            dxp, du = winograd.backward_chunk(g[start:stop], _padded(x[start:stop], pads), u, needs[1], r)
            if dxp is not None:
                gx[start:stop] = dxp[:, :, top:top + H, left:left + W]
            return (0 if du is None else du), (g[start:stop].sum(axis=(0, 2, 3)) if bias_grad else 0)

        # as many images per chunk as the forward (so twice its scratch): a quarter of that
        # measured 7-12% slower on the CIFAR net's and the MNIST ConvNet's layers
        partials = _in_threads(backward_chunk, N, winograd.chunk_bytes(C, O, OH, OW, g.itemsize, r) // 2)
        du_sum, gb_sum = _sum_pairs(partials, (np.zeros(((r + 1) ** 2, O, C), g.dtype), np.zeros(O, g.dtype)))
        return self._grads(gx, winograd.weight_grad(du_sum, r) if needs[1] else None, gb_sum)

    def _grads(self, gx, gw, gb):
        """(dX, dW[, db]) in the shapes of the inputs, None where no gradient is needed."""
        needs = self.needs_input_grad
        gx = gx.reshape(self.x_shape) if needs[0] else None
        gw = gw.reshape(self.w_shape) if needs[1] else None
        if len(needs) == 2:
            return gx, gw
        return gx, gw, (gb.reshape(-1) if needs[2] else None)

    def backward(self, g):
        if self.u is not None:
            return self._winograd_backward(g)
        xp, w, geometry, needs = self.xp, self.w4, self.geometry, self.needs_input_grad
        kh, kw, OH, OW = geometry[0], geometry[1], geometry[6], geometry[7]
        N, C, Hp, Wp = xp.shape
        O, Cg = w.shape[:2]
        G = C // Cg
        gm = np.ascontiguousarray(g).reshape(N, G, O // G, OH * OW)
        input_grad, collect_gx = self._input_grad(gm, xp.shape) if needs[0] else (None, None)

        bias_grad = len(needs) == 3 and needs[2]

        def backward_chunk(start: int, stop: int):
            if input_grad is not None:
                input_grad(start, stop)
            gw_part = self._weight_grad_chunk(gm[start:stop], xp[start:stop]) if needs[1] else 0
            gb_part = gm[start:stop].sum(axis=(0, 3)) if bias_grad else 0
            return gw_part, gb_part

        # every chunk writes a weight-sized partial dW: a chunk's columns are kept at least that
        # large (ResNet's 512-channel 3x3 layer: 71 -> 55 ms forward and backward)
        item = 2 * C * kh * kw * OH * OW * g.itemsize
        partials = _in_threads(backward_chunk, N, item, min_items=-(-w.nbytes // max(item, 1)))
        # an empty batch contributes nothing: zero gradients, as in PyTorch
        zeros = (np.zeros((G, Cg * kh * kw, O // G), g.dtype), np.zeros((G, O // G), g.dtype))
        gw_t, gb_sum = _sum_pairs(partials, zeros)
        return self._grads(collect_gx() if needs[0] else None, gw_t.transpose(0, 2, 1), gb_sum)

    def _weight_grad_chunk(self, gc: np.ndarray, xc: np.ndarray) -> np.ndarray:
        """sum over the chunk's images of col_n @ dY[n]^T = dW^T, as (G, C/G*kh*kw, O/G).

        Transposed on purpose: OpenBLAS runs col @ dY^T (many rows, few columns) at 60-93 GFLOP/s
        where dY @ col^T (few rows) ran at 29-84 on the same shapes (1.5-2x on the thin layers).
        """
        n, G, Og, L = gc.shape
        stacked = L < STACK_BELOW
        col = _columns(xc, self.geometry, stacked)
        if stacked:
            gs = np.ascontiguousarray(gc.transpose(1, 2, 0, 3)).reshape(G, Og, n * L)
            return np.matmul(col.reshape(G, -1, n * L), gs.transpose(0, 2, 1))
        return np.matmul(col.reshape(n, G, -1, L), gc.transpose(0, 1, 3, 2)).sum(axis=0)

    def _input_grad(self, gm: np.ndarray, padded_shape: tuple[int, ...]):
        """A chunk worker for dX, and a function that returns dX once every chunk is done."""
        N, C, Hp, Wp = padded_shape
        G, Og, L = gm.shape[1:]
        kh, kw, sh, sw, dh, dw, OH, OW = self.geometry
        top, bottom, left, right = self.pads
        H, W = Hp - top - bottom, Wp - left - right
        full = _full_conv_pads(self.geometry, self.pads, C, G * Og)
        if full is not None:  # dX = conv(pad(dY), flip(W)^T), written straight into (N, C, H, W)
            gx = np.empty((N, G, C // G, H * W), gm.dtype)
            wf = self.w4[:, :, ::-1, ::-1].reshape(G, Og, C // G, kh * kw).transpose(0, 2, 1, 3)
            wf = np.ascontiguousarray(wf).reshape(G, C // G, Og * kh * kw)
            geometry = (kh, kw, 1, 1, 1, 1, H, W)

            def work(start: int, stop: int) -> None:
                gp = _padded(gm[start:stop].reshape(stop - start, G * Og, OH, OW), full)
                _conv_chunk(gp, wf, geometry, gx[start:stop])

            return work, lambda: gx
        gx = np.empty((N, C, H, W), gm.dtype)
        wt = self.w4.reshape(G, Og, -1).transpose(0, 2, 1)

        def work(start: int, stop: int) -> None:
            n = stop - start
            gcol = np.matmul(wt, gm[start:stop]).reshape(n * C, kh, kw, 1, OH, OW)
            gxp = kernels.col2im(gcol, Hp, Wp, sh, sw, dh, dw).reshape(n, C, Hp, Wp)
            gx[start:stop] = gxp[:, :, top:top + H, left:left + W]  # the padding's share is dropped

        return work, lambda: gx


class ConvTranspose2d(Function):
    """The adjoint of conv2d: each input pixel scatters W-weighted copies into the output.

    Output size: (H - 1) * S - 2P + D * (F - 1) + output_padding + 1.
    Forward: col = W_mat^T @ X; Y = crop(col2im(col)) (+ b), i.e. conv2d's input gradient.
    Backward: col = im2col(pad(dY)); dX = W_mat @ col; dW = X @ col^T; db = sum(dY).
    """

    saves_inputs = (0, 1)

    def forward(self, x, w, b=None, *, stride, padding, output_padding, groups, dilation):
        N, Cin, H, W = x.shape
        _, Cog, kh, kw = w.shape
        sh, sw = stride
        ph, pw = padding
        dh, dw = dilation
        G = groups
        OH = (H - 1) * sh - 2 * ph + dh * (kh - 1) + output_padding[0] + 1
        OW = (W - 1) * sw - 2 * pw + dw * (kw - 1) + output_padding[1] + 1
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
            self.geometry = (N, Cin, H, W, OH, OW, Cout)
            self.options = (kh, kw, sh, sw, ph, pw, dh, dw, G)
            self.w_shape = w.shape
            self.xm = xm if needs[1] else None
            self.wm = wm if needs[0] else None
        return _batch_last(y, N)

    def backward(self, g):
        N, Cin, H, W, OH, OW, Cout = self.geometry
        kh, kw, sh, sw, ph, pw, dh, dw, G = self.options
        needs = self.needs_input_grad
        gp = _padded(g, (ph, ph, pw, pw)).transpose(1, 0, 2, 3)  # channels first, as im2col takes it
        col = kernels.im2col(gp, kh, kw, sh, sw, dh, dw, H, W)
        colm = col.reshape(G, (Cout // G) * kh * kw, N * H * W)
        gx = gw = None
        if needs[0]:
            gx = _batch_last(np.matmul(self.wm, colm).reshape(Cin, N, H, W), N)
        if needs[1]:
            gw = np.matmul(self.xm, colm.transpose(0, 2, 1)).reshape(self.w_shape)
        if len(needs) == 2:
            return gx, gw
        gb = g.sum(axis=(0, 2, 3)) if needs[2] else None
        return gx, gw, gb


# ---------------------------------------------------------------------------- public functions
def _check_common(x: Tensor, weight: Tensor, bias: Tensor | None, dims: int, op: str) -> bool:
    """Validate ranks and dtypes; True when x has no batch dimension."""
    _check_tensor(x, "input", op)
    _check_tensor(weight, "weight", op)
    if weight.ndim != dims + 2:
        raise ValueError(
            f"{op}: weight must have {dims + 2} dimensions (out_channels, in_channels/groups, "
            f"{'kH, kW' if dims == 2 else 'kL'}), got shape {weight.shape}"
        )
    if 0 in weight.shape:  # PyTorch rejects these too (and gives odd shapes for 0 in_channels)
        raise ValueError(f"{op}: weight of shape {weight.shape} is empty; the kernel, in_channels and "
                         "out_channels must all be at least 1")
    if x.ndim not in (dims + 1, dims + 2):
        layout = "(N, C, H, W) or (C, H, W)" if dims == 2 else "(N, C, L) or (C, L)"
        raise ValueError(f"{op}: expected a {dims + 2}-D input {layout}, got shape {x.shape}")
    if x.dtype != weight.dtype or x.dtype.kind != "f":
        raise TypeError(
            f"{op}: input ({x.dtype}) and weight ({weight.dtype}) must be the same floating dtype; "
            "convert one with .float() or .double()"
        )
    if bias is not None:
        _check_tensor(bias, "bias", op)
        if bias.dtype != x.dtype:
            raise TypeError(f"{op}: bias dtype {bias.dtype} differs from input dtype {x.dtype}")
    return x.ndim == dims + 1


def _conv(x: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any, dilation: Any,
          groups: int, dims: int, op: str) -> Tensor:
    unbatched = _check_common(x, weight, bias, dims, op)
    if unbatched:
        x = x.unsqueeze(0)
    if 0 in x.shape[2:] and x.shape[0] and x.shape[1]:  # as PyTorch
        raise ValueError(f"{op}: input of shape {x.shape} has an empty spatial dimension (only an empty "
                         "batch or channel dimension is allowed)")
    kernel = tuple(weight.shape[2:])
    stride_t = _positive(_tuple(stride, dims, "stride", op), "stride", op)
    dilation_t = _positive(_tuple(dilation, dims, "dilation", op), "dilation", op)
    pads = _conv_padding(padding, kernel, dilation_t, stride_t, op)
    check_output_size(x.shape[:2] + tuple(n + b + a for n, (b, a) in zip(x.shape[2:], pads)), op,
                      f"padding={padding!r}")
    groups = int(groups)
    C = x.shape[1]
    O, Cg = weight.shape[:2]
    if groups <= 0:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups}")
    if C % groups or O % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide both in_channels ({C}) and out_channels ({O}) "
            f"(weight shape {weight.shape})"
        )
    if Cg * groups != C:
        raise ValueError(
            f"{op}: input has {C} channels but weight expects {Cg * groups} (weight shape "
            f"{weight.shape}, groups={groups}); the weight's dimension 1 must be in_channels/groups"
        )
    if bias is not None and bias.shape != (O,):
        raise ValueError(f"{op}: bias must have shape ({O},) (one per output channel), got {bias.shape}")
    names = ("height", "width") if dims == 2 else ("length",)
    for axis, (n, k, d, (p0, p1), name) in enumerate(zip(x.shape[2:], kernel, dilation_t, pads, names)):
        span = d * (k - 1) + 1
        if span > n + p0 + p1:
            what = f"kernel {k}" if d == 1 else f"dilated kernel {span} ({k} taps, dilation {d})"
            raise ValueError(
                f"{op}: {what} > padded input {n + p0 + p1} along {name} (input {n}, padding "
                f"{p0}+{p1}, axis {axis + 2} of shape {tuple(x.shape)}); use a smaller kernel or "
                "dilation, or more padding"
            )
    if dims == 1:
        stride_t, dilation_t = (1,) + stride_t, (1,) + dilation_t
        flat_pads = (0, 0) + pads[0]
    else:
        flat_pads = pads[0] + pads[1]
    inputs = (x, weight) if bias is None else (x, weight, bias)
    out = ConvNd.apply(*inputs, stride=stride_t, pads=flat_pads, dilation=dilation_t, groups=groups)
    return out.squeeze(0) if unbatched else out


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrPair = 1,
           padding: IntOrPair | str = 0, dilation: IntOrPair = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of an (N, C, H, W) input with (O, C/groups, kH, kW) filters.

    Output height (width likewise), floored as in PyTorch:

        OH = (H + 2P - D*(kH - 1) - 1) / S + 1          (seed 002: (W - F + 2P)/S + 1)

    `padding` is an int, a pair, 'valid' (no padding) or 'same' (output size = input size;
    stride 1 only; an odd total padding puts the extra pixel at the bottom/right).

    >>> import striate as st, striate.nn.functional as F
    >>> x = st.tensor([[[[0, 0, 0], [0, 1, 0], [0, 0, 0.]]]])
    >>> F.conv2d(x, st.ones(1, 1, 2, 2)).shape
    (1, 1, 2, 2)
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrPair = 1,
           padding: IntOrPair | str = 0, dilation: IntOrPair = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of an (N, C, L) input with (O, C/groups, k) filters.

    OL = (L + 2P - D*(k - 1) - 1) / S + 1; padding as in conv2d ('valid', 'same', int).
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


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
    unbatched = _check_common(input, weight, bias, 2, op)
    x = input.unsqueeze(0) if unbatched else input
    stride_t = _positive(_tuple(stride, 2, "stride", op), "stride", op)
    dilation_t = _positive(_tuple(dilation, 2, "dilation", op), "dilation", op)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a pair, got {padding!r} ('same' needs conv2d)")
    pad_t = _tuple(padding, 2, "padding", op)
    out_pad = _tuple(output_padding, 2, "output_padding", op)
    if any(p < 0 for p in pad_t + out_pad):
        raise ValueError(f"{op}: padding {pad_t} and output_padding {out_pad} must be non-negative")
    for op_, s, d in zip(out_pad, stride_t, dilation_t):
        if op_ >= s and op_ >= d:
            raise ValueError(
                f"{op}: output_padding {out_pad} must be smaller than either stride {stride_t} or "
                f"dilation {dilation_t}"
            )
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
    sizes = []
    for n, k, s, p, d, o in zip(x.shape[2:], weight.shape[2:], stride_t, pad_t, dilation_t, out_pad):
        sizes.append((n - 1) * s - 2 * p + d * (k - 1) + o + 1)
    if min(sizes) <= 0:
        raise ValueError(
            f"{op}: output size {tuple(sizes)} is not positive for input {tuple(x.shape)}; "
            f"padding {pad_t} is too large for kernel {tuple(weight.shape[2:])} and stride {stride_t}"
        )
    inputs = (x, weight) if bias is None else (x, weight, bias)
    out = ConvTranspose2d.apply(*inputs, stride=stride_t, padding=pad_t, output_padding=out_pad,
                                groups=groups, dilation=dilation_t)
    return out.squeeze(0) if unbatched else out
