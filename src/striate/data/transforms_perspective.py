"""torchvision's `RandomPerspective`: with probability p, move the four corners of the image
inwards by random amounts (up to `distortion_scale` x half the width / height) and warp the image
so that its corners land there.

The warp is the projective map (Pillow's PERSPECTIVE transform) that sends each output pixel
(x, y) to the source point
    ((a x + b y + c) / (g x + h y + 1),  (d x + e y + f) / (g x + h y + 1)),
whose eight coefficients solve the 8 x 8 linear system given by the four corner pairs (float64,
rounded to float32 as torchvision does). PIL images are warped by Pillow, called as torchvision
calls it; tensors are sampled at those points (nearest or bilinear, torchvision's pixel-centre
grid and `fill` blending). Draws: `torch.rand(1) < p`, then eight `randint`s in torchvision's
order (top-left x, y; top-right x, y; bottom-right x, y; bottom-left x, y).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.creation import randint
from striate.data import transforms_vision_tensor as FT
from striate.data.pil import is_pil_image
from striate.data.transforms_convert import InterpolationMode, _pil_filter, interpolation_mode
from striate.data.transforms_pixels import _coin, _like, _pixels
from striate.data.transforms_vision import (
    _check_fill,
    _check_image,
    _dims,
    _generator,
    _pil_fill,
    _RandomTransform,
)
from striate.random import Generator

__all__ = ["RandomPerspective", "perspective_coefficients"]


def perspective_coefficients(startpoints: Sequence[Sequence[float]], endpoints: Sequence[Sequence[float]]
                             ) -> list[float]:
    """The 8 coefficients mapping output (end) points to input (start) points (torchvision's
    `_get_perspective_coeffs`): solved in float64, returned as float32 values."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(f"Please provide exactly four corners, got {len(startpoints)} startpoints and "
                         f"{len(endpoints)} endpoints.")
    a = np.zeros((8, 8), np.float64)
    for i, ((x, y), (u, v)) in enumerate(zip(endpoints, startpoints)):
        a[2 * i] = [x, y, 1, 0, 0, 0, -u * x, -u * y]
        a[2 * i + 1] = [0, 0, 0, x, y, 1, -v * x, -v * y]
    b = np.asarray(startpoints, np.float64).reshape(8)
    solution = np.linalg.lstsq(a, b, rcond=None)[0]
    return [float(c) for c in solution.astype(np.float32)]


def _source_points(coeffs: Sequence[float], dt: np.dtype, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates each output pixel samples: torchvision's `_perspective_grid`, then
    grid_sample's unnormalisation (align_corners=False)."""
    ft = dt.type
    c = np.asarray(coeffs, dt)
    xs = np.linspace(0.5, w + 0.5 - 1.0, w, dtype=dt)
    ys = np.linspace(0.5, h + 0.5 - 1.0, h, dtype=dt)[:, None]
    half_w, half_h = ft(0.5 * w), ft(0.5 * h)
    gx = (xs * (c[0] / half_w) + ys * (c[1] / half_w) + c[2] / half_w)
    gy = (xs * (c[3] / half_h) + ys * (c[4] / half_h) + c[5] / half_h)
    den = xs * c[6] + ys * c[7] + ft(1.0)
    gx, gy = gx / den - ft(1.0), gy / den - ft(1.0)
    return ((gx + ft(1)) * ft(w) - ft(1)) / ft(2), ((gy + ft(1)) * ft(h) - ft(1)) / ft(2)


class RandomPerspective(_RandomTransform):
    """A random perspective warp with probability p (torchvision's `RandomPerspective`)."""

    def __init__(self, distortion_scale: float = 0.5, p: float = 0.5,
                 interpolation: Any = InterpolationMode.BILINEAR, fill: Any = 0) -> None:
        if not 0.0 <= distortion_scale <= 1.0:
            raise ValueError(f"distortion_scale should be between 0 and 1, got {distortion_scale}")
        self.distortion_scale, self.p = distortion_scale, p
        self.interpolation = interpolation_mode(interpolation)
        self.fill = _check_fill(fill)

    @staticmethod
    def get_params(width: int, height: int, distortion_scale: float, generator: Generator | None = None
                   ) -> tuple[list[list[int]], list[list[int]]]:
        half_h, half_w = height // 2, width // 2
        dw, dh = int(distortion_scale * half_w), int(distortion_scale * half_h)

        def draw(low: int, high: int) -> int:
            return int(randint(low, high, size=(1,), generator=generator).item())

        topleft = [draw(0, dw + 1), draw(0, dh + 1)]
        topright = [draw(width - dw - 1, width), draw(0, dh + 1)]
        botright = [draw(width - dw - 1, width), draw(height - dh - 1, height)]
        botleft = [draw(0, dw + 1), draw(height - dh - 1, height)]
        startpoints = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
        return startpoints, [topleft, topright, botright, botleft]

    def __call__(self, img: Any, rng: Any = None) -> Any:
        _check_image(img, "RandomPerspective")
        channels, height, width = _dims(img)
        generator = _generator(rng)
        if not _coin(self.p, generator):
            return img
        start, end = self.get_params(width, height, self.distortion_scale, generator)
        coeffs = perspective_coefficients(start, end)
        if is_pil_image(img):
            return img.transform(img.size, 2, coeffs, _pil_filter(self.interpolation),
                                 fillcolor=_pil_fill(self.fill, img))  # 2 = Image.PERSPECTIVE
        pixels = _pixels(img)
        fill = self.fill
        fill = [float(fill)] * channels if isinstance(fill, (int, float)) else [float(f) for f in fill]
        sx, sy = _source_points(coeffs, FT._float_dtype(pixels), width, height)
        return _like(img, FT.sample_with_fill(pixels, sx, sy, self.interpolation.value, fill))

    def __repr__(self) -> str:
        return (f"RandomPerspective(distortion_scale={self.distortion_scale}, p={self.p}, "
                f"interpolation={self.interpolation.value}, fill={self.fill})")
