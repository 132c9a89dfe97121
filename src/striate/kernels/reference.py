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
           oh: int, ow: int, batch_first: bool = False) -> np.ndarray:
    """col[c, i, j, n, y, x] = xp[c, n, y*sh + i*dh, x*sw + j*dw]  (xp: (C, N, Hp, Wp), any strides).

    striate's one im2col (every convolution path that needs columns uses it): a strided view
    whose element (c, i, j, n, y, x) *is* that pixel, copied once into a contiguous array.
    `batch_first=True` orders the result col[n, c, i, j, y, x] (per-image columns).
    """
    s_c, s_n, s_h, s_w = xp.strides
    C, N = xp.shape[:2]
    if batch_first:
        shape, strides = (N, C, kh, kw, oh, ow), (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw)
    else:
        shape, strides = (C, kh, kw, N, oh, ow), (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw)
    return np.ascontiguousarray(np.lib.stride_tricks.as_strided(xp, shape, strides, writeable=False))


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


# Winograd F(2x2, r x r) (Lavin & Gray 2015): a 2x2 block of an r x r cross-correlation from a
# t x t input tile (t = r + 1) with t*t multiplications instead of 4*r*r. Per tile:
#     Y = A^T [(G g G^T) * (B^T d B)] A
# F(2x2, 3x3) uses the points 0, 1, -1 (16 products for 36); F(2x2, 5x5) 0, 1, -1, 2, -2 (36 for
# 100). Their float32 error measured 1.3x and 3-5x that of a direct float32 sum (2.5e-7 and
# 6-7e-7 of the largest output over 32 channels), far inside the 1e-5 parity.
WINOGRAD_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float64)
WINOGRAD_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float64)
WINOGRAD_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], np.float64)
WINOGRAD5_BT = np.array([[4, 0, -5, 0, 1, 0], [0, 4, 4, -1, -1, 0], [0, -4, 4, 1, -1, 0],
                         [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], np.float64)
WINOGRAD5_AT = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 1]], np.float64)
WINOGRAD5_G = np.array([[1 / 4, 0, 0, 0, 0], [1 / 6] * 5, [1 / 6, -1 / 6, 1 / 6, -1 / 6, 1 / 6],
                        [1 / 24, 1 / 12, 1 / 6, 1 / 3, 2 / 3], [1 / 24, -1 / 12, 1 / 6, -1 / 3, 2 / 3],
                        [0, 0, 0, 0, 1]], np.float64)
WINOGRAD = {3: (WINOGRAD_BT, WINOGRAD_AT, WINOGRAD_G), 5: (WINOGRAD5_BT, WINOGRAD5_AT, WINOGRAD5_G)}


def _tile_view(a: np.ndarray, th: int, tw: int, size: int) -> np.ndarray:
    """(n, C, th, tw, size, size) view of a (n, C, H, W): tile (ty, tx) starts at (2ty, 2tx)."""
    s0, s1, s2, s3 = a.strides
    return np.lib.stride_tricks.as_strided(a, (*a.shape[:2], th, tw, size, size),
                                           (s0, s1, 2 * s2, 2 * s3, s2, s3), writeable=False)


def winograd_tiles(xp: np.ndarray, th: int, tw: int, r: int = 3) -> np.ndarray:
    """V[a, b, c, n*T + t] = (B^T d B)[a, b] for every t x t tile d of xp (n, C, 2th+r-1, 2tw+r-1).

    Tile t = ty*tw + tx starts at pixel (2ty, 2tx); tiles overlap by r - 1 pixels. Returned as
    (t*t, C, n*th*tw), the right operand of one matrix product per (a, b).
    """
    bt = WINOGRAD[r][0].astype(xp.dtype)
    n, C, size = *xp.shape[:2], r + 1
    v = np.einsum("ai,ncyxij,bj->abcnyx", bt, _tile_view(xp, th, tw, size), bt, optimize=True)
    return np.ascontiguousarray(v).reshape(size * size, C, n * th * tw)


