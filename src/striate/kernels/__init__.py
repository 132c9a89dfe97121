"""Hot loops behind one dispatcher: a NumPy reference twin and a Numba-compiled fast path.

`striate.config.get_kernels()` picks the twin on every call ("numba" by default, "numpy" via
STRIATE_KERNELS=numpy or `st.config.set_kernels`). Both twins are tested against each other
and against PyTorch on the same sweep, so either gives the same answer. im2col is plain NumPy
under both settings: NumPy vectorizes it (strided-slice copies), and that beat a Numba loop.

    im2col(xp, kh, kw, sh, sw, dh, dw, oh, ow)   (C, N, Hp, Wp) -> (C, kh, kw, N, OH, OW)
                                                  (one strided copy; every conv path uses it)
    col2im(col, hp, wp, sh, sw, dh, dw)           its adjoint (sums overlapping patches)
    window_max(x, hstart, hend, wstart, wend, kh, kw, dh, dw) -> (max, flat argmax)
    window_max_backward(g, argmax, h, w)          routes each gradient to its argmax
    winograd_tiles(xp, th, tw, r)                  Winograd F(2x2, r x r) input transform (r = 3
    winograd_untile(m, bias, out, r)               or 5), the output transform (`ops.winograd`)
    winograd_grad_tiles(g, th, tw, r)              and their adjoints, for the backward
    winograd_grad_untile(z, n, th, tw, r)
    relu_grad(g, y, out)                           0 where y <= 0 else g, on flat arrays
    channel_moments(x) -> (mean, var)              batch norm's passes over x (N, C, L), each
    channel_grad_sums(g, x, mean)                  split over channels between striate's threads
    channel_affine(x, mean, scale, shift, out)
    channel_affine_grad(g, x, mean, k, slope, shift, out)
    channel_affine_relu(x, mean, scale, shift, out)   the same with a ReLU after it, one pass
    depthwise_forward(xp, w, bias, sh, sw, dh, dw, out)   a layer with groups = in_channels, direct
    depthwise_backward(g, xp, w, sh, sw, dh, dw, gxp)      (no im2col): out, and dW (+ dXp)
    scatter_rows(index, weight, g_rows, n_rows)    out[index[k, r]] += weight[k, r] * g_rows[r]
                                                  (grid_sample's input gradient)
"""

from __future__ import annotations

import functools
from types import ModuleType

import numpy as np

from striate import config, tuning
from striate.kernels import parallel, reference

_compiled: list[ModuleType] = []


def _fast() -> ModuleType:
    """The Numba module, imported (and its cached machine code loaded) on first use."""
    if not _compiled:
        try:
            from striate.kernels import compiled
        except ImportError as exc:  # pragma: no cover - numba is a run-time dependency
            raise ImportError(
                f"the Numba kernels could not be loaded ({exc}); install numba, or run on the "
                "NumPy kernels with STRIATE_KERNELS=numpy / st.config.set_kernels('numpy')"
            ) from exc
        _compiled.append(compiled)
    return _compiled[0]


def _impl() -> ModuleType:
    state = config._state
    return reference if state["kernels"] == "numpy" or state["reference"] else _fast()


def im2col(xp: np.ndarray, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int,
           oh: int, ow: int, batch_first: bool = False) -> np.ndarray:
    """col[c, i, j, n, y, x] = xp[c, n, y*sh + i*dh, x*sw + j*dw] (`reference.im2col`).

    One strided NumPy copy is the fast path here under both settings (see compiled.py).
    """
    return reference.im2col(xp, kh, kw, sh, sw, dh, dw, oh, ow, batch_first)


def col2im(col: np.ndarray, hp: int, wp: int, sh: int, sw: int, dh: int, dw: int) -> np.ndarray:
    """xp[c, n, y*sh + i*dh, x*sw + j*dw] += col[c, i, j, n, y, x], into zeros (C, N, hp, wp)."""
    return _impl().col2im(np.ascontiguousarray(col), hp, wp, sh, sw, dh, dw)


def _plane_parts(planes: int, pixels: int) -> list[list[tuple[int, int]]]:
    """One [start, stop) run of planes per striate thread (a single run for small inputs)."""
    threads = parallel.num_threads() if pixels >= tuning.MIN_SPLIT_PIXELS else 1
    return [[(s, e)] for s, e in parallel.even_bounds(planes, threads)]


