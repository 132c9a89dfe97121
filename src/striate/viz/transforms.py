"""Differentiable image transforms for feature visualisation: a random affine resampling (jitter,
scale, rotation) with its backward, a Gaussian blur, and the total-variation penalty."""

from __future__ import annotations

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor


def _bilinear_taps(h: int, w: int, matrix: np.ndarray, shift: np.ndarray):
    """For each output pixel, the four source pixels and weights of bilinear sampling at
    A (p - c) + c + t, p the pixel, c the centre; taps outside the image read zero (weight 0)."""
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    c = np.array([(h - 1) / 2, (w - 1) / 2])
    p = np.stack([yy.ravel() - c[0], xx.ravel() - c[1]])
    src = matrix @ p + (c + shift)[:, None]
    y0, x0 = np.floor(src[0]), np.floor(src[1])
    fy, fx = src[0] - y0, src[1] - x0
    taps = []
    corners = ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx))
    for dy, dx, wt in corners:
        yi, xi = (y0 + dy).astype(np.int64), (x0 + dx).astype(np.int64)
        inside = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
        taps.append((np.where(inside, yi * w + xi, 0), np.where(inside, wt, 0.0)))
    return taps


class AffineSample(Function):
    """y(p) = sum over the 4 neighbours q of s = A (p - c) + c + t of bilinear weight(q) x(q);
    dL/dx(q) = sum over p of weight(q, p) dL/dy(p) (the same taps, scattered back)."""

    def forward(self, x, matrix, shift):
        n, ch, h, w = x.shape
        self.taps, self.shape = _bilinear_taps(h, w, matrix, shift), x.shape
        flat = x.reshape(n, ch, h * w)
        out = sum(flat[:, :, idx] * wt.astype(x.dtype) for idx, wt in self.taps)
        return out.reshape(x.shape)

    def backward(self, g):
        n, ch, h, w = self.shape
        gf = g.reshape(n, ch, h * w)
        dx = np.zeros((n, ch, h * w), g.dtype)
        for idx, wt in self.taps:
            np.add.at(dx, (slice(None), slice(None), idx), gf * wt.astype(g.dtype))
        return (dx.reshape(self.shape),)


def random_affine(x: Tensor, rng: np.random.Generator, jitter: float, scales: tuple[float, ...],
                  degrees: float) -> Tensor:
    """x jittered by up to `jitter` pixels, scaled by one of `scales`, rotated by up to
    +-`degrees`; differentiable (1-D signals: jitter only, as a shift along the axis)."""
    if x.ndim != 4:
        return x
    s = scales[rng.integers(len(scales))] if scales else 1.0
    a = np.deg2rad(rng.uniform(-degrees, degrees)) if degrees else 0.0
    matrix = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) / s
    shift = rng.uniform(-jitter, jitter, 2) if jitter else np.zeros(2)
    return AffineSample.apply(x, matrix=matrix, shift=shift)


def gaussian_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur over the spatial axes of (N, C, *space), reflect-padded."""
    if sigma <= 0:
        return x
    r = max(1, int(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    out = x
    for axis in range(2, x.ndim):
        pad = [(0, 0)] * x.ndim
        pad[axis] = (r, r)
        padded = np.pad(out, pad, mode="reflect" if out.shape[axis] > r else "edge")
        n = out.shape[axis]
        out = sum(k[i] * np.take(padded, np.arange(i, i + n), axis=axis) for i in range(2 * r + 1))
    return out.astype(x.dtype)


def total_variation(x: Tensor) -> Tensor:
    """Mean squared difference of neighbouring pixels along every spatial axis."""
    total = None
    for axis in range(2, x.ndim):
        n = x.shape[axis]
        lo = [slice(None)] * x.ndim
        hi = [slice(None)] * x.ndim
        lo[axis], hi[axis] = slice(0, n - 1), slice(1, n)
        d = x[tuple(hi)] - x[tuple(lo)]
        term = (d * d).mean()
        total = term if total is None else total + term
    return total
