"""Winograd convolution F(2x2, 3x3) for stride-1 3x3 layers (Lavin & Gray, 2015).

Seed 001's cross-correlation computes each output pixel with 9 multiply-adds per input
channel. Winograd's minimal filtering computes a 2x2 block of outputs from the 4x4 input tile d
under it with 16 multiplications instead of 36 (2.25x fewer):

    Y = A^T [ (G g G^T) * (B^T d B) ] A          (* elementwise; B, G, A small constant matrices)

Summed over input channels, the elementwise products become one matrix product per position
(a, b) of the 4x4 tile, which is where the time goes:

    U[ab] = (G g G^T)[ab]   (O, C)         V[ab] = (B^T d B)[ab]   (C, tiles)
    M[ab] = U[ab] @ V[ab]   (O, tiles)     Y = A^T M A per tile (+ bias)

The backward follows from the same products (dM is the output transform's adjoint of dY):

    dM[ab] = (A dY_t A^T)[ab]      dU[ab] = dM[ab] @ V[ab]^T      dW = G^T dU G
    dV[ab] = U[ab]^T @ dM[ab]      dX = sum over tiles of B dV_t B^T (overlapping tiles add)

The transforms are the kernels `winograd_tiles`, `winograd_untile` and their adjoints
(`striate.kernels`, a NumPy twin and a Numba one). A batch is processed in chunks of images
that stay in cache, one run of chunks per thread, as the im2col path does (`ops.conv`); the
forward lays a chunk's images side by side in one strip so that rows of tiles are long.
"""

from __future__ import annotations

import numpy as np

from striate import kernels
from striate.kernels.reference import WINOGRAD_G

# Where the transforms pay, measured per layer against im2col (2 threads, fwd+bwd; see the
# README's Speed section): channels from 16 (a 3-channel first layer is faster as im2col), the
# transformed weights 16*C*O within ~256 KiB so every chunk's products find them in cache
# (128 x 128 and wider layers were 1.2-2x slower than im2col), and planes from 16 x 16 (smaller
# planes make the transforms' rows too short to vectorize).
MIN_CHANNELS = 16
MAX_CHANNEL_PRODUCT = 64 * 64
MIN_SIDE = 16


def applies(geometry: tuple[int, ...], groups: int, in_channels: int, out_channels: int) -> bool:
    """True for the layers this path handles and speeds up (3x3, stride 1, dilation 1, one group)."""
    kh, kw, sh, sw, dh, dw, oh, ow = geometry
    return ((kh, kw, sh, sw, dh, dw) == (3, 3, 1, 1, 1, 1) and groups == 1
            and min(in_channels, out_channels) >= MIN_CHANNELS
            and in_channels * out_channels <= MAX_CHANNEL_PRODUCT and min(oh, ow) >= MIN_SIDE)


def tiles(oh: int, ow: int) -> tuple[int, int]:
    """Tile rows and columns covering an oh x ow output (2x2 outputs per tile)."""
    return -(-oh // 2), -(-ow // 2)


def chunk_bytes(in_channels: int, out_channels: int, oh: int, ow: int, itemsize: int) -> int:
    """Scratch memory per image: the transformed input and the products, 16 values per tile."""
    th, tw = tiles(oh, ow)
    return 16 * (in_channels + out_channels) * th * (tw + 1) * itemsize


def padding(pads: tuple[int, ...], shape: tuple[int, ...], oh: int, ow: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) padding of an (H, W) input to whole tiles: 2th+2 x 2tw+2 (an odd
    output size adds a zero row or column at the bottom or right)."""
    th, tw = tiles(oh, ow)
    H, W = shape[-2:]
    return pads[0], 2 * th + 2 - H - pads[0], pads[2], 2 * tw + 2 - W - pads[2]


def weight_transform(w: np.ndarray) -> np.ndarray:
    """U = G g G^T for every filter g = w[o, c] (3x3), as (16, O, C)."""
    g = WINOGRAD_G.astype(w.dtype)
    O, C = w.shape[:2]
    return np.ascontiguousarray(np.einsum("ai,ocij,bj->aboc", g, w, g, optimize=True)).reshape(16, O, C)


def weight_grad(du: np.ndarray) -> np.ndarray:
    """dW = G^T dU G: the weight transform's adjoint, (16, O, C) -> (O, C, 3, 3)."""
    g = WINOGRAD_G.astype(du.dtype)
    O, C = du.shape[1:]
    return np.einsum("ai,aboc,bj->ocij", g, du.reshape(4, 4, O, C), g, optimize=True)


def _strip(x: np.ndarray, top: int, left: int, th: int, tw: int) -> np.ndarray:
    """The chunk x (n, C, H, W), zero-padded, as one strip (1, C, 2th+2, n*(2tw+2) + 2).

    Image b fills columns [b*slot, (b+1)*slot), slot = 2tw + 2, so one row of tiles runs across
    every image: tw + 1 tiles per image, the last one straddling two images (its outputs are
    dropped). The transforms vectorize along rows of tiles, and a 16 x 16 image alone gives rows
    of 8 (measured 3x slower per tile than rows of 64).
    """
    n, C, H, W = x.shape
    slot = 2 * tw + 2
    strip = np.empty((1, C, 2 * th + 2, n * slot + 2), x.dtype)
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
                  left: int) -> None:
    """out (n, O, OH, OW) = the convolution of the chunk x (n, C, H, W) padded by top and left
    (and by whatever the other sides need), with U from weight_transform; images side by side."""
    n, O, oh, ow = out.shape
    th, tw = tiles(oh, ow)
    v = kernels.winograd_tiles(_strip(x, top, left, th, tw), th, n * (tw + 1))
    wide = np.empty((1, O, oh, n * (2 * tw + 2)), out.dtype)
    kernels.winograd_untile(np.matmul(u, v), bias, wide)
    out[...] = wide[0].reshape(O, oh, n, 2 * tw + 2)[..., :ow].transpose(2, 0, 1, 3)


def backward_chunk(g: np.ndarray, xp: np.ndarray, u: np.ndarray | None,
                   need_weight: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(dX padded as xp or None, dU (16, O, C) or None) of a chunk, from dY g (n, O, OH, OW).

    Image by image (xp is (n, C, 2th+2, 2tw+2)): side-by-side strips measured no faster here,
    where a chunk holds fewer images (the backward needs twice the scratch memory per image).
    """
    n = g.shape[0]
    th, tw = tiles(*g.shape[2:])
    dm = kernels.winograd_grad_tiles(g, th, tw)
    du = np.matmul(dm, kernels.winograd_tiles(xp, th, tw).transpose(0, 2, 1)) if need_weight else None
    dxp = None if u is None else kernels.winograd_grad_untile(np.matmul(u.transpose(0, 2, 1), dm), n, th, tw)
    return dxp, du
