"""NumPy reference kernels: the readable twin of every compiled loop in `compiled.py`.

Layouts (chosen so conv needs one BLAS matmul and no transposes inside the loops):

- im2col input `xp`: (C, N, Hp, Wp), the padded image with channels first;
- its columns `col`: (C, kh, kw, N, OH, OW), so `col.reshape(C*kh*kw, N*OH*OW)` is the
  matrix whose column q holds the receptive field of output pixel q;
- windowed max works on planes `x`: (B, H, W) with B = N*C.

Each loop below runs over kernel offsets (kh*kw of them, a handful) and moves whole
strided slices, so the work per Python step is a large vectorized copy.
"""

from __future__ import annotations

import numpy as np


def _span(start: int, count: int, step: int) -> slice:
    """The `count` positions start, start+step, ... as a slice."""
    return slice(start, start + step * (count - 1) + 1, step)


def im2col(xp: np.ndarray, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int,
           oh: int, ow: int) -> np.ndarray:
    """col[c, i, j, n, y, x] = xp[c, n, y*sh + i*dh, x*sw + j*dw]."""
    C, N = xp.shape[:2]
    col = np.empty((C, kh, kw, N, oh, ow), xp.dtype)
    for i in range(kh):
        rows = _span(i * dh, oh, sh)
        for j in range(kw):
            col[:, i, j] = xp[:, :, rows, _span(j * dw, ow, sw)]
    return col


def col2im(col: np.ndarray, hp: int, wp: int, sh: int, sw: int, dh: int, dw: int) -> np.ndarray:
    """The adjoint of im2col: every column entry is added back to the pixel it was copied from."""
    C, kh, kw, N, oh, ow = col.shape
    xp = np.zeros((C, N, hp, wp), col.dtype)
    for i in range(kh):
        rows = _span(i * dh, oh, sh)
        for j in range(kw):
            xp[:, :, rows, _span(j * dw, ow, sw)] += col[:, i, j]
    return xp


def window_max(x: np.ndarray, hstart: np.ndarray, hend: np.ndarray, wstart: np.ndarray,
               wend: np.ndarray, kh: int, kw: int, dh: int, dw: int) -> tuple[np.ndarray, np.ndarray]:
    """Max over each window and the flat index (y*W + x) of the winner in its plane.

    Window (oy, ox) covers rows hstart[oy] + i*dh (i < kh) that lie in [0, min(hend[oy], H))
    and columns likewise. Scan order is row-major; a later element wins only if it is larger
    or NaN, so ties go to the first maximum and NaN propagates (PyTorch's CPU rule).
    """
    B, H, W = x.shape
    OH, OW = hstart.shape[0], wstart.shape[0]
    best = np.full((B, OH, OW), -np.inf, x.dtype)
    where = np.full((B, OH, OW), -1, np.int64)
    for i in range(kh):
        ys = hstart + i * dh
        yvalid = (ys >= 0) & (ys < np.minimum(hend, H))
        yc = np.clip(ys, 0, H - 1)
        rows = x[:, yc, :]
        for j in range(kw):
            xs = wstart + j * dw
            xvalid = (xs >= 0) & (xs < np.minimum(wend, W))
            xc = np.clip(xs, 0, W - 1)
            v = rows[:, :, xc]
            take = (yvalid[:, None] & xvalid[None, :]) & ((where < 0) | (v > best) | np.isnan(v))
            np.copyto(best, v, where=take)
            np.copyto(where, yc[:, None] * W + xc[None, :], where=take)
    return best, where


def window_max_backward(g: np.ndarray, where: np.ndarray, h: int, w: int) -> np.ndarray:
    """Seed 003's max gate as a gradient router: each g goes to its window's winner.

    Overlapping windows can share a winner, so gradients are summed per target pixel: sort the
    targets, then add each run of equal targets with one `np.add.reduceat` (float32 stays
    float32, no scatter loop).
    """
    B = g.shape[0]
    out = np.zeros(B * h * w, g.dtype)
    target = (np.arange(B, dtype=np.int64)[:, None] * (h * w) + where.reshape(B, -1)).ravel()
    values = g.reshape(-1)
    keep = where.reshape(-1) >= 0
    if not keep.all():
        target, values = target[keep], values[keep]
    if target.size:
        order = np.argsort(target, kind="stable")
        target = target[order]
        starts = np.flatnonzero(np.concatenate(([True], target[1:] != target[:-1])))
        out[target[starts]] = np.add.reduceat(values[order], starts)
    return out.reshape(B, h, w)