def winograd_untile(m: np.ndarray, bias: np.ndarray, out: np.ndarray, r: int = 3) -> None:
    """out (n, O, oh, ow) = each tile's 2x2 output block A^T m A, plus bias[o].

    m (t*t, O, n*th*tw) is in winograd_tiles' layout; blocks past an odd edge are dropped.
    """
    n, O, oh, ow = out.shape
    th, tw, size = -(-oh // 2), -(-ow // 2), r + 1
    at = WINOGRAD[r][1].astype(m.dtype)
    blocks = np.einsum("ia,abonyx,jb->noyixj", at, m.reshape(size, size, O, n, th, tw), at, optimize=True)
    np.add(blocks.reshape(n, O, 2 * th, 2 * tw)[:, :, :oh, :ow], bias.reshape(1, O, 1, 1), out=out)


def winograd_grad_tiles(g: np.ndarray, th: int, tw: int, r: int = 3) -> np.ndarray:
    """winograd_untile's adjoint without bias: (A g_t A^T) of every 2x2 block g_t of g (n, O, OH, OW).

    Blocks past the edge of an odd-sized g read zeros. Returns (t*t, O, n*th*tw).
    """
    n, O, oh, ow = g.shape
    gp = np.zeros((n, O, 2 * th, 2 * tw), g.dtype)
    gp[:, :, :oh, :ow] = g
    at = WINOGRAD[r][1].astype(g.dtype)
    blocks = gp.reshape(n, O, th, 2, tw, 2)
    v = np.einsum("ia,noyixj,jb->abonyx", at, blocks, at, optimize=True)
    return np.ascontiguousarray(v).reshape((r + 1) ** 2, O, n * th * tw)


def winograd_grad_untile(z: np.ndarray, n: int, th: int, tw: int, r: int = 3) -> np.ndarray:
    """winograd_tiles' adjoint: every tile's B z_t B^T added back over its t x t pixels.

    z (t*t, C, n*th*tw) -> (n, C, 2th+r-1, 2tw+r-1); overlapping tiles sum.
    """
    C, size = z.shape[1], r + 1
    bt = WINOGRAD[r][0].astype(z.dtype)
    tiles = np.einsum("ai,abcnyx,bj->ncyxij", bt, z.reshape(size, size, C, n, th, tw), bt, optimize=True)
    out = np.zeros((n, C, 2 * th + r - 1, 2 * tw + r - 1), z.dtype)
    for i in range(size):
        for j in range(size):  # one tap of every tile at once: within a tap no two tiles collide
            out[:, :, i:i + 2 * th:2, j:j + 2 * tw:2] += tiles[..., i, j]
    return out


def relu_grad(g: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
    """out = 0 where relu's output y <= 0 (even where g is NaN or inf), else g: PyTorch's rule, so
    a NaN output passes its gradient on."""
    np.copyto(out, g)
    np.putmask(out, y <= 0, 0)


# Batch norm's per-channel passes over x viewed as (N, C, L) (`ops.norm`).
def channel_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and biased variance of each channel of x (N, C, L), in float64."""
    mean = x.mean(axis=(0, 2), dtype=np.float64)
    var = np.square(x - mean[:, None]).mean(axis=(0, 2))
    return mean, var


def channel_grad_sums(g: np.ndarray, x: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel: sum of g, and sum of g * (x - mean), in float64 (mean is float64)."""
    return g.sum(axis=(0, 2), dtype=np.float64), (g * (x - mean[:, None])).sum(axis=(0, 2))


def channel_affine(x: np.ndarray, mean: np.ndarray, scale: np.ndarray, shift: np.ndarray,
                   out: np.ndarray) -> None:
    """out = (x - mean[c]) * scale[c] + shift[c] (all of x's dtype)."""
    np.subtract(x, mean[:, None], out=out)
    out *= scale[:, None]
    out += shift[:, None]


def channel_affine_grad(g: np.ndarray, x: np.ndarray, mean: np.ndarray, k: np.ndarray, slope: np.ndarray,
                        shift: np.ndarray, out: np.ndarray) -> None:
    """out = k[c] * g + slope[c] * (x - mean[c]) + shift[c] (all of x's dtype)."""
    np.subtract(x, mean[:, None], out=out)
    out *= slope[:, None]
    out += k[:, None] * g
    out += shift[:, None]



# The normalizing pass with the ReLU after batch norm fused in (`ops.fusion`).
def channel_affine_relu(x: np.ndarray, mean: np.ndarray, scale: np.ndarray, shift: np.ndarray,
                        out: np.ndarray) -> None:
    """out = max(0, (x - mean[c]) * scale[c] + shift[c])."""
    channel_affine(x, mean, scale, shift, out)
    np.maximum(out, out.dtype.type(0), out=out)


# --- depthwise convolution (`ops.conv_depthwise`): every input channel has its own m filters ---
def depthwise_forward(xp: np.ndarray, w: np.ndarray, bias: np.ndarray, sh: int, sw: int, dh: int, dw: int,
                      out: np.ndarray) -> None:
    """out[n, c*m + q, y, x] = bias[c*m + q] + sum_ij w[c, q, i, j] * xp[n, c, y*sh + i*dh, x*sw + j*dw].

    xp (N, C, Hp, Wp) padded, w (C, m, kh, kw), out (N, C*m, OH, OW). One strided slice of xp
    per tap, multiplied by that tap's weight for every channel at once (taps in (i, j) order).
    """
    N, C, m, kh, kw = xp.shape[0], *w.shape
    oh, ow = out.shape[2:]
    y = out.reshape(N, C, m, oh, ow)
    y[...] = bias.reshape(1, C, m, 1, 1)
    for i in range(kh):
        for j in range(kw):
            tap = xp[:, :, _span(i * dh, oh, sh), _span(j * dw, ow, sw)]
            y += w[:, :, i, j].reshape(1, C, m, 1, 1) * tap[:, :, None]


def depthwise_backward(g: np.ndarray, xp: np.ndarray, w: np.ndarray, sh: int, sw: int, dh: int, dw: int,
                       gxp: np.ndarray | None) -> np.ndarray:
    """The depthwise layer's adjoints: returns dW (C, m, kh, kw) as float64, and when gxp is given
    (zeros, xp's shape) adds dXp[n, c, y*sh + i*dh, x*sw + j*dw] += w[c, q, i, j] * g[n, c*m + q, y, x].

        dW[c, q, i, j] = sum_{n, y, x} g[n, c*m + q, y, x] * xp[n, c, y*sh + i*dh, x*sw + j*dw]
    """
    N, C, m, kh, kw = xp.shape[0], *w.shape
    oh, ow = g.shape[2:]
    g5 = g.reshape(N, C, m, oh, ow)
    gw = np.empty(w.shape, np.float64)
    for i in range(kh):
        for j in range(kw):
            rows, cols = _span(i * dh, oh, sh), _span(j * dw, ow, sw)
            gw[:, :, i, j] = np.einsum("ncqyx,ncyx->cq", g5, xp[:, :, rows, cols], dtype=np.float64)
            if gxp is not None:
                gxp[:, :, rows, cols] += (w[:, :, i, j].reshape(1, C, m, 1, 1) * g5).sum(axis=2)
    return gw


def scatter_rows(index: np.ndarray, weight: np.ndarray, g_rows: np.ndarray, n_rows: int) -> np.ndarray:
    """out[index[k, r]] += weight[k, r] * g_rows[r] for every neighbour k and row r, into zeros
    (n_rows, C): one float64 `bincount` over (row, channel) keys, cast back."""
    channels = g_rows.shape[1]
    keys = (index[:, :, None] * channels + np.arange(channels)).ravel()
    amounts = (weight[:, :, None] * g_rows[None]).ravel()
    total = np.bincount(keys, amounts, minlength=n_rows * channels)
    return total.reshape(n_rows, channels).astype(g_rows.dtype)