def window_max(x: np.ndarray, hstart: np.ndarray, hend: np.ndarray, wstart: np.ndarray,
               wend: np.ndarray, kh: int, kw: int, dh: int, dw: int) -> tuple[np.ndarray, np.ndarray]:
    """Max of each window of the planes x (B, H, W) and its flat index y*W + x in the plane.

    The planes are independent, so striate's threads each take a run of them (both twins
    release the GIL: Numba's `nogil`, NumPy's ufuncs).
    """
    impl = _impl()
    parts = _plane_parts(x.shape[0], x.size)
    if len(parts) <= 1:
        return impl.window_max(x, hstart, hend, wstart, wend, kh, kw, dh, dw)
    best = np.empty((x.shape[0], hstart.shape[0], wstart.shape[0]), x.dtype)
    where = np.empty(best.shape, np.int64)

    def work(start: int, stop: int) -> None:
        best[start:stop], where[start:stop] = impl.window_max(x[start:stop], hstart, hend, wstart, wend,
                                                              kh, kw, dh, dw)

    parallel.run_split(work, parts)
    return best, where


def window_max_backward(g: np.ndarray, where: np.ndarray, h: int, w: int) -> np.ndarray:
    """Gradient of window_max: g[b, oy, ox] is added at plane b, flat index where[b, oy, ox]."""
    impl = _impl()
    g, where = np.ascontiguousarray(g), np.ascontiguousarray(where)
    parts = _plane_parts(g.shape[0], g.shape[0] * h * w)
    if len(parts) <= 1:
        return impl.window_max_backward(g, where, h, w)
    gx = np.empty((g.shape[0], h, w), g.dtype)

    def work(start: int, stop: int) -> None:
        gx[start:stop] = impl.window_max_backward(g[start:stop], where[start:stop], h, w)

    parallel.run_split(work, parts)
    return gx


def _winograd(name: str, r: int):
    """The kernel `name` for F(2x2, r x r): the reference takes r, the compiled set has one per r."""
    if _impl() is reference:
        return functools.partial(getattr(reference, name), r=r)
    return getattr(_fast(), name if r == 3 else name.replace("winograd", f"winograd{r}"))


def winograd_tiles(xp: np.ndarray, th: int, tw: int, r: int = 3) -> np.ndarray:
    """(B^T d B) of every t x t tile (t = r + 1) of xp (n, C, 2th+r-1, 2tw+r-1), as (t*t, C, n*th*tw)."""
    return _winograd("winograd_tiles", r)(xp, th, tw)


def winograd_untile(m: np.ndarray, bias: np.ndarray, out: np.ndarray, r: int = 3) -> None:
    """out (n, O, oh, ow) = the 2x2 blocks A^T m A of m (t*t, O, n*th*tw), plus bias (O,)."""
    _winograd("winograd_untile", r)(m, bias, out)


def winograd_grad_tiles(g: np.ndarray, th: int, tw: int, r: int = 3) -> np.ndarray:
    """winograd_untile's adjoint (no bias): (A g_t A^T) of every 2x2 block of g, (t*t, O, n*th*tw)."""
    return _winograd("winograd_grad_tiles", r)(np.ascontiguousarray(g), th, tw)


def winograd_grad_untile(z: np.ndarray, n: int, th: int, tw: int, r: int = 3) -> np.ndarray:
    """winograd_tiles' adjoint: tiles B z_t B^T summed back into (n, C, 2th+r-1, 2tw+r-1)."""
    return _winograd("winograd_grad_untile", r)(z, n, th, tw)


