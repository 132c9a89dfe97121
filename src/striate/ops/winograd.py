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
that stay in cache, one run of chunks per thread, as the im2col path does (`ops.conv`).
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
    return 16 * (in_channels + out_channels) * th * tw * itemsize


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


def forward_chunk(xp: np.ndarray, u: np.ndarray, bias: np.ndarray, out: np.ndarray) -> None:
    """out (n, O, OH, OW) = the convolution of xp (n, C, 2th+2, 2tw+2), U from weight_transform."""
    th, tw = tiles(*out.shape[2:])
    v = kernels.winograd_tiles(xp, th, tw)
    kernels.winograd_untile(np.matmul(u, v), bias, out)


def backward_chunk(g: np.ndarray, xp: np.ndarray, u: np.ndarray | None,
                   need_weight: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(dX padded as xp or None, dU (16, O, C) or None) of a chunk, from dY g (n, O, OH, OW)."""
    n = g.shape[0]
    th, tw = tiles(*g.shape[2:])
    dm = kernels.winograd_grad_tiles(g, th, tw)
    du = np.matmul(dm, kernels.winograd_tiles(xp, th, tw).transpose(0, 2, 1)) if need_weight else None
    dxp = None if u is None else kernels.winograd_grad_untile(np.matmul(u.transpose(0, 2, 1), dm), n, th, tw)
    return dxp, du
