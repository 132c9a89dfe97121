"""Resizing: `F.interpolate` (nearest, nearest-exact, linear/bilinear/trilinear) and its backward.

Both kinds of resampling are separable, one spatial axis at a time, and each output position reads
one or two input positions ("taps") along that axis:

    nearest:        src = min(floor(dst * scale), in - 1)                  one tap, weight 1
    nearest-exact:  src = min(floor((dst + 0.5) * scale), in - 1)
    linear:         align_corners=True:  src = dst * (in - 1) / (out - 1)
                    align_corners=False: src = max((dst + 0.5) * scale - 0.5, 0)
                    taps i0 = floor(src), i1 = min(i0 + 1, in - 1) with weights 1 - l, l (l = src - i0)

where scale = in / out, or 1 / scale_factor when the caller gave scale_factor (PyTorch's rule
unless recompute_scale_factor=True). The backward is the adjoint: every output gradient is added
back to the taps it read, times their weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.limits import check_output_size

_LINEAR_MODES = {"linear": 3, "bilinear": 4, "trilinear": 5}
_NEAREST_MODES = ("nearest", "nearest-exact")
Taps = list[tuple[np.ndarray, np.ndarray | None]]


def axis_taps(n_in: int, n_out: int, mode: str, align_corners: bool, scale: float | None) -> Taps:
    """The (indices, weights) taps of one axis (weights None: a single tap of weight 1)."""
    dst = np.arange(n_out, dtype=np.float64)
    ratio = (n_in / n_out if n_out else 0.0) if scale is None else 1.0 / scale
    if mode in _NEAREST_MODES:
        # PyTorch computes the nearest source index in float32 (its `float scale`)
        offset = np.float32(0.5 if mode == "nearest-exact" else 0.0)
        src32 = (dst.astype(np.float32) + offset) * np.float32(ratio)
        src = np.minimum(np.floor(src32), n_in - 1).astype(np.int64)
        return [(src, None)]
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros_like(dst)
    else:
        src = np.maximum((dst + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    return [(i0, 1.0 - lam), (i1, lam)]


def _weights(w: np.ndarray, axis: int, ndim: int, dtype: np.dtype) -> np.ndarray:
    return w.astype(dtype).reshape([-1 if k == axis else 1 for k in range(ndim)])


class Interpolate(Function):
    """z = resample(x) one spatial axis at a time (taps per axis);  dL/dx = the adjoint of each
    axis's resampling, applied in reverse order."""

    def forward(self, x, taps):
        self.taps, self.shapes = taps, []
        for axis, axis_taps_ in taps:
            self.shapes.append(x.shape)
            x = _resample(x, axis, axis_taps_)
        return x

    def backward(self, g):
        for (axis, axis_taps_), shape in zip(reversed(self.taps), reversed(self.shapes)):
            g = _resample_adjoint(g, axis, axis_taps_, shape)
        return (g,)


def _resample(x: np.ndarray, axis: int, taps: Taps) -> np.ndarray:
    out = None
    for idx, w in taps:
        part = np.take(x, idx, axis=axis)
        if w is not None:
            part = part * _weights(w, axis, x.ndim, x.dtype)
        out = part if out is None else out + part
    return out


def tap_matrix(taps: Taps, n_in: int, dtype: np.dtype) -> np.ndarray:
    """The axis's resampling as an (n_out, n_in) matrix M: out = M @ in along that axis."""
    n_out = taps[0][0].shape[0]
    m = np.zeros((n_out, n_in), np.float64)
    rows = np.arange(n_out)
    for idx, w in taps:
        np.add.at(m, (rows, idx), 1.0 if w is None else w)
    return m.astype(dtype)


def _resample_adjoint(g: np.ndarray, axis: int, taps: Taps, shape: tuple[int, ...]) -> np.ndarray:
    """dL/din = M^T dL/dout along the axis, one BLAS product (np.add.at was ~5x slower)."""
    m = tap_matrix(taps, shape[axis], g.dtype)
    return np.moveaxis(np.moveaxis(g, axis, -1) @ m, -1, axis)


def _spatial(value: Any, n: int, what: str) -> tuple | None:
    if value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return (value,) * n
    items = tuple(value)
    if len(items) != n:
        raise ValueError(f"interpolate: {what} must have {n} elements (one per spatial dimension) for "
                         f"this input, got {value!r}")
    return items


def _check_mode(x: Tensor, mode: str, align_corners: bool | None) -> None:
    if mode in _NEAREST_MODES:
        if align_corners is not None:
            raise ValueError("interpolate: align_corners can only be set with the interpolating modes "
                             "linear | bilinear | trilinear (not with 'nearest')")
        if x.ndim not in (3, 4, 5):
            raise ValueError(f"interpolate: input must be 3-D, 4-D or 5-D (N, C, spatial...), got shape "
                             f"{x.shape}")
        return
    if mode in _LINEAR_MODES:
        want = _LINEAR_MODES[mode]
        if x.ndim != want:
            raise NotImplementedError(f"interpolate: got a {x.ndim}-D input, but mode '{mode}' needs a "
                                      f"{want}-D input (N, C and {want - 2} spatial dimensions)")
        return
    raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; use 'nearest', "
                              "'nearest-exact', 'linear', 'bilinear' or 'trilinear' (bicubic and area "
                              "are not implemented in striate)")


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",  # noqa: A002
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dimensions of an (N, C, ...) tensor to `size` or by `scale_factor`."""
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: input must be a Tensor, got {type(input).__name__}")
    _check_mode(input, mode, align_corners)
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported in striate")
    if input.dtype.kind != "f" and mode not in _NEAREST_MODES:
        raise RuntimeError(f"interpolate: mode '{mode}' needs a floating point input, got {input.dtype}")
    n = input.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor" if size is not None
                         else "interpolate: either size or scale_factor should be defined")
    sizes = _spatial(size, n, "size")
    factors = _spatial(scale_factor, n, "scale_factor")
    in_sizes = input.shape[2:]
    if sizes is None:
        if any(f <= 0 for f in factors):
            raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor!r}")
        sizes = tuple(int(math.floor(float(s) * float(f))) for s, f in zip(in_sizes, factors))
    sizes = tuple(int(s) for s in sizes)
    if any(s <= 0 for s in sizes) or any(s == 0 for s in in_sizes):
        raise ValueError(f"interpolate: input spatial size {in_sizes} and output size {sizes} must be "
                         "positive")
    check_output_size(input.shape[:2] + sizes, "interpolate", "size / scale_factor")
    use_factor = factors is not None and not recompute_scale_factor
    taps = tuple(
        (2 + k, axis_taps(in_sizes[k], sizes[k], mode, bool(align_corners),
                          float(factors[k]) if use_factor else None))
        for k in range(n)
    )
    return Interpolate.apply(input, taps=taps)


def upsample_sizes(size: Any, scale_factor: Any) -> tuple[Sequence | None, Any]:
    """(size, scale_factor) as `nn.Upsample` stores them (one of them None)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("Upsample: give exactly one of size and scale_factor")
    return size, (float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor)
