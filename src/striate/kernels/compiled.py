"""Numba-compiled twins of `reference.py` (same layouts, same answers, one pass each).

Imported only when a Numba kernel first runs (so `import striate` does not load Numba).
`cache=True` keeps the machine code on disk next to this file, so later processes skip
compilation. The loops are serial on purpose: BLAS owns the threads (see `striate.config`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def im2col(xp, kh, kw, sh, sw, dh, dw, oh, ow):
    C, N = xp.shape[0], xp.shape[1]
    col = np.empty((C, kh, kw, N, oh, ow), xp.dtype)
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                for n in range(N):
                    for y in range(oh):
                        r = y * sh + i * dh
                        for x in range(ow):
                            col[c, i, j, n, y, x] = xp[c, n, r, x * sw + j * dw]
    return col


@njit(cache=True, nogil=True)
def col2im(col, hp, wp, sh, sw, dh, dw):
    C, kh, kw, N, oh, ow = col.shape
    xp = np.zeros((C, N, hp, wp), col.dtype)
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                for n in range(N):
                    for y in range(oh):
                        r = y * sh + i * dh
                        for x in range(ow):
                            xp[c, n, r, x * sw + j * dw] += col[c, i, j, n, y, x]
    return xp


@njit(cache=True, nogil=True)
def window_max(x, hstart, hend, wstart, wend, kh, kw, dh, dw):
    B, H, W = x.shape
    OH, OW = hstart.shape[0], wstart.shape[0]
    best = np.empty((B, OH, OW), x.dtype)
    where = np.empty((B, OH, OW), np.int64)
    for b in range(B):
        for oy in range(OH):
            y0 = hstart[oy]
            y1 = min(hend[oy], H)
            for ox in range(OW):
                x0 = wstart[ox]
                x1 = min(wend[ox], W)
                m = -np.inf
                k = -1
                for i in range(kh):
                    y = y0 + i * dh
                    if y < 0 or y >= y1:
                        continue
                    for j in range(kw):
                        xx = x0 + j * dw
                        if xx < 0 or xx >= x1:
                            continue
                        v = x[b, y, xx]
                        # first max wins ties; NaN always takes over (PyTorch's CPU rule)
                        if k < 0 or v > m or np.isnan(v):
                            m = v
                            k = y * W + xx
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
