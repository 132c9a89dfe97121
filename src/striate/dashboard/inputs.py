"""Images sent by the page (the drawing pad's pixels, or an uploaded file), decoded safely and
prepared exactly as the run's training inputs (size, normalisation)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

MAX_PAD_SIDE = 64
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_PIXELS = 4096 * 4096  # decoded size limit (a small file can decode huge: "zip bomb")
NATIVE_SIDE = {"digits": 8, "mnist": 28, "fashion_mnist": 28, "fashion-mnist": 28, "cifar10": 32}


class InputError(ValueError):
    """An image the dashboard refuses; the message says why."""


def pad_pixels(body: Any, channels: int) -> np.ndarray:
    """{"width": w, "height": h, "pixels": [w*h values in 0..1]} -> (1, C, h, w) float32."""
    if not isinstance(body, dict):
        raise InputError("send {\"width\": w, \"height\": h, \"pixels\": [...]} ")
    w, h, pixels = body.get("width"), body.get("height"), body.get("pixels")
    if not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_PAD_SIDE for v in (w, h)):
        raise InputError(f"width and height must be whole numbers from 1 to {MAX_PAD_SIDE}")
    if not isinstance(pixels, list) or len(pixels) != w * h:
        raise InputError(f"pixels must be a list of width*height = {w * h} numbers")
    try:
        arr = np.asarray(pixels, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("pixels must be numbers in 0..1") from None
    if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
        raise InputError("pixels must be numbers in 0..1")
    img = arr.reshape(1, 1, h, w).astype(np.float32)
    return np.repeat(img, channels, axis=1)


def uploaded_image(data: bytes, channels: int, side: int) -> np.ndarray:
    """An uploaded PNG/JPEG/... (Pillow, size-checked before decoding) -> (1, C, side, side)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"the image is larger than {MAX_UPLOAD_BYTES // 1024} KiB")
    try:
        from PIL import Image
    except ImportError:
        raise InputError("classifying uploaded images needs Pillow: pip install 'striate[images]'") from None
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size  # read from the header, nothing decoded yet
        if w * h > MAX_UPLOAD_PIXELS:
            raise InputError(f"the image is {w}x{h} pixels; at most {MAX_UPLOAD_PIXELS} pixels are accepted")
        img = img.convert("L" if channels == 1 else "RGB").resize((side, side))
    except InputError:
        raise
    except Image.DecompressionBombError:
        raise InputError("the image is too large to decode safely") from None
    except Exception as e:  # Pillow raises many types for broken files
        raise InputError(f"cannot decode the upload as an image ({type(e).__name__})") from None
    arr = np.asarray(img, dtype=np.float32) / 255.0
    return arr[None, None] if arr.ndim == 2 else arr.transpose(2, 0, 1)[None]


def prepare(x: np.ndarray, config: dict[str, Any]) -> np.ndarray:
    """Bring a [0, 1] image to the run's input: its side (as in training) and normalisation."""
    from striate.train.runs import fit_side

    side = int(config.get("input_side") or x.shape[-1])
    x = fit_side(np.ascontiguousarray(x, np.float32), side)
    mean = np.asarray(config.get("mean") or [0.0], np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(config.get("std") or [1.0], np.float32).reshape(1, -1, 1, 1)
    return ((x - mean) / std).astype(np.float32)


def native_side(config: dict[str, Any]) -> int:
    """The dataset's own image size (the drawing pad is reduced to it, then resized as in training)."""
    return NATIVE_SIDE.get(str(config.get("dataset")), int(config.get("input_side") or 28))
