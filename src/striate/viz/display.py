"""Maps on images: resizing, normalising, colouring, blending and writing PNGs.

The attribution functions return raw arrays; everything that changes their values for display
lives here, so the numbers stay comparable with other libraries' until someone draws them.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.viz._common import as_array, normalise01, require


def _linear_weights(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights of linear interpolation with half-pixel centres
    (F.interpolate's align_corners=False): src = (dst + 0.5) * n_in / n_out - 0.5, clamped at 0."""
    src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    src = np.maximum(src, 0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, src - i0


def resize(maps: Any, size: Sequence[int]) -> np.ndarray:
    """Resize the last len(size) axes of `maps` with (bi)linear interpolation, as PyTorch's
    F.interpolate(mode='linear'/'bilinear', align_corners=False). Works for 1-D and 2-D maps."""
    out = np.asarray(maps, np.float64)
    axes = range(out.ndim - len(size), out.ndim)
    for axis, n_out in zip(axes, size):
        n_in = out.shape[axis]
        if n_in == n_out:
            continue
        i0, i1, w = _linear_weights(n_in, int(n_out))
        shape = [1] * out.ndim
        shape[axis] = -1
        w = w.reshape(shape)
        out = np.take(out, i0, axis=axis) * (1 - w) + np.take(out, i1, axis=axis) * w
    return out


def to_rgb(image: Any) -> np.ndarray:
    """One image (C, H, W) with 1 or 3 channels, or (H, W), as (H, W, 3) in [0, 1] (min-max scaled)."""
    img = as_array(image)
    if img.ndim == 3 and img.shape[0] in (1, 3):
        img = img.transpose(1, 2, 0)
    if img.ndim == 2:
        img = img[..., None]
    if img.ndim != 3 or img.shape[2] not in (1, 3):
        raise ValueError("to_rgb: expected an image (C, H, W) with 1 or 3 channels or (H, W), got "
                         f"{img.shape}")
    img = normalise01(img)
    return np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img


def clip_percentiles(a: Any, lo: float = 1.0, hi: float = 99.0) -> np.ndarray:
    """Values clipped to their lo-th and hi-th percentiles, so a few extreme pixels (DeepDream,
    optimised images) do not wash out the rest when the picture is min-max scaled."""
    arr = as_array(a)
    return np.clip(arr, *np.percentile(arr, [lo, hi]))


def colorize(values: Any, cmap: str = "jet") -> np.ndarray:
    """A 2-D map in [0, 1] as RGB (H, W, 3) through a matplotlib colormap."""
    require("matplotlib")
    from matplotlib import colormaps

    return colormaps[cmap](np.clip(np.asarray(values, np.float64), 0, 1))[..., :3]


def overlay(image: Any, cam: Any, alpha: float = 0.5, cmap: str = "jet") -> np.ndarray:
    """The map resized to the image, normalised to [0, 1], coloured and blended:
    (1 - alpha) * image + alpha * colour(map), as an (H, W, 3) array in [0, 1]."""
    rgb = to_rgb(image)
    heat = normalise01(resize(as_array(cam), rgb.shape[:2]))
    return (1 - alpha) * rgb + alpha * colorize(heat, cmap)


def attribution_image(attr: Any) -> np.ndarray:
    """An attribution for one input (C, H, W) as a grey (H, W) map in [0, 1]: max |a| over channels."""
    a = np.abs(as_array(attr))
    return normalise01(a.max(axis=0) if a.ndim == 3 else a)


def save_png(image: Any, path: str | os.PathLike, scale: int = 1) -> None:
    """Write an (H, W), (H, W, 3) or (H, W, 4) array in [0, 1] (or uint8) as a PNG, atomically;
    `scale` enlarges small images with nearest-neighbour pixels (8x8 digits stay sharp)."""
    require("PIL")
    from PIL import Image

    from striate.io_atomic import atomic_write_bytes

    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8)
    img = Image.fromarray(arr)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 100) -> None:
    """A matplotlib Figure written as a PNG (or SVG by suffix), atomically."""
    from striate.io_atomic import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format=str(path).rsplit(".", 1)[-1].lower(), dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
