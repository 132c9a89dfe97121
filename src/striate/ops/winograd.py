"""Winograd convolution F(2x2, r x r) for stride-1 3x3 and 5x5 layers (Lavin & Gray, 2015).

Seed 001's cross-correlation computes each output pixel with r*r multiply-adds per input
channel. Winograd's minimal filtering computes a 2x2 block of outputs from the t x t input tile
d under it (t = r + 1) with t*t multiplications instead of 4*r*r: 16 for 36 with 3x3 filters
(2.25x fewer), 36 for 100 with 5x5 (2.8x):

    Y = A^T [ (G g G^T) * (B^T d B) ] A          (* elementwise; B, G, A small constant matrices)

Summed over input channels, the elementwise products become one matrix product per position
(a, b) of the tile, which is where the time goes:

    U[ab] = (G g G^T)[ab]   (O, C)         V[ab] = (B^T d B)[ab]   (C, tiles)
    M[ab] = U[ab] @ V[ab]   (O, tiles)     Y = A^T M A per tile (+ bias)

The backward follows from the same products (dM is the output transform's adjoint of dY):

    dM[ab] = (A dY_t A^T)[ab]      dU[ab] = dM[ab] @ V[ab]^T      dW = G^T dU G
    dV[ab] = U[ab]^T @ dM[ab]      dX = sum over tiles of B dV_t B^T (overlapping tiles add)

The transforms are the kernels `winograd_tiles`, `winograd_untile` and their adjoints
(`striate.kernels`, a NumPy twin and a Numba one). A batch is processed in chunks of images
that stay in cache, one run of chunks per thread, as the im2col path does (`ops.conv_chunks`); the
forward lays a chunk's images side by side in one strip so that rows of tiles are long.
"""

from __future__ import annotations

import functools

import numpy as np

from striate import kernels, tuning
from striate.kernels import parallel
from striate.kernels.gemm import gemm
from striate.kernels.reference import WINOGRAD


def supports(geometry: tuple[int, ...], groups: int) -> bool:
    """True for the layers this path can compute: 3x3 or 5x5, stride 1, dilation 1, one group."""
    kh, kw, sh, sw, dh, dw = geometry[:6]
    return kh == kw and kh in WINOGRAD and (sh, sw, dh, dw) == (1, 1, 1, 1) and groups == 1


def applies(geometry: tuple[int, ...], groups: int, in_channels: int, out_channels: int) -> bool:
    """True for the supported layers where this path pays (the thresholds in `striate.tuning`)."""
    if not supports(geometry, groups):
        return False
    r, oh, ow = geometry[0], geometry[6], geometry[7]
    return (in_channels >= tuning.WINOGRAD_MIN_IN_CHANNELS[r]
            and out_channels >= tuning.WINOGRAD_MIN_OUT_CHANNELS
            and (r + 1) ** 2 * in_channels * out_channels <= tuning.WINOGRAD_MAX_WEIGHT_VALUES
            and min(oh, ow) >= tuning.WINOGRAD_MIN_SIDE[r])


_OLD_THRESHOLD_NAMES = {"MIN_IN_CHANNELS": "WINOGRAD_MIN_IN_CHANNELS",
                        "MIN_OUT_CHANNELS": "WINOGRAD_MIN_OUT_CHANNELS",
                        "MAX_WEIGHT_VALUES": "WINOGRAD_MAX_WEIGHT_VALUES", "MIN_SIDE": "WINOGRAD_MIN_SIDE"}


