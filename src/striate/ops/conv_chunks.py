"""The convolution's batch plumbing: padding, per-chunk im2col columns and products, threads.

A batch is cut into cache-sized chunks, one run of chunks per striate thread
(`striate.kernels.parallel`); each chunk's columns are built, multiplied and dropped before the
next, so they stay in cache. Used by the im2col path (`conv_im2col`), the Winograd path
(`conv_winograd`) and the transposed convolution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from striate import kernels, tuning
from striate.kernels import parallel


class ConvGeometry(NamedTuple):
    """A 2-D convolution's kernel size, stride, dilation and output size, by name."""

    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    oh: int
    ow: int


def batch_last(a: np.ndarray) -> np.ndarray:
    """(C, N, H, W) channel-major result back to PyTorch's (N, C, H, W), contiguous."""
    return np.ascontiguousarray(a.transpose(1, 0, 2, 3))


def padded(x: np.ndarray, pads: tuple[int, int, int, int]) -> np.ndarray:
    """x (N, C, H, W) with zeros around it: (N, C, H + top + bottom, W + left + right)."""
    if not any(pads):
        return x
    top, bottom, left, right = pads
    N, C, H, W = x.shape
    xp = np.empty((N, C, H + top + bottom, W + left + right), x.dtype)
    pad_into(xp, x, pads)
    return xp


def pad_into(xp: np.ndarray, x: np.ndarray, pads: tuple[int, int, int, int]) -> None:
    """Write x into the middle of xp and zeros into its border (the chunk workers' padding)."""
    top, bottom, left, right = pads
    H, W = x.shape[2:]
    xp[:, :, :top] = 0
    xp[:, :, top + H:] = 0
    xp[:, :, top:top + H, :left] = 0
    xp[:, :, top:top + H, left + W:] = 0
    xp[:, :, top:top + H, left:left + W] = x


def columns(xp: np.ndarray, geometry: ConvGeometry, stacked: bool) -> np.ndarray:
    """im2col of a chunk of n images: col[n, c, i, j, y, x] = xp[n, c, y*sh + i*dh, x*sw + j*dw].

    Per image (n, C*kh*kw, OH*OW): column q of image n is the receptive field of its output
    pixel q, so W_mat (O, C*kh*kw) @ col[n] is that image's output already in NCHW order; a 1x1
    kernel with unit stride needs no copy. Stacked (C*kh*kw, n*OH*OW): all images side by side,
    one wide product. Either way one strided copy (`kernels.im2col`).
    """
    g = geometry
    n, C = xp.shape[:2]
    if not stacked and g.kh == g.kw == 1 and g.sh == g.sw == 1 and (g.oh, g.ow) == xp.shape[2:]:
        return xp.reshape(n, C, g.oh * g.ow)
    col = kernels.im2col(xp.transpose(1, 0, 2, 3), *g, batch_first=not stacked)
    return col.reshape(C * g.kh * g.kw, n * g.oh * g.ow) if stacked else col.reshape(n, -1, g.oh * g.ow)


def in_threads(work: Callable[[int, int], object], n: int, item_bytes: int, min_items: int = 1) -> list:
    """work(start, stop) over chunks of a batch of n, one run of chunks per striate thread."""
    with parallel.serial_blas() as threads:
        return parallel.run_split(work, parallel.batch_parts(n, item_bytes, threads, min_items))


def conv_chunk(xp: np.ndarray, wm: np.ndarray, geometry: ConvGeometry, out: np.ndarray) -> None:
    """out (n, G, O/G, OH*OW) = convolution of the padded chunk xp (n, C, Hp, Wp) with W_mat.

    Per image the product W_mat @ col_n lands in NCHW order as it is; small output planes
    (< tuning.STACK_BELOW pixels) stack the chunk's images into one wider product and transpose.
    """
    n, (G, Og, _), L = xp.shape[0], wm.shape, out.shape[-1]
    stacked = L < tuning.STACK_BELOW
    col = columns(xp, geometry, stacked)
    if stacked:
        out[...] = parallel.matmul(wm, col.reshape(G, -1, n * L)).reshape(G, Og, n, L).transpose(2, 0, 1, 3)
    else:
        parallel.matmul(wm, col.reshape(n, G, -1, L), out=out)


def sum_pairs(partials: list, zeros: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The chunks' (weight, bias) gradient parts summed in place into zeros (0 marks a part not needed)."""
    for total, parts in zip(zeros, zip(*partials)):
        for part in parts:
            total += part
    return zeros


def input_shaped(needs: tuple[bool, ...], x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                 gx: np.ndarray | None, gw: np.ndarray | None, gb: np.ndarray | None) -> tuple:
    """(dX, dW[, db]) in the shapes of the inputs, None where no gradient is needed."""
    gx = gx.reshape(x_shape) if needs[0] else None
    gw = gw.reshape(w_shape) if needs[1] else None
    if len(needs) == 2:
        return gx, gw
    return gx, gw, (gb.reshape(-1) if needs[2] else None)
