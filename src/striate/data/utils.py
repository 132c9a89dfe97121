"""Image grids: `make_grid` and `save_image`, with `torchvision.utils`' semantics.

Code written for torchvision changes only its import: `from striate.data.utils import
make_grid, save_image` (also `striate.data.make_grid`).

    >>> grid = make_grid(images, nrow=8, padding=2, normalize=True)   # (3, H', W') Tensor
    >>> save_image(images, "batch.png", nrow=8)                       # the same grid as a PNG
"""

from __future__ import annotations

import io
import math
import os
from typing import Any, BinaryIO

import numpy as np

from striate.autograd.tensor import Tensor, wrap
from striate.data.pil import pil_image_module
from striate.io_atomic import atomic_write_bytes

__all__ = ["make_grid", "save_image"]


def _as_batch(tensor: Any) -> np.ndarray:
    """A Tensor, an array or a list of same-size images -> a (B, C, H, W) array (a copy)."""
    if isinstance(tensor, (list, tuple)):
        for t in tensor:
            if not isinstance(t, (Tensor, np.ndarray)):
                raise TypeError(f"tensor or list of tensors expected, got a list containing {type(t)}")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) != 1:
            raise ValueError(f"make_grid: the images of a list must all have one shape, got {sorted(shapes)}")
        arr = np.stack([t.array if isinstance(t, Tensor) else t for t in tensor])
    elif isinstance(tensor, Tensor):
        arr = tensor.array
    elif isinstance(tensor, np.ndarray):
        arr = tensor
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if arr.ndim == 2:                     # one H x W image
        arr = arr[None]
    if arr.ndim == 3:                     # one C x H x W image; single channel -> RGB
        arr = (np.concatenate([arr] * 3) if arr.shape[0] == 1 else arr)[None]
    if arr.ndim != 4:
        raise ValueError(f"make_grid expects images (B, C, H, W), (C, H, W) or (H, W), got shape {arr.shape}")
    if arr.shape[1] == 1:                 # single-channel images -> RGB
        arr = np.concatenate([arr] * 3, axis=1)
    return np.array(arr, copy=True)


def _normalize_(img: np.ndarray, low: float, high: float) -> None:
    """torchvision's norm_ip: clamp to [low, high], then (x - low) / max(high - low, 1e-5), in the
    images' dtype."""
    dt = img.dtype.type if img.dtype.kind == "f" else np.float64
    np.clip(img, dt(low), dt(high), out=img)
    np.subtract(img, dt(low), out=img)
    np.divide(img, dt(max(high - low, 1e-5)), out=img)


def make_grid(tensor: Tensor | list[Tensor] | np.ndarray, nrow: int = 8, padding: int = 2,
              normalize: bool = False, value_range: tuple[float, float] | None = None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile a batch of images (B, C, H, W) into one image (C, H', W'), `nrow` images per row,
    `padding` pixels of `pad_value` around each, as `torchvision.utils.make_grid`.

    Single-channel images become 3 channels. `normalize=True` maps [min, max] (of the whole
    batch, of each image with `scale_each=True`, or the given `value_range`) to [0, 1]. One
    image comes back as it is (after those steps), without padding.
    """
    if not isinstance(nrow, int) or nrow <= 0:
        raise ValueError(f"make_grid: nrow must be a positive integer, got {nrow!r}")
    if not isinstance(padding, int) or padding < 0:
        raise ValueError(f"make_grid: padding must be a non-negative integer, got {padding!r}")
    batch = _as_batch(tensor)
    if normalize is True:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        for img in (batch if scale_each is True else [batch]):
            low, high = value_range if value_range is not None else (float(img.min()), float(img.max()))
            _normalize_(img, low, high)
    if batch.shape[0] == 1:
        return wrap(batch[0], False)
    nmaps, channels, h, w = batch.shape
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = h + padding, w + padding
    grid = np.full((channels, height * ymaps + padding, width * xmaps + padding), pad_value, batch.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = batch[k]
    return wrap(grid, False)


def save_image(tensor: Tensor | list[Tensor] | np.ndarray, fp: str | os.PathLike | BinaryIO,
               format: str | None = None, **kwargs: Any) -> None:
    """Save an image, or a batch as `make_grid(tensor, **kwargs)`, to a file (PNG, JPEG, ... by
    the file name, or `format=` for a file object), as `torchvision.utils.save_image`: pixels
    are round(255 x) clamped to [0, 255]. A path is written atomically. Needs Pillow."""
    image_module = pil_image_module("save_image")
    grid = make_grid(tensor, **kwargs).array
    pixels = np.clip(grid * grid.dtype.type(255) + grid.dtype.type(0.5), 0, 255)
    image = image_module.fromarray(np.ascontiguousarray(pixels.transpose(1, 2, 0)).astype(np.uint8))
    if isinstance(fp, (str, os.PathLike)):
        buffer = io.BytesIO()
        fmt = format or image_module.registered_extensions().get(os.path.splitext(os.fspath(fp))[1].lower())
        if fmt is None:
            raise ValueError(f"save_image: cannot tell the image format from {os.fspath(fp)!r}; "
                             "give format='PNG' (or a name ending in .png, .jpg, ...)")
        image.save(buffer, format=fmt)
        atomic_write_bytes(fp, buffer.getvalue())
    else:
        image.save(fp, format=format)
