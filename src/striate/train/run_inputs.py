"""Bring a user's image to the form of a run's training data, or refuse it with the reason.

`striate predict` reads PNG/JPEG/... files (Pillow) and `.npy` arrays. Each image is taken to
the run's channels (grey or RGB), to its polarity (a dark-on-light drawing is inverted for a
run trained on light-on-dark digits, judged by the border pixels as the training data was), to
its size (`runs.fit_side`, as in training) and normalised with the run's statistics. Images of
different sizes may be mixed in one call: each is brought to the run's size on its own.
"""

from __future__ import annotations

import numpy as np

from striate.train.run_config import RunConfig

# the largest side read: beyond this an image is refused rather than resized (memory)
MAX_SIDE = 8192


class ImageInputError(ValueError):
    """An image that cannot be brought to the form a run was trained on."""


def read_image(path: str, cfg: RunConfig) -> np.ndarray:
    """One image file as a (1, C, H, W) float32 array in [0, 1], C the run's channels."""
    arr = _read_npy(path, cfg.in_channels) if path.endswith(".npy") else _read_picture(path, cfg.in_channels)
    h, w = arr.shape[2:]
    if min(h, w) < 2 or max(h, w) > MAX_SIDE:
        raise ImageInputError(f"{path}: a {h}x{w} image cannot be brought to the run's "
                              f"{cfg.input_side}x{cfg.input_side} (sides from 2 to {MAX_SIDE} pixels)")
    if max(h, w) > 2 * min(h, w):
        raise ImageInputError(f"{path}: a {h}x{w} image is far from square; the run was trained on "
                              f"{cfg.input_side}x{cfg.input_side} images: crop it first")
    from striate.train.runs import dark_background

    if cfg.in_channels == 1 and cfg.dark_background != dark_background(arr):
        arr = 1.0 - arr  # the run's polarity (e.g. a black-on-white drawing for white-on-black digits)
    return arr


def prepare_images(paths: list[str], cfg: RunConfig) -> np.ndarray:
    """The files in `paths` as one normalised (N, C, side, side) batch for the run's model."""
    from striate.train.runs import preprocess

    return np.concatenate([preprocess(read_image(p, cfg), cfg) for p in paths])


def _read_npy(path: str, channels: int) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as e:
        raise ImageInputError(f"{path}: not a numeric .npy array ({e}); save images with "
                              "np.save(path, array) from a number array") from None
    except OSError as e:
        raise ImageInputError(f"{path}: cannot read ({e})") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        kind = getattr(arr, "dtype", type(arr))
        raise ImageInputError(f"{path}: holds {kind} data; an image is an array of numbers")
    shape = arr.shape
    if arr.ndim == 4 and shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[0] != channels:
        raise ImageInputError(f"{path}: an array of shape {shape} is not one image of {channels} "
                              f"channel(s); expected {'(H, W), ' if channels == 1 else ''}({channels}, H, W) "
                              f"or (1, {channels}, H, W)")
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise ImageInputError(f"{path}: contains NaN or infinite values")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0 or hi > 255:
        raise ImageInputError(f"{path}: values from {lo:g} to {hi:g}; an image holds values in [0, 1] "
                              "or [0, 255]")
    return (arr / 255.0 if hi > 1.0 else arr)[None]


def _read_picture(path: str, channels: int) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading image files needs Pillow: pip install 'striate[images]'") from None
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "P"):  # transparent parts become the background (white)
                img = img.convert("RGBA")
                white = Image.new("RGBA", img.size, (255, 255, 255, 255))
                img = Image.alpha_composite(white, img)
            img = img.convert("L" if channels == 1 else "RGB")
            arr = np.asarray(img, dtype=np.float32) / 255.0
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise ImageInputError(f"cannot read image {path}: {e}") from None
    return arr[None, None] if arr.ndim == 2 else arr.transpose(2, 0, 1)[None]
