"""Spatial transformers (Jaderberg et al.): `F.affine_grid` and `F.grid_sample`.

affine_grid turns one 2 x 3 matrix per image into a sampling grid over the output plane, in
normalised coordinates (-1 = left/top edge, +1 = right/bottom edge):

    grid[n, h, w] = theta[n] @ (x_w, y_h, 1)          dL/dtheta[n] = sum_hw dL/dgrid[n,h,w] (x_w, y_h, 1)^T

with x_w = -1 + 2 w / (W - 1) (align_corners=True: the corner pixels' centres) or
(2 w + 1) / W - 1 (False: the corners of the corner pixels).

grid_sample reads the input at those points. A normalised x becomes a pixel coordinate
ix = (x + 1) / 2 (W - 1) (align_corners) or ((x + 1) W - 1) / 2, is folded back by the
padding mode (zeros: points outside read 0; border: clip to [0, W-1]; reflection: mirror at
the borders), then

    bilinear:  y = sum over the 4 neighbours (ix0 + a, iy0 + b) of x[iy, ix] (1 - |ix - .|)(1 - |iy - .|)
               dL/dx[neighbour] += g * weight      dL/dix = g * ((x_ne - x_nw) s + (x_se - x_sw) n)
    nearest:   y = x[round(iy), round(ix)] (half to even, as PyTorch's CPU kernel); dL/dgrid = 0

and dL/dgrid = dL/dix * dix/dx, where dix/dx is the unnormalising scale times the padding
mode's slope (0 where border or reflection clips, -1 where reflection mirrors). Every formula
follows PyTorch's CPU kernel, including which exact border values count as clipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from striate import kernels
from striate.autograd.function import Function
from striate.autograd.tensor import Tensor

_MODES = ("bilinear", "nearest")
_PADDING = ("zeros", "border", "reflection")


def _linspace(n: int, align_corners: bool, dtype: np.dtype) -> np.ndarray:
    """The n normalised pixel positions along one axis (0 for a one-pixel axis, as PyTorch)."""
    if n <= 1:
        return np.zeros(max(n, 0), dtype)
    steps = np.linspace(-1, 1, n).astype(dtype)
    return steps if align_corners else steps * dtype.type((n - 1) / n)


class AffineGrid(Function):
    """grid[n, hw] = base[hw] @ theta[n]^T;  dL/dtheta[n] = dL/dgrid[n]^T @ base."""

    def forward(self, theta, *, size, align_corners):
        n, _, h, w = size
        base = np.ones((h, w, 3), theta.dtype)
        base[..., 0] = _linspace(w, align_corners, theta.dtype)[None, :]
        base[..., 1] = _linspace(h, align_corners, theta.dtype)[:, None]
        self.base = base.reshape(1, h * w, 3)
        return np.matmul(self.base, theta.transpose(0, 2, 1)).reshape(n, h, w, 2)

    def backward(self, g):
        n = g.shape[0]
        return (np.matmul(g.reshape(n, -1, 2).transpose(0, 2, 1), self.base),)


def _reflect(coord: np.ndarray, twice_span: float, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Mirror coord into [0, span] (after adding `shift`), and the slope (+1 or -1)."""
    dtype = coord.dtype.type
    if twice_span == 0:
        return np.zeros_like(coord), np.zeros_like(coord)
    shifted = coord + dtype(shift)
    span2 = dtype(twice_span)
    magnitude = np.abs(shifted)
    extra = magnitude - np.trunc(magnitude / span2) * span2
    mirrored = span2 - extra
    flip = extra > mirrored
    slope = np.where(flip ^ (shifted < 0), dtype(-1), dtype(1))
    return np.where(flip, mirrored, extra) - dtype(shift), slope