def relu_grad(g: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
    """out = 0 where y <= 0 else g, for flat contiguous arrays of one shape (one pass, no mask array)."""
    _impl().relu_grad(g, y, out)


def _by_channels(work, x: np.ndarray) -> list:
    """work(c0, c1) for runs of x's channels (axis 1), one run per thread for large inputs."""
    threads = parallel.num_threads() if x.size >= tuning.MIN_SPLIT_PIXELS else 1
    return parallel.run_split(work, [[b] for b in parallel.even_bounds(x.shape[1], threads)])


def _gathered(pairs: list, C: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-run (a, b) vector pairs joined into two (C,) vectors."""
    if not pairs:
        return np.zeros(C), np.zeros(C)
    return np.concatenate([a for a, _ in pairs]), np.concatenate([b for _, b in pairs])


def channel_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and biased variance (float64) of every channel of x (N, C, L)."""
    impl = _impl()
    return _gathered(_by_channels(lambda c0, c1: impl.channel_moments(x[:, c0:c1]), x), x.shape[1])


def channel_grad_sums(g: np.ndarray, x: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel sum(g) and sum(g * (x - mean)) (float64; mean float64) of (N, C, L) arrays."""
    impl = _impl()

    def work(c0: int, c1: int) -> tuple[np.ndarray, np.ndarray]:
        return impl.channel_grad_sums(g[:, c0:c1], x[:, c0:c1], mean[c0:c1])

    return _gathered(_by_channels(work, x), x.shape[1])


def channel_affine(x: np.ndarray, mean: np.ndarray, scale: np.ndarray, shift: np.ndarray,
                   relu: bool = False) -> np.ndarray:
    """(x - mean[c]) * scale[c] + shift[c] for x (N, C, L), per-channel vectors of x's dtype;
    `relu`: max(0, .) of it in the same pass."""
    impl, out = _impl(), np.empty(x.shape, x.dtype)
    kernel = impl.channel_affine_relu if relu else impl.channel_affine
    _by_channels(lambda c0, c1: kernel(x[:, c0:c1], mean[c0:c1], scale[c0:c1], shift[c0:c1],
                                       out[:, c0:c1]), x)
    return out


def channel_affine_grad(g: np.ndarray, x: np.ndarray, mean: np.ndarray, k: np.ndarray, slope: np.ndarray,
                        shift: np.ndarray) -> np.ndarray:
    """k[c] * g + slope[c] * (x - mean[c]) + shift[c] for (N, C, L) arrays (batch norm's dL/dx)."""
    impl, out = _impl(), np.empty(x.shape, x.dtype)

    def work(c0: int, c1: int) -> None:
        impl.channel_affine_grad(g[:, c0:c1], x[:, c0:c1], mean[c0:c1], k[c0:c1], slope[c0:c1],
                                 shift[c0:c1], out[:, c0:c1])

    _by_channels(work, x)
    return out


def _depthwise_impl() -> ModuleType:
    """The depthwise twins: `reference`, or their Numba set (its own module, loaded on first use)."""
    if _impl() is reference:
        return reference
    from striate.kernels import depthwise_compiled
    return depthwise_compiled


def depthwise_forward(xp: np.ndarray, w: np.ndarray, bias: np.ndarray, sh: int, sw: int, dh: int, dw: int,
                      out: np.ndarray) -> None:
    """out (N, C*m, OH, OW) = bias + the depthwise convolution of xp (N, C, Hp, Wp) with w (C, m, kh, kw)."""
    _depthwise_impl().depthwise_forward(xp, w, bias, sh, sw, dh, dw, out)


def depthwise_backward(g: np.ndarray, xp: np.ndarray, w: np.ndarray, sh: int, sw: int, dh: int, dw: int,
                       gxp: np.ndarray | None) -> np.ndarray:
    """dW (C, m, kh, kw, float64) of the depthwise layer; adds dXp into gxp (zeros) when given."""
    return _depthwise_impl().depthwise_backward(np.ascontiguousarray(g), xp, w, sh, sw, dh, dw, gxp)


def scatter_rows(index: np.ndarray, weight: np.ndarray, g_rows: np.ndarray, n_rows: int) -> np.ndarray:
    """out (n_rows, C) = zeros, then out[index[k, r]] += weight[k, r] * g_rows[r] (grid_sample's dL/dx)."""
    if _impl() is reference:
        return reference.scatter_rows(index, weight, g_rows, n_rows)
    from striate.kernels import grid_compiled
    return grid_compiled.scatter_rows(np.ascontiguousarray(index), np.ascontiguousarray(weight),
                                      np.ascontiguousarray(g_rows), n_rows)


__all__ = ["channel_affine", "channel_affine_grad", "channel_grad_sums", "channel_moments", "col2im",
           "depthwise_backward", "depthwise_forward", "im2col", "relu_grad", "scatter_rows", "window_max",
           "window_max_backward", "winograd_grad_tiles", "winograd_grad_untile", "winograd_tiles",
           "winograd_untile"]