def __getattr__(name: str):
    """Old names of the thresholds now in `striate.tuning` (read-only: set them there)."""
    if name in _OLD_THRESHOLD_NAMES:
        return getattr(tuning, _OLD_THRESHOLD_NAMES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def tiles(oh: int, ow: int) -> tuple[int, int]:
    """Tile rows and columns covering an oh x ow output (2x2 outputs per tile)."""
    return -(-oh // 2), -(-ow // 2)


def chunk_bytes(in_channels: int, out_channels: int, oh: int, ow: int, itemsize: int, r: int) -> int:
    """Scratch memory per image: the transformed input and the products, (r+1)^2 values per tile."""
    th, tw = tiles(oh, ow)
    return (r + 1) ** 2 * (in_channels + out_channels) * th * (tw + r // 2) * itemsize


def padding(pads: tuple[int, ...], shape: tuple[int, ...], oh: int, ow: int,
            r: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) padding of an (H, W) input to whole tiles, 2th+r-1 x 2tw+r-1
    (an odd output size adds a zero row or column at the bottom or right)."""
    th, tw = tiles(oh, ow)
    H, W = shape[-2:]
    return pads[0], 2 * th + r - 1 - H - pads[0], pads[2], 2 * tw + r - 1 - W - pads[2]


@functools.cache
def _kron_g(r: int, dtype: np.dtype) -> np.ndarray:
    """G (x) G, ((r+1)^2, r^2): vec(G g G^T) = (G (x) G) vec(g) for a row-major r x r filter g."""
    g = WINOGRAD[r][2]
    return np.kron(g, g).astype(dtype)


def weight_transform(w: np.ndarray) -> np.ndarray:
    """U = G g G^T for every filter g = w[o, c] (r x r), as ((r+1)^2, O, C): one matrix product
    (G (x) G) @ W^T, with W the (O*C, r*r) matrix of flattened filters.

    Through `kernels.gemm` (BLAS serial): waking OpenBLAS's pool for so small a product between
    two runs of striate's threads stalled for up to 8 ms.
    """
    O, C, r = w.shape[0], w.shape[1], w.shape[-1]
    return gemm(_kron_g(r, w.dtype), w.reshape(O * C, r * r).T).reshape((r + 1) ** 2, O, C)


def weight_grad(du: np.ndarray, r: int) -> np.ndarray:
    """dW = G^T dU G, the weight transform's adjoint: ((r+1)^2, O, C) -> (O, C, r, r)."""
    O, C = du.shape[1:]
    return gemm(du.reshape(-1, O * C).T, _kron_g(r, du.dtype)).reshape(O, C, r, r)


def _strip(x: np.ndarray, top: int, left: int, th: int, tw: int, r: int) -> np.ndarray:
    """The chunk x (n, C, H, W), zero-padded, as one strip (1, C, 2th+r-1, n*slot + r-1).

    Image b fills columns [b*slot, (b+1)*slot), slot = 2tw + r - 1, so one row of tiles runs
    across every image: slot / 2 tiles per image, the last (r - 1) / 2 straddling two images
    (their outputs are dropped). The transforms vectorize along rows of tiles, and a 16 x 16
    image alone gives rows of 8 (measured 3x slower per tile than rows of 64).
    """
    n, C, H, W = x.shape
    slot = 2 * tw + r - 1
    strip = np.empty((1, C, 2 * th + r - 1, n * slot + r - 1), x.dtype)
    plane = strip[0]
    plane[:, :top] = 0
    plane[:, top + H:] = 0
    plane[:, :, n * slot:] = 0
    images = plane[:, top:top + H, :n * slot].reshape(C, H, n, slot)
    images[..., :left] = 0
    images[..., left + W:] = 0
    images[..., left:left + W] = x.transpose(1, 2, 0, 3)
    return strip


def forward_chunk(x: np.ndarray, u: np.ndarray, bias: np.ndarray, out: np.ndarray, top: int,
                  left: int, r: int) -> None:
    """out (n, O, OH, OW) = the convolution of the chunk x (n, C, H, W) padded by top and left
    (and by whatever the other sides need), with U from weight_transform; images side by side."""
    n, O, oh, ow = out.shape
    th, tw = tiles(oh, ow)
    slot = 2 * tw + r - 1
    v = kernels.winograd_tiles(_strip(x, top, left, th, tw, r), th, n * slot // 2, r)
    wide = np.empty((1, O, oh, n * slot), out.dtype)
    kernels.winograd_untile(parallel.matmul(u, v), bias, wide, r)
    out[...] = wide[0].reshape(O, oh, n, slot)[..., :ow].transpose(2, 0, 1, 3)


def backward_chunk(g: np.ndarray, xp: np.ndarray, u: np.ndarray | None, need_weight: bool,
                   r: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(dX padded as xp or None, dU (t*t, O, C) or None) of a chunk, from dY g (n, O, OH, OW).

    Image by image (xp is (n, C, 2th+r-1, 2tw+r-1)): side-by-side strips measured 5-10% faster
    only where a chunk holds three or more images of a small layer, and slower on large ones.
    """
    n = g.shape[0]
    th, tw = tiles(*g.shape[2:])
    dm = kernels.winograd_grad_tiles(g, th, tw, r)
    du = None
    if need_weight:
        du = parallel.matmul(dm, kernels.winograd_tiles(xp, th, tw, r).transpose(0, 2, 1))
    if u is None:
        return None, du
    return kernels.winograd_grad_untile(parallel.matmul(u.transpose(0, 2, 1), dm), n, th, tw, r), du

