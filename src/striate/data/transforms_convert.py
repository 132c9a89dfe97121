"""torchvision's conversions between PIL images and tensors (`PILToTensor`, `ToPILImage`,
`ToTensor` of a PIL image), its interpolation names, and `resize` of a PIL image.

torchvision's rules: `to_tensor` turns 8-bit modes (L, RGB, RGBA, P, ...) into float32 / 255
in (C, H, W), keeps 'I' as int32, 'I;16' as int16 and 'F' as float32; `to_pil_image` scales
floats by 255 (truncating) and picks L / LA / RGB / RGBA by the channel count. An int size in
`Resize` is the shorter side: the longer becomes int(size * long / short). Pillow is optional
(`pip install 'striate[images]'`) and imported only when an image is made.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor, wrap
from striate.data.pil import is_pil_image, pil_image_module

__all__ = ["InterpolationMode", "PILToTensor", "ToPILImage", "interpolation_mode", "pil_to_float_tensor",
           "resize_pil", "resized_output_size"]


class InterpolationMode(enum.StrEnum):
    """torchvision's interpolation names; equal to the plain strings ('bilinear', ...)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_FILTERS = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}
_FROM_PIL_INT = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


def interpolation_mode(value: Any) -> InterpolationMode:
    """An InterpolationMode from itself, its name ('bilinear') or a Pillow constant (2)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if int(value) not in _FROM_PIL_INT:
            raise ValueError(f"unknown Pillow interpolation constant {value}; "
                             "use InterpolationMode.BILINEAR, ...")
        return InterpolationMode(_FROM_PIL_INT[int(value)])
    try:
        return InterpolationMode(value)
    except ValueError:
        names = ", ".join(m.value for m in InterpolationMode)
        raise ValueError(f"interpolation must be one of {names} (or InterpolationMode.X), "
                         f"got {value!r}") from None


def _pil_filter(mode: InterpolationMode) -> int:
    if mode.value not in _PIL_FILTERS:
        raise ValueError(f"interpolation {mode.value!r} has no Pillow filter; "
                         "use nearest, bilinear, bicubic, ...")
    return _PIL_FILTERS[mode.value]


def _channels(img: Any) -> int:
    if is_pil_image(img):
        return len(img.getbands())
    return int(img.shape[-3]) if img.ndim >= 3 else 1


# ---------------------------------------------------------------- conversions
_I16 = "I;16" if sys.byteorder == "little" else "I;16B"
_PIL_NUMPY_TYPES = {"I": np.int32, _I16: np.int16, "F": np.float32}


def _pil_array(pic: Any, dtype: Any = None) -> np.ndarray:
    """A PIL image as an (H, W, C) array (torchvision's `to_tensor` dtypes with `dtype`)."""
    arr = np.array(pic, dtype, copy=True)
    return arr.reshape(pic.size[1], pic.size[0], _channels(pic))


def pil_to_float_tensor(pic: Any) -> Tensor:
    """torchvision's `to_tensor` of a PIL image: (C, H, W); 8-bit modes become float32 / 255,
    'I' int32, 'I;16' int16 and 'F' float32 stay as they are; mode '1' is 0 or 1."""
    arr = _pil_array(pic, _PIL_NUMPY_TYPES.get(pic.mode, np.uint8))
    if pic.mode == "1":
        arr = arr * np.uint8(255)
    chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        return wrap(np.divide(chw, np.float32(255), dtype=np.float32), False)
    return wrap(chw, False)


class PILToTensor:
    """A PIL image -> a (C, H, W) tensor of its pixels, dtype unchanged (uint8 for L/RGB/RGBA)."""

    def __call__(self, pic: Any) -> Tensor:
        if not is_pil_image(pic):
            raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
        return wrap(np.ascontiguousarray(_pil_array(pic).transpose(2, 0, 1)), False)

    def __repr__(self) -> str:
        return "PILToTensor()"


class ToPILImage:
    """A (C, H, W) tensor or an (H, W, C) array -> a PIL image (torchvision's `to_pil_image`):
    floats are scaled by 255 and truncated to uint8 (unless mode='F'); 1, 2, 3, 4 channels give
    L, LA, RGB, RGBA; int16 'I;16', int32 'I', float32 'F'."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        image_module = pil_image_module("ToPILImage")
        if isinstance(pic, Tensor):
            arr = pic.array.transpose(1, 2, 0) if pic.ndim == 3 else pic.array
        elif isinstance(pic, np.ndarray):
            arr = pic
        else:
            raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.ndim != 3:
            raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
        if arr.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {arr.shape[-1]} channels; a (C, H, W) "
                             "NumPy array must be transposed to (H, W, C) first")
        if arr.dtype.kind == "f" and self.mode != "F":
            arr = (arr * 255).astype(np.uint8)
        mode = _pil_mode(arr, self.mode)
        if arr.shape[2] == 1:
            arr = arr[:, :, 0]
        size = (arr.shape[1], arr.shape[0])
        return image_module.frombuffer(mode, size, np.ascontiguousarray(arr).tobytes(), "raw", mode, 0, 1)

    def __repr__(self) -> str:
        return "ToPILImage(" + (f"mode={self.mode}" if self.mode is not None else "") + ")"


def _pil_mode(arr: np.ndarray, mode: str | None) -> str:
    channels = arr.shape[2]
    if channels == 1:
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): _I16,
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(arr.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {arr.dtype}. "
                             f"Should be {expected}")
        mode = expected
    else:
        permitted = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {channels}-channel inputs")
        if mode is None and arr.dtype == np.uint8:
            mode = permitted[0]
    if mode is None:
        raise TypeError(f"Input type {arr.dtype} is not supported")
    return mode


def resize_pil(img: Any, size: Sequence[int] | int, interpolation: Any = "bilinear",
               max_size: int | None = None) -> Any:
    """torchvision's `resize` of a PIL image: an int (or [int]) is the shorter side (the longer one
    int(size * long / short), at most `max_size`); Pillow resamples (always antialiased)."""
    height, width = img.size[1], img.size[0]
    out_h, out_w = resized_output_size(height, width, size, max_size)
    if (out_h, out_w) == (height, width):
        return img
    return img.resize((out_w, out_h), _pil_filter(interpolation_mode(interpolation)))


def resized_output_size(height: int, width: int, size: Sequence[int] | int,
                        max_size: int | None = None) -> tuple[int, int]:
    """torchvision's `_compute_resized_output_size`."""
    if isinstance(size, (int, np.integer)):
        size = [int(size)]
    size = [int(s) for s in size]
    if len(size) == 2:
        if max_size is not None:
            raise ValueError("max_size should only be passed if size specifies the length of the "
                             "smaller edge")
        return size[0], size[1]
    if len(size) != 1 or size[0] <= 0:
        raise ValueError(f"size must be a positive int or a 1 or 2 element sequence, got {size}")
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size[0], int(size[0] * long / short)
    if max_size is not None:
        if max_size <= size[0]:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size "
                             "for the "
                             f"smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    return new_h, new_w