def _source_index(x: np.ndarray, size: int, padding_mode: str,
                  align_corners: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinate of normalised x along an axis of `size`, and d(coordinate)/dx."""
    dtype = x.dtype.type
    if align_corners:
        scale = dtype(size - 1) / dtype(2)
        coord = (x + dtype(1)) * scale
    else:
        scale = dtype(size) / dtype(2)
        coord = (x + dtype(1)) * scale - dtype(0.5)
    slope = np.full_like(x, scale)
    if padding_mode == "zeros":
        return coord, slope
    if padding_mode == "reflection":
        twice_span, shift = (2.0 * (size - 1), 0.0) if align_corners else (2.0 * size, 0.5)
        coord, mirror = _reflect(coord, twice_span, shift)
        slope = slope * mirror
    # clip to [0, size - 1]; the clipped points (the borders included) get no gradient
    top = dtype(size - 1)
    low = np.maximum(coord, dtype(0))
    clipped = np.minimum(low, top)
    inside = (low != 0) & (clipped != top)
    return clipped, np.where(inside, slope, dtype(0))


class GridSample(Function):
    """y[n, c, p] = interpolation of x[n, c] at grid[n, p]; dL/dx and dL/dgrid as in the module.

    The work is done on pixel-major rows (N*H*W, C): every neighbour is one row gather of all
    channels at once (`np.take`), and dL/dx is one row scatter (`kernels.scatter_rows`: a Numba
    loop, or its NumPy twin, one float64 bincount).
    """

    saves_inputs = (0, 1)  # both always, as PyTorch's GridSampler2DBackward0 saves them

    def forward(self, x, grid, *, mode, padding_mode, align_corners):
        n, c, h, w = x.shape
        ix, sx = _source_index(grid[..., 0], w, padding_mode, align_corners)
        iy, sy = _source_index(grid[..., 1], h, padding_mode, align_corners)
        first_row = (np.arange(n) * (h * w)).reshape(n, 1, 1)  # image n's pixels start there
        if mode == "nearest":
            corners = [_corner(np.rint(ix), np.rint(iy), np.ones_like(ix), h, w, first_row)]
        else:
            x0, y0 = np.floor(ix), np.floor(iy)
            east, south = ix - x0, iy - y0  # distances from the west / north neighbours
            west, north = 1 - east, 1 - south
            self.frac = tuple(f.reshape(-1, 1) for f in (east, south, west, north))
            corners = [_corner(x0, y0, north * west, h, w, first_row),  # nw, ne, sw, se
                       _corner(x0 + 1, y0, north * east, h, w, first_row),
                       _corner(x0, y0 + 1, south * west, h, w, first_row),
                       _corner(x0 + 1, y0 + 1, south * east, h, w, first_row)]
        rows = np.ascontiguousarray(x.reshape(n, c, h * w).transpose(0, 2, 1)).reshape(n * h * w, c)
        values = [np.take(rows, index, axis=0) for index, _, _ in corners]  # (N*P, C) each
        out = values[0] * corners[0][1]
        for v, (_, weight, _) in zip(values[1:], corners[1:]):
            out += v * weight
        self.shape, self.mode, self.slopes, self.corners = x.shape, mode, (sx, sy), corners
        if self.needs_input_grad is not None and self.needs_input_grad[1] and mode == "bilinear":
            self.values = [v * inside for v, (_, _, inside) in zip(values, corners)]
        p = grid.shape[1] * grid.shape[2]
        return np.ascontiguousarray(out.reshape(n, p, c).transpose(0, 2, 1)).reshape(n, c, *grid.shape[1:3])

    def backward(self, g):
        n, c, h, w = self.shape
        p = g.shape[2] * g.shape[3]
        g_rows = g.reshape(n, c, p).transpose(0, 2, 1).reshape(n * p, c)
        gx = ggrid = None
        if self.needs_input_grad[0]:  # every neighbour's share of dL/dy, added onto its pixel row
            index = np.stack([i for i, _, _ in self.corners])
            weight = np.stack([w[:, 0] for _, w, _ in self.corners])
            rows = kernels.scatter_rows(index, weight, g_rows, n * h * w)
            gx = rows.reshape(n, h * w, c).transpose(0, 2, 1).reshape(self.shape)
        if self.needs_input_grad[1]:
            if self.mode == "bilinear":
                ggrid = self._grid_grad(g_rows)
            else:  # nearest: the output is piecewise constant in the grid
                ggrid = np.zeros(self.slopes[0].shape + (2,), g.dtype)
        return gx, ggrid

    def _grid_grad(self, g_rows: np.ndarray) -> np.ndarray:
        east, south, west, north = self.frac
        nw, ne, sw, se = self.values
        dix = (((ne - nw) * north + (se - sw) * south) * g_rows).sum(axis=1)
        diy = (((sw - nw) * west + (se - ne) * east) * g_rows).sum(axis=1)
        sx, sy = self.slopes
        return np.stack([dix.reshape(sx.shape) * sx, diy.reshape(sy.shape) * sy], axis=-1)


def _corner(cx: np.ndarray, cy: np.ndarray, weight: np.ndarray, h: int, w: int, first_row: np.ndarray):
    """Row of pixel (cy, cx) in the (N*H*W, C) layout (row 0 where outside), its weight and its
    inside flag (both 0 outside), as (N*P,) and (N*P, 1) arrays."""
    inside = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
    index = np.where(inside, first_row + cy * w + cx, 0).astype(np.int64).ravel()
    zero = weight.dtype.type(0)
    return index, np.where(inside, weight, zero).reshape(-1, 1), inside.astype(weight.dtype).reshape(-1, 1)


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """A sampling grid (N, H, W, 2) for `grid_sample` from affine matrices theta (N, 2, 3).

    >>> import striate as st, striate.nn.functional as F
    >>> F.affine_grid(st.tensor([[[1., 0., 0.], [0., 1., 0.]]]), (1, 1, 1, 2), align_corners=True).tolist()
    [[[[-1.0, 0.0], [1.0, 0.0]]]]
    """
    if not isinstance(theta, Tensor):
        raise TypeError(f"affine_grid: theta must be a striate Tensor, got {type(theta).__name__}")
    if theta.dtype.kind != "f":
        raise TypeError(f"affine_grid: expected theta to have floating point type, got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) == 5:
        raise NotImplementedError("affine_grid: 3-D (volumetric) grids, size (N, C, D, H, W), are not "
                                  "implemented in striate; only 2-D sizes (N, C, H, W)")
    if len(size) != 4:
        raise ValueError(f"affine_grid: size must be (N, C, H, W) for 2-D grids, got {size}")
    if tuple(theta.shape) != (size[0], 2, 3):
        raise ValueError(f"affine_grid: expected a batch of 2-D affine matrices of shape (N, 2, 3) = "
                         f"{(size[0], 2, 3)} for size {size}, got {tuple(theta.shape)}")
    if min(size) <= 0:
        raise ValueError(f"affine_grid: expected non-zero, positive output size, got {size}")
    return AffineGrid.apply(theta, size=size, align_corners=bool(align_corners))


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample input (N, C, H, W) at grid (N, H_out, W_out, 2) -> (N, C, H_out, W_out).

    grid[..., 0] is x (along W) and grid[..., 1] is y (along H), both normalised to [-1, 1].
    """
    for name, t in (("input", input), ("grid", grid)):
        if not isinstance(t, Tensor):
            raise TypeError(f"grid_sample: {name} must be a striate Tensor, got {type(t).__name__}")
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode='bicubic' is not implemented in striate; use "
                                  "mode='bilinear' or 'nearest'")
    if mode not in _MODES:
        raise ValueError(f"grid_sample: mode must be 'bilinear', 'nearest' or 'bicubic', got {mode!r}")
    if padding_mode not in _PADDING:
        raise ValueError(f"grid_sample: padding_mode must be 'zeros', 'border' or 'reflection', "
                         f"got {padding_mode!r}")
    if input.ndim == 5:
        raise NotImplementedError("grid_sample: 5-D (volumetric) inputs are not implemented in striate; "
                                  "only 4-D (N, C, H, W)")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2:
        raise ValueError(f"grid_sample: expected a 4-D input (N, C, H, W) and a 4-D grid (N, H_out, "
                         f"W_out, 2), got input {tuple(input.shape)} and grid {tuple(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise ValueError(f"grid_sample: input and grid must have the same batch size, got "
                         f"{input.shape[0]} and {grid.shape[0]}")
    if min(input.shape[2:]) <= 0:
        raise ValueError(f"grid_sample: expected an input with non-empty spatial dimensions, got "
                         f"{tuple(input.shape)}")
    if input.dtype != grid.dtype or input.dtype.kind != "f":
        raise TypeError(f"grid_sample: input ({input.dtype}) and grid ({grid.dtype}) must have the same "
                        "floating dtype; convert one with .float() or .double()")
    return GridSample.apply(input, grid, mode=mode, padding_mode=padding_mode,
                            align_corners=bool(align_corners))
