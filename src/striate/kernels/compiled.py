"""Numba-compiled twins of `reference.py` (same layouts, same answers, one pass each).

im2col has no compiled twin on purpose: it is a loop NumPy does vectorize (kh*kw strided-slice
copies), and a Numba version measured ~3.5x slower than those copies (112 ms vs 31 ms for a
CIFAR 32->32 3x3 layer at batch 64), so both kernel sets use `reference.im2col`.

Imported only when a Numba kernel first runs (so `import striate` does not load Numba).
`cache=True` keeps the machine code on disk next to this file, so later processes skip
compilation. The loops are serial on purpose: they run inside striate's threads (see
`striate.config`). Over 400 lines on purpose: it mirrors `reference.py` kernel for kernel (the
twin tests pair them by name), and the dispatcher loads the compiled set as one module.
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


# Winograd F(2x2, 3x3) transforms (`reference.py` has the matrices). Each kernel works on one
# band of tiles at a time: the row combination of the band's 2 or 4 pixel rows is computed
# over the whole width first (contiguous, vectorized), then the column combination per tile.
@njit(cache=True, nogil=True, fastmath=True)
def winograd_tiles(xp, th, tw):
    n, C, hp, wp = xp.shape
    T = th * tw
    v = np.empty((4, 4, C, n * T), xp.dtype)
    band = np.empty((4, wp), xp.dtype)
    for c in range(C):
        for b in range(n):
            img = xp[b, c]
            for ty in range(th):
                r0, r1, r2, r3 = img[2 * ty], img[2 * ty + 1], img[2 * ty + 2], img[2 * ty + 3]
                for x in range(wp):  # B^T d: rows (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
                    band[0, x] = r0[x] - r2[x]
                    band[1, x] = r1[x] + r2[x]
                    band[2, x] = r2[x] - r1[x]
                    band[3, x] = r1[x] - r3[x]
                q = b * T + ty * tw
                for i in range(4):  # (B^T d) B: the same combination along the row
                    a = band[i]
                    v0, v1 = v[i, 0, c, q:q + tw], v[i, 1, c, q:q + tw]
                    v2, v3 = v[i, 2, c, q:q + tw], v[i, 3, c, q:q + tw]
                    for t in range(tw):
                        x = 2 * t
                        v0[t] = a[x] - a[x + 2]
                        v1[t] = a[x + 1] + a[x + 2]
                        v2[t] = a[x + 2] - a[x + 1]
                        v3[t] = a[x + 1] - a[x + 3]
    return v.reshape(16, C, n * T)


@njit(cache=True, nogil=True, fastmath=True)
def winograd_untile(m, bias, y):
    n, O, oh, ow = y.shape
    th, tw = (oh + 1) // 2, (ow + 1) // 2
    T = th * tw
    m4 = m.reshape(4, 4, O, n * T)
    cols = np.empty((4, 2, tw), m.dtype)
    for o in range(O):
        for b in range(n):
            for ty in range(th):
                q = b * T + ty * tw
                for i in range(4):  # m A: columns (m0 + m1 + m2, m1 - m2 - m3)
                    m0, m1 = m4[i, 0, o, q:q + tw], m4[i, 1, o, q:q + tw]
                    m2, m3 = m4[i, 2, o, q:q + tw], m4[i, 3, o, q:q + tw]
                    for t in range(tw):
                        cols[i, 0, t] = m0[t] + m1[t] + m2[t]
                        cols[i, 1, t] = m1[t] - m2[t] - m3[t]
                for r in range(2):  # A^T (m A): rows 0 and 1 of the block
                    yy = 2 * ty + r
                    if yy >= oh:
                        break
                    row = y[b, o, yy]
                    for k in range(2):
                        for t in range(tw):
                            x = 2 * t + k
                            if x < ow:
                                if r == 0:
                                    s = cols[0, k, t] + cols[1, k, t] + cols[2, k, t]
                                else:
                                    s = cols[1, k, t] - cols[2, k, t] - cols[3, k, t]
                                row[x] = s + bias[o]


@njit(cache=True, nogil=True, fastmath=True)
def winograd_grad_tiles(g, th, tw):
    n, O, oh, ow = g.shape
    T = th * tw
    v = np.empty((4, 4, O, n * T), g.dtype)
    band = np.zeros((4, 2 * tw), g.dtype)  # the column past an odd width stays zero
    for o in range(O):
        for b in range(n):
            for ty in range(th):
                p = g[b, o, 2 * ty]
                has_r = 2 * ty + 1 < oh
                for x in range(ow):  # A g: rows (p, p + r, p - r, -r); r = 0 past an odd height
                    r = g[b, o, 2 * ty + 1, x] if has_r else 0.0
                    band[0, x] = p[x]
                    band[1, x] = p[x] + r
                    band[2, x] = p[x] - r
                    band[3, x] = -r
                q = b * T + ty * tw
                for i in range(4):  # (A g) A^T: columns (u, u + w, u - w, -w)
                    a = band[i]
                    v0, v1 = v[i, 0, o, q:q + tw], v[i, 1, o, q:q + tw]
                    v2, v3 = v[i, 2, o, q:q + tw], v[i, 3, o, q:q + tw]
                    for t in range(tw):
                        u, w = a[2 * t], a[2 * t + 1]
                        v0[t] = u
                        v1[t] = u + w
                        v2[t] = u - w
                        v3[t] = -w
    return v.reshape(16, O, n * T)


@njit(cache=True, nogil=True, fastmath=True)
def winograd_grad_untile(z, n, th, tw):
    C = z.shape[1]
    T = th * tw
    z4 = z.reshape(4, 4, C, n * T)
    out = np.zeros((n, C, 2 * th + 2, 2 * tw + 2), z.dtype)
    band = np.empty((4, 2 * tw + 2), z.dtype)
    for c in range(C):
        for b in range(n):
            img = out[b, c]
            for ty in range(th):
                q = b * T + ty * tw
                band[:] = 0.0
                for i in range(4):  # z B^T along the row: (z0, z1 - z2 + z3, -z0 + z1 + z2, -z3)
                    a = band[i]
                    z0, z1 = z4[i, 0, c, q:q + tw], z4[i, 1, c, q:q + tw]
                    z2, z3 = z4[i, 2, c, q:q + tw], z4[i, 3, c, q:q + tw]
                    for t in range(tw):  # taps 0 and 1 of every tile: no two tiles collide
                        a[2 * t] += z0[t]
                        a[2 * t + 1] += z1[t] - z2[t] + z3[t]
                    for t in range(tw):  # taps 2 and 3 overlap the next tile's 0 and 1
                        a[2 * t + 2] += z1[t] + z2[t] - z0[t]
                        a[2 * t + 3] -= z3[t]
                r0, r1, r2, r3 = img[2 * ty], img[2 * ty + 1], img[2 * ty + 2], img[2 * ty + 3]
                for x in range(2 * tw + 2):  # B (z B^T): the same combination down the rows
                    r0[x] += band[0, x]
                    r1[x] += band[1, x] - band[2, x] + band[3, x]
                    r2[x] += band[1, x] + band[2, x] - band[0, x]
                    r3[x] -= band[3, x]
    return out


@njit(cache=True, nogil=True)  # no fastmath: the NaN test below must stay exact
def relu_grad(g, y, out):
    for i in range(g.shape[0]):
        out[i] = 0 if y[i] <= 0 else g[i]


# Batch norm's per-channel passes over x viewed as (N, C, L). Sums accumulate in float64 and
# may be reassociated (so they vectorize), but NaN and inf still propagate (no 'nnan'/'ninf').
_SUMS = {"reassoc", "contract", "nsz"}


@njit(cache=True, nogil=True, fastmath=_SUMS)
def channel_moments(x):
    N, C, L = x.shape
    mean = np.empty(C)
    var = np.empty(C)
    for c in range(C):
        s = 0.0
        for n in range(N):
            row = x[n, c]
            for i in range(L):
                s += row[i]
        m = s / (N * L)
        q = 0.0
        for n in range(N):
            row = x[n, c]
            for i in range(L):
                d = row[i] - m
                q += d * d
        mean[c] = m
        var[c] = q / (N * L)
    return mean, var


@njit(cache=True, nogil=True, fastmath=_SUMS)
def channel_grad_sums(g, x, mean):
    N, C, L = x.shape
    sum_g = np.empty(C)
    sum_gx = np.empty(C)
    for c in range(C):
        s = 0.0
        q = 0.0
        m = mean[c]
        for n in range(N):
            grow, xrow = g[n, c], x[n, c]
            for i in range(L):
                s += grow[i]
                q += grow[i] * (xrow[i] - m)
        sum_g[c] = s
        sum_gx[c] = q
    return sum_g, sum_gx


@njit(cache=True, nogil=True)
def channel_affine(x, mean, scale, shift, out):
    N, C, L = x.shape
    for n in range(N):
        for c in range(C):
            xrow, orow = x[n, c], out[n, c]
            m, a, b = mean[c], scale[c], shift[c]
            for i in range(L):
                orow[i] = (xrow[i] - m) * a + b


@njit(cache=True, nogil=True)
def channel_affine_grad(g, x, mean, k, slope, shift, out):
    N, C, L = x.shape
    for n in range(N):
        for c in range(C):
            grow, xrow, orow = g[n, c], x[n, c], out[n, c]
            m, a, d, b = mean[c], k[c], slope[c], shift[c]
            for i in range(L):
                orow[i] = a * grow[i] + d * (xrow[i] - m) + b



# The normalizing pass with the ReLU after batch norm fused in (`ops.fusion`): it clamps as it
# writes. (The backward masks g once and runs the plain passes: a mask read inside them measured
# 1.5-2x slower per pass than the pass alone plus relu_grad.)
@njit(cache=True, nogil=True)
def channel_affine_relu(x, mean, scale, shift, out):
    N, C, L = x.shape
    for n in range(N):
        for c in range(C):
            xrow, orow = x[n, c], out[n, c]
            m, a, b = mean[c], scale[c], shift[c]
            for i in range(L):
                v = (xrow[i] - m) * a + b
                orow[i] = 0 if v < 0 else v  # NaN stays NaN, as np.maximum(v, 0)


# Winograd F(2x2, 5x5): the same four transforms with 6 x 6 tiles, each 1-D step written out
# from the matrices in `reference.py` (B^T d, A^T m, A g and B z) and inlined.
# Small multiples as sums (x + x is exact, like 2 * x) so float32 stays float32: an int times a
# float32 would type as float64.
@njit(inline="always")
def _bt6(d0, d1, d2, d3, d4, d5):
    d1x2, d2x2, d3x2 = d1 + d1, d2 + d2, d3 + d3
    d1x4, d2x4 = d1x2 + d1x2, d2x2 + d2x2
    return (d0 + d0 + d0 + d0 - d2x4 - d2 + d4, d1x4 + d2x4 - d3 - d4, d2x4 - d1x4 + d3 - d4,
            d3x2 - d1x2 - d2 + d4, d1x2 - d2 - d3x2 + d4, d1x4 - d3x2 - d3x2 - d3 + d5)


@njit(inline="always")
def _b6(z0, z1, z2, z3, z4, z5):
    z0x2, z1x2, z2x2, z5x2 = z0 + z0, z1 + z1, z2 + z2, z5 + z5
    z34x2 = (z3 - z4) + (z3 - z4)
    return (z0x2 + z0x2, z1x2 + z1x2 - z2x2 - z2x2 - z34x2 + z5x2 + z5x2,
            z1x2 + z1x2 + z2x2 + z2x2 - z0x2 - z0x2 - z0 - z3 - z4,
            z2 - z1 + z34x2 - z5x2 - z5x2 - z5, z0 - z1 - z2 + z3 + z4, z5)


@njit(inline="always")
def _at6(m0, m1, m2, m3, m4, m5):
    return m0 + m1 + m2 + m3 + m4, m1 - m2 + (m3 - m4) + (m3 - m4) + m5


@njit(inline="always")
def _a6(p, r):
    r2 = r + r
    return p, p + r, p - r, p + r2, p - r2, r


@njit(cache=True, nogil=True, fastmath=True)
def winograd5_tiles(xp, th, tw):
    n, C, hp, wp = xp.shape
    T = th * tw
    v = np.empty((6, 6, C, n * T), xp.dtype)
    band = np.empty((6, wp), xp.dtype)
    for c in range(C):
        for b in range(n):
            img = xp[b, c]
            for ty in range(th):
                y = 2 * ty
                for x in range(wp):  # B^T d over the band's six pixel rows
                    e = _bt6(img[y, x], img[y + 1, x], img[y + 2, x], img[y + 3, x], img[y + 4, x],
                             img[y + 5, x])
                    for i in range(6):
                        band[i, x] = e[i]
                q = b * T + ty * tw
                for i in range(6):  # (B^T d) B along the row, per tile
                    a = band[i]
                    for s in range(tw):
                        x = 2 * s
                        e = _bt6(a[x], a[x + 1], a[x + 2], a[x + 3], a[x + 4], a[x + 5])
                        for k in range(6):
                            v[i, k, c, q + s] = e[k]
    return v.reshape(36, C, n * T)


@njit(cache=True, nogil=True, fastmath=True)
def winograd5_untile(m, bias, y):
    n, O, oh, ow = y.shape
    th, tw = (oh + 1) // 2, (ow + 1) // 2
    T = th * tw
    m6 = m.reshape(6, 6, O, n * T)
    cols = np.empty((2, 6, tw), m.dtype)
    for o in range(O):
        for b in range(n):
            for ty in range(th):
                q = b * T + ty * tw
                for i in range(6):  # m A: the two output columns of every tile
                    mi = m6[i]
                    for s in range(tw):
                        e = _at6(mi[0, o, q + s], mi[1, o, q + s], mi[2, o, q + s], mi[3, o, q + s],
                                 mi[4, o, q + s], mi[5, o, q + s])
                        cols[0, i, s] = e[0]
                        cols[1, i, s] = e[1]
                for k in range(2):  # A^T (m A): the block's two rows
                    for s in range(tw):
                        e = _at6(cols[k, 0, s], cols[k, 1, s], cols[k, 2, s], cols[k, 3, s], cols[k, 4, s],
                                 cols[k, 5, s])
                        x = 2 * s + k
                        if x < ow:
                            y[b, o, 2 * ty, x] = e[0] + bias[o]
                            if 2 * ty + 1 < oh:
                                y[b, o, 2 * ty + 1, x] = e[1] + bias[o]


@njit(cache=True, nogil=True, fastmath=True)
def winograd5_grad_tiles(g, th, tw):
    n, O, oh, ow = g.shape
    T = th * tw
    v = np.empty((6, 6, O, n * T), g.dtype)
    band = np.zeros((6, 2 * tw), g.dtype)  # the column past an odd width stays zero
    zeros = np.zeros(ow, g.dtype)
    for o in range(O):
        for b in range(n):
            for ty in range(th):
                p = g[b, o, 2 * ty]
                r = g[b, o, 2 * ty + 1] if 2 * ty + 1 < oh else zeros  # zero past an odd height
                for x in range(ow):  # A g over the block's two rows
                    e = _a6(p[x], r[x])
                    for i in range(6):
                        band[i, x] = e[i]
                q = b * T + ty * tw
                for i in range(6):  # (A g) A^T along the row, per block
                    a = band[i]
                    for s in range(tw):
                        e = _a6(a[2 * s], a[2 * s + 1])
                        for k in range(6):
                            v[i, k, o, q + s] = e[k]
    return v.reshape(36, O, n * T)


@njit(cache=True, nogil=True, fastmath=True)
def winograd5_grad_untile(z, n, th, tw):
    C = z.shape[1]
    T = th * tw
    z6 = z.reshape(6, 6, C, n * T)
    width = 2 * tw + 4
    out = np.zeros((n, C, 2 * th + 4, width), z.dtype)
    band = np.empty((6, width), z.dtype)
    for c in range(C):
        for b in range(n):
            img = out[b, c]
            for ty in range(th):
                q = b * T + ty * tw
                band[:] = 0.0
                for i in range(6):  # B z along the row: tap r of tile s lands on pixel 2s + r
                    a, zi = band[i], z6[i]
                    for s in range(tw):  # taps 0 and 1: no two tiles collide; 2-5 overlap later tiles
                        e = _b6(zi[0, c, q + s], zi[1, c, q + s], zi[2, c, q + s], zi[3, c, q + s],
                                zi[4, c, q + s], zi[5, c, q + s])
                        for r in range(6):
                            a[2 * s + r] += e[r]
                y = 2 * ty
                for x in range(width):  # B (z B^T) down the rows
                    e = _b6(band[0, x], band[1, x], band[2, x], band[3, x], band[4, x], band[5, x])
                    for r in range(6):
                        img[y + r, x] += e[r]
    return out
