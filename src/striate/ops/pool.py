"""Pooling: max, average, power-average and adaptive pooling over (N, C, H, W) planes.

Seed 002: pooling shrinks each feature map independently; output size as for conv,

    OH = (H + 2P - D*(kH - 1) - 1) / S + 1        floored, or ceiled with ceil_mode=True
                                                  (a last window must start inside the input
                                                  or the left padding, as in PyTorch)

Max pooling is seed 003's *max gate*, a gradient router: the backward sends each output's
gradient to the one input that won its window, so only the argmax is saved. Average pooling
spreads the gradient evenly over its window (divided by the same divisor as the forward).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from striate import kernels
from striate.autograd.function import Function
from striate.autograd.tensor import Tensor, wrap
from striate.ops.activation import relu
from striate.ops.args import int_tuple as _tuple
from striate.ops.args import pool_output_size
from striate.ops.args import positive as _positive
from striate.ops.limits import INT32_MAX, check_output_size

IntOrPair = int | Sequence[int]


def _span(start: int, count: int, step: int) -> slice:
    return slice(start, start + step * (count - 1) + 1, step)


def _planes(x: Tensor, op: str) -> tuple[Tensor, bool]:
    """Check the rank (3-D unbatched or 4-D) and return a 4-D input and whether it was 3-D."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a striate Tensor, got {type(x).__name__}")
    if x.ndim not in (3, 4) or x.numel() == 0:
        raise ValueError(f"{op}: expected a non-empty 3-D (C, H, W) or 4-D (N, C, H, W) input, got {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {x.dtype}; use .float()")
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


def _window_geometry(x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                     ceil_mode: bool, op: str):
    kernel = _positive(_tuple(kernel_size, 2, "kernel_size", op), "kernel_size", op)
    stride_t = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        _positive(_tuple(stride, 2, "stride", op), "stride", op)
    pads = _tuple(padding, 2, "padding", op)
    dil = _positive(_tuple(dilation, 2, "dilation", op), "dilation", op)
    if any(p < 0 for p in pads):
        raise ValueError(f"{op}: padding must be non-negative, got {pads}")
    for name, values in (("kernel_size", kernel), ("stride", stride_t), ("dilation", dil)):
        if max(values) > INT32_MAX:  # as PyTorch, whose pooling sizes are 32-bit ints
            raise ValueError(f"{op}: {name}={values} is larger than {INT32_MAX}")
    for p, k in zip(pads, kernel):
        if p > k // 2:
            raise ValueError(
                f"{op}: pad should be at most half of the kernel size, but got padding={pads}, "
                f"kernel_size={kernel} and dilation={dil}; use padding <= {tuple(k // 2 for k in kernel)}"
            )
    H, W = x.shape[2:]
    OH = pool_output_size(H, kernel[0], stride_t[0], pads[0], dil[0], ceil_mode)
    OW = pool_output_size(W, kernel[1], stride_t[1], pads[1], dil[1], ceil_mode)
    if OH < 1 or OW < 1:
        raise ValueError(
            f"{op}: given input size {tuple(x.shape[1:])}, the output size ({x.shape[1]}, {OH}, {OW}) "
            f"is too small: kernel {kernel} (dilation {dil}) is larger than the padded input "
            f"({H + 2 * pads[0]}, {W + 2 * pads[1]})"
        )
    return kernel, stride_t, pads, dil, OH, OW


class WindowMax(Function):
    """y = max over the window;  dy/dx = 1 at the window's (first) argmax, 0 elsewhere.

    The max and argmax come from `striate.kernels.window_max`; the node keeps only the argmax
    for the backward, and hands it to `found["where"]` for max_pool's return_indices.
    """

    def forward(self, x, *, windows, found):
        N, C, H, W = x.shape
        hstart, hend, wstart, wend, kh, kw, dh, dw = windows
        out, where = kernels.window_max(x.reshape(N * C, H, W), hstart, hend, wstart, wend, kh, kw, dh, dw)
        shape = (N, C, hstart.shape[0], wstart.shape[0])
        self.where, self.shape = where.reshape(shape), x.shape
        found["where"] = self.where
        return out.reshape(shape)

    def backward(self, g):
        N, C, H, W = self.shape
        B = N * C
        out_shape = (B,) + g.shape[2:]
        gx = kernels.window_max_backward(g.reshape(out_shape), self.where.reshape(out_shape), H, W)
        return (gx.reshape(self.shape),)


