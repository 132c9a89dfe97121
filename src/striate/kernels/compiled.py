"""Numba-compiled twins of `reference.py` (same layouts, same answers, one pass each).

im2col has no compiled twin on purpose: it is a loop NumPy does vectorize (kh*kw strided-slice
copies), and a Numba version measured ~3.5x slower than those copies (112 ms vs 31 ms for a
CIFAR 32->32 3x3 layer at batch 64), so both kernel sets use `reference.im2col`.

Imported only when a Numba kernel first runs (so `import striate` does not load Numba).
`cache=True` keeps the machine code on disk next to this file, so later processes skip
compilation. The loops are serial on purpose: BLAS owns the threads (see `striate.config`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def col2im(col, hp, wp, sh, sw, dh, dw):
    C, kh, kw, N, oh, ow = col.shape
    xp = np.zeros((C, N, hp, wp), col.dtype)
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                offset = j * dw
                for n in range(N):
                    plane = xp[c, n]
                    patches = col[c, i, j, n]
                    for y in range(oh):
                        row = plane[y * sh + i * dh]
                        src = patches[y]
                        if sw == 1:  # unit stride: a contiguous run the compiler vectorizes
                            for x in range(ow):
                                row[offset + x] += src[x]
                        else:
                            for x in range(ow):
                                row[offset + x * sw] += src[x]
    return xp


@njit(cache=True, nogil=True)
def _tap_range(start, end, n, k, d):
    """Per output position, the taps t in [lo, hi) whose pixel start + t*d lies in [0, min(end, n))."""
    count = start.shape[0]
    lo = np.empty(count, np.int64)
    hi = np.empty(count, np.int64)
    for o in range(count):
        limit = min(end[o], n)
        a = 0
        while a < k and start[o] + a * d < 0:
            a += 1
        b = a
        while b < k and start[o] + b * d < limit:
            b += 1
        lo[o] = a
        hi[o] = b
    return lo, hi


@njit(cache=True, nogil=True)
def _full_windows(x, hstart, wstart, kh, kw, dh, dw, best, where):
    """window_max when every window lies wholly inside the input (no padding reached): fixed
    trip counts, so the compiler unrolls the taps."""
    B, H, W = x.shape
    OH, OW = hstart.shape[0], wstart.shape[0]
    for b in range(B):
        for oy in range(OH):
            y0 = hstart[oy]
            for ox in range(OW):
                x0 = wstart[ox]
                m = x[b, y0, x0]
                k = y0 * W + x0
                for i in range(kh):
                    y = y0 + i * dh
                    for j in range(kw):
                        c = x0 + j * dw
                        v = x[b, y, c]
                        take = np.int64((v > m) | (v != v))
                        k += (y * W + c - k) * take
                        m = max(m, v) if v == v else v
                best[b, oy, ox] = m
                where[b, oy, ox] = k


@njit(cache=True, nogil=True)
def window_max(x, hstart, hend, wstart, wend, kh, kw, dh, dw):
    B, H, W = x.shape
    OH, OW = hstart.shape[0], wstart.shape[0]
    best = np.empty((B, OH, OW), x.dtype)
    where = np.empty((B, OH, OW), np.int64)
    ilo, ihi = _tap_range(hstart, hend, H, kh, dh)
    jlo, jhi = _tap_range(wstart, wend, W, kw, dw)
    if (ilo == 0).all() and (ihi == kh).all() and (jlo == 0).all() and (jhi == kw).all():
        _full_windows(x, hstart, wstart, kh, kw, dh, dw, best, where)
        return best, where
    for b in range(B):
        for oy in range(OH):
            i0, i1, y0 = ilo[oy], ihi[oy], hstart[oy]
            for ox in range(OW):
                j0, j1, x0 = jlo[ox], jhi[ox], wstart[ox]
                if i0 >= i1 or j0 >= j1:  # a window with no input pixel
                    best[b, oy, ox] = -np.inf
                    where[b, oy, ox] = -1
                    continue
                yy, xx = y0 + i0 * dh, x0 + j0 * dw
                m = x[b, yy, xx]
                k = yy * W + xx
                for i in range(i0, i1):
                    y = y0 + i * dh
                    for j in range(j0, j1):
                        c = x0 + j * dw
                        v = x[b, y, c]
                        # a later pixel wins only if larger or NaN (first max wins ties, NaN
                        # propagates: PyTorch's CPU rule). Arithmetic select instead of a branch:
                        # on random data the branch mispredicts half the time.
                        take = np.int64((v > m) | (v != v))
                        k += (y * W + c - k) * take
                        m = max(m, v) if v == v else v
                best[b, oy, ox] = m
                where[b, oy, ox] = k
    return best, where


@njit(cache=True, nogil=True)
def window_max_backward(g, where, h, w):
    B, OH, OW = g.shape
    out = np.zeros((B, h * w), g.dtype)
    for b in range(B):
        for oy in range(OH):
            for ox in range(OW):
                k = where[b, oy, ox]
                if k >= 0:
                    out[b, k] += g[b, oy, ox]
    return out.reshape(B, h, w)