def _window_max(x: Tensor, hstart, hend, wstart, wend, kh: int, kw: int, dh: int, dw: int,
                return_indices: bool, unbatched: bool):
    found: dict = {}
    y = WindowMax.apply(x, windows=(hstart, hend, wstart, wend, kh, kw, dh, dw), found=found)
    where = found["where"]
    if unbatched:
        y = y.squeeze(0)
        where = where[0]
    return (y, wrap(where, False)) if return_indices else y


def max_pool2d(input: Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None,
               padding: IntOrPair = 0, dilation: IntOrPair = 1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over each kH x kW window (padding is ignored, never a candidate).

    Ties go to the first maximum in row-major scan order and NaN propagates, as in PyTorch.
    With return_indices=True also returns the argmax as a flat index into the H*W input
    plane (int64), the same indices PyTorch gives.
    """
    x, unbatched = _planes(input, "max_pool2d")
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), OH, OW = _window_geometry(
        x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    H, W = x.shape[2:]
    hstart = np.arange(OH, dtype=np.int64) * sh - ph
    wstart = np.arange(OW, dtype=np.int64) * sw - pw
    hend = np.full(OH, H, np.int64)
    wend = np.full(OW, W, np.int64)
    out = _window_max(x, hstart, hend, wstart, wend, kh, kw, dh, dw, return_indices, unbatched)
    node = (out[0] if return_indices else out)._ctx
    if node is not None and not unbatched:  # the window's settings, for st.onnx.export
        node.window = ((kh, kw), (sh, sw), (ph, pw), (dh, dw), bool(ceil_mode))
    return out


def _adaptive_bounds(n: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Window i covers [floor(i*n/out), ceil((i+1)*n/out))."""
    i = np.arange(out, dtype=np.int64)
    return (i * n) // out, -((-(i + 1) * n) // out)


def _adaptive_size(x: Tensor, output_size: Any, op: str) -> tuple[int, int]:
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size, output_size)
    sizes = tuple(output_size)
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(sizes) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    sizes = tuple(n if s is None else int(s) for s, n in zip(sizes, x.shape[2:]))
    if min(sizes) < 1:
        raise ValueError(f"{op}: output_size must be positive, got {sizes}")
    check_output_size(x.shape[:2] + sizes, op, f"output_size={output_size!r}")
    return sizes


def adaptive_max_pool2d(input: Tensor, output_size: IntOrPair, return_indices: bool = False):
    """Max pooling to a fixed output size: window i spans [floor(i*H/OH), ceil((i+1)*H/OH))."""
    x, unbatched = _planes(input, "adaptive_max_pool2d")
    OH, OW = _adaptive_size(x, output_size, "adaptive_max_pool2d")
    H, W = x.shape[2:]
    hstart, hend = _adaptive_bounds(H, OH)
    wstart, wend = _adaptive_bounds(W, OW)
    kh, kw = int((hend - hstart).max()), int((wend - wstart).max())
    return _window_max(x, hstart, hend, wstart, wend, kh, kw, 1, 1, return_indices, unbatched)


class AvgPool2d(Function):
    """y = (1/divisor) * sum of the window;  dL/dx = sum over windows containing x of dL/dy / divisor.

    divisor = window area inside the padded input (count_include_pad=True), or only the part
    inside the real input (False), or divisor_override. Computed as an outer product of the
    row and column counts, as PyTorch's window bounds make it separable.
    """

    def forward(self, x, kernel, stride, pads, out_size, count_include_pad, divisor_override):
        N, C, H, W = x.shape
        (kh, kw), (sh, sw), (ph, pw), (OH, OW) = kernel, stride, pads, out_size
        Hb = max(H + 2 * ph, (OH - 1) * sh + kh)
        Wb = max(W + 2 * pw, (OW - 1) * sw + kw)
        planes = x.reshape(N * C, H, W)
        if (Hb, Wb) == (H, W):
            buf = planes
        else:
            buf = np.zeros((N * C, Hb, Wb), x.dtype)
            buf[:, ph:ph + H, pw:pw + W] = planes
        total = buf[:, _span(0, OH, sh), _span(0, OW, sw)].copy()
        for i in range(kh):
            for j in range(kw):
                if i or j:
                    total += buf[:, _span(i, OH, sh), _span(j, OW, sw)]
        self.div, self.empty = self._divisor(H, W, kernel, stride, pads, out_size, count_include_pad,
                                             divisor_override, x.dtype)
        self.geometry = (x.shape, Hb, Wb, kernel, stride, pads, out_size)
        out = total / self.div
        if self.empty is not None:
            out[:, self.empty] = 0
        return out.reshape(N, C, OH, OW)

    @staticmethod
    def _divisor(H, W, kernel, stride, pads, out_size, count_include_pad, divisor_override, dtype):
        """The (OH, OW) divisor (PyTorch's divide_factor) and a mask of windows that hold no input."""

        def counts(n, k, s, p, o):
            start = np.arange(o) * s - p
            end = np.minimum(start + k, n + p)
            inside = np.minimum(end, n) - np.maximum(start, 0)
            return end - start, np.maximum(inside, 0)

        rows_pad, rows_in = counts(H, kernel[0], stride[0], pads[0], out_size[0])
        cols_pad, cols_in = counts(W, kernel[1], stride[1], pads[1], out_size[1])
        if divisor_override:
            div = np.full((out_size[0], out_size[1]), int(divisor_override))
        elif count_include_pad:
            div = np.outer(rows_pad, cols_pad)
        else:
            div = np.outer(rows_in, cols_in)
        empty = np.outer(rows_in, cols_in) == 0  # a window wholly in padding averages to 0
        if not empty.any():
            return div.astype(dtype), None
        return np.where(empty, 1, div).astype(dtype), empty

    def backward(self, g):
        shape, Hb, Wb, (kh, kw), (sh, sw), (ph, pw), (OH, OW) = self.geometry
        N, C, H, W = shape
        gd = g.reshape(N * C, OH, OW) / self.div
        if self.empty is not None:
            gd[:, self.empty] = 0
        buf = np.zeros((N * C, Hb, Wb), g.dtype)
        for i in range(kh):
            for j in range(kw):
                buf[:, _span(i, OH, sh), _span(j, OW, sw)] += gd
        return (np.ascontiguousarray(buf[:, ph:ph + H, pw:pw + W]).reshape(shape),)


def avg_pool2d(input: Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None,
               padding: IntOrPair = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over each kH x kW window (zero padding counts towards the divisor unless
    count_include_pad=False; windows that ceil_mode lets hang past the padding never count
    the overhang)."""
    x, unbatched = _planes(input, "avg_pool2d")
    kernel, stride_t, pads, _, OH, OW = _window_geometry(x, kernel_size, stride, padding, 1, ceil_mode,
                                                         "avg_pool2d")
    if divisor_override is not None and int(divisor_override) == 0:
        raise ValueError("avg_pool2d: divisor_override must be non-zero")
    y = AvgPool2d.apply(x, kernel=kernel, stride=stride_t, pads=pads, out_size=(OH, OW),
                        count_include_pad=count_include_pad, divisor_override=divisor_override)
    return y.squeeze(0) if unbatched else y


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: IntOrPair, stride: IntOrPair | None = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling: y = (sum over the window of x^p)^(1/p).

    Computed as PyTorch does: avg_pool2d(x^p) * kH*kW, with sign(s)*relu(|s|) before the
    1/p power (so a zero sum has zero gradient); p = inf is max pooling of |x|.
    """
    kernel = _tuple(kernel_size, 2, "kernel_size", "lp_pool2d")
    p = float(norm_type)
    if p == float("inf"):
        return max_pool2d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if p == float("-inf"):
        return -max_pool2d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if p == 0:
        raise ValueError("lp_pool2d: norm_type must be non-zero (the 1/p power is undefined)")
    mean = avg_pool2d(input ** norm_type, kernel_size, stride, 0, ceil_mode)
    sign = wrap(np.sign(mean.array), False)
    return (sign * relu(mean.abs()) * float(kernel[0] * kernel[1])) ** (1.0 / norm_type)


class AdaptiveAvgPool2d(Function):
    """Mean over window (i, j) = rows [floor(iH/OH), ceil((i+1)H/OH)) x the same for columns.

    Window membership is separable, so the window sums are two matrix products with 0/1
    matrices (Rh @ X @ Rw^T) and the backward is their transpose: dL/dX = Rh^T (dL/dY / n) Rw.
    """

    def forward(self, x, out_size):
        N, C, H, W = x.shape
        OH, OW = out_size
        rows = self._membership(H, OH, x.dtype)
        cols = self._membership(W, OW, x.dtype)
        count = np.outer(rows.sum(1), cols.sum(1)).astype(x.dtype)
        if not np.isfinite(x).all():  # 0 * inf would spread NaN into windows without the inf
            s = np.stack([x[:, :, rows[i] > 0][:, :, :, cols[j] > 0].sum(axis=(2, 3))
                          for i in range(OH) for j in range(OW)], axis=-1).reshape(N * C, OH, OW)
        else:
            # small products: serial BLAS once striate owns the threads (st.config.set_num_threads);
            # otherwise BLAS as the user has it (waking OpenBLAS's pool can stall for ms under load)
            s = (x.reshape(N * C * H, W) @ cols.T).reshape(N * C, H, OW)
            s = np.matmul(rows, s)
        self.rows, self.cols, self.count, self.shape = rows, cols, count, x.shape
        return (s / count).reshape(N, C, OH, OW)

    @staticmethod
    def _membership(n: int, out: int, dtype) -> np.ndarray:
        start, end = _adaptive_bounds(n, out)
        pos = np.arange(n)
        return ((pos >= start[:, None]) & (pos < end[:, None])).astype(dtype)

    def backward(self, g):
        N, C, H, W = self.shape
        OH, OW = self.count.shape
        gs = (g / self.count).reshape(N * C, OH, OW)
        gx = np.matmul(self.rows.T, gs).reshape(N * C * H, OW) @ self.cols
        return (gx.reshape(self.shape),)


def adaptive_avg_pool2d(input: Tensor, output_size: IntOrPair) -> Tensor:
    """Average pooling to a fixed output size (e.g. 1 for global average pooling).

    Window i spans rows [floor(i*H/OH), ceil((i+1)*H/OH)); windows may overlap or differ in
    size by one when OH does not divide H.
    """
    x, unbatched = _planes(input, "adaptive_avg_pool2d")
    y = AdaptiveAvgPool2d.apply(x, out_size=_adaptive_size(x, output_size, "adaptive_avg_pool2d"))
    return y.squeeze(0) if unbatched else y


def _as_2d(value: Any, fill: int, op: str, what: str) -> tuple[int, int]:
    (v,) = _tuple(value, 1, what, op)
    return (fill, v)


def max_pool1d(input: Tensor, kernel_size: int, stride: int | None = None, padding: int = 0,
               dilation: int = 1, ceil_mode: bool = False, return_indices: bool = False):
    """max_pool2d over an (N, C, L) input viewed as (N, C, 1, L); indices index into L."""
    x = _check_1d(input, "max_pool1d")
    result = max_pool2d(x.unsqueeze(-2), _as_2d(kernel_size, 1, "max_pool1d", "kernel_size"),
                        None if stride is None else _as_2d(stride, 1, "max_pool1d", "stride"),
                        _as_2d(padding, 0, "max_pool1d", "padding"),
                        _as_2d(dilation, 1, "max_pool1d", "dilation"),
                        ceil_mode, return_indices)
    if return_indices:
        y, idx = result
        return y.squeeze(-2), wrap(idx.array[..., 0, :], False)
    return result.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size: int, stride: int | None = None, padding: int = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """avg_pool2d over an (N, C, L) input viewed as (N, C, 1, L)."""
    x = _check_1d(input, "avg_pool1d")
    y = avg_pool2d(x.unsqueeze(-2), _as_2d(kernel_size, 1, "avg_pool1d", "kernel_size"),
                   None if stride is None else _as_2d(stride, 1, "avg_pool1d", "stride"),
                   _as_2d(padding, 0, "avg_pool1d", "padding"), ceil_mode, count_include_pad)
    return y.squeeze(-2)


def _check_1d(x: Tensor, op: str) -> Tensor:
    if not isinstance(x, Tensor) or x.ndim not in (2, 3):
        shape = getattr(x, "shape", type(x).__name__)
        raise ValueError(f"{op}: expected a 2-D (C, L) or 3-D (N, C, L) input, got {shape}")
    return x
