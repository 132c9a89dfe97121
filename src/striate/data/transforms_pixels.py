"""torchvision's `RandomGrayscale`, `GaussianBlur`, `RandomErasing` and `ConvertImageDtype`, on PIL
images and (..., C, H, W) tensors, with torchvision's random draws and numbers.

Draws (torchvision 0.2x `transforms.py`, in its order, from striate's PyTorch-stream generator):
    RandomGrayscale  torch.rand(1) < p
    GaussianBlur     sigma = torch.empty(1).uniform_(sigma_min, sigma_max)   (also for a fixed sigma)
    RandomErasing    torch.rand(1) < p, then up to 10 tries of
                     uniform_(scale) * area, exp(uniform_(log ratio)), [normal_ (C, h, w) for
                     value='random'], randint(0, H - h + 1), randint(0, W - w + 1)
so after `st.manual_seed(n)` each picks what torchvision picks after `torch.manual_seed(n)`.

Gaussian blur (torchvision's `_functional_tensor.gaussian_blur`): the 1-D kernel
g(x) = exp(-x^2 / (2 sigma^2)) / sum, x = -(k-1)/2 .. (k-1)/2, in float32; the image is padded
by k // 2 with reflection (no edge repeat: ... c b | a b c ... ) and convolved with
g_y g_x^T. striate applies the two 1-D passes one after the other (the same sum, ordered
differently: float images agree with torchvision's to float32 rounding; integer images are
rounded half to even as `torch.round` does, so a value within 1e-6 of .5 may round the other way).
PIL images go through uint8 arrays, as torchvision's `pil_to_tensor` / `to_pil_image` do.

ConvertImageDtype (`convert_image_dtype`): int -> float divides by the int type's maximum,
float -> int multiplies by (max + 1 - 0.001) and truncates, int -> int shifts by whole bits.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor, wrap
from striate.creation import empty, rand, randint
from striate.data.pil import is_pil_image, pil_image_module
from striate.data.transforms_convert import _channels
from striate.data.transforms_vision import (
    Grayscale,
    _check_image,
    _generator,
    _RandomTransform,
    _uniform,
    area_and_aspect,
)
from striate.random import Generator

__all__ = ["ConvertImageDtype", "GaussianBlur", "RandomErasing", "RandomGrayscale", "convert_image_dtype",
           "gaussian_blur", "gaussian_kernel1d"]


def _coin(p: float, generator: Generator | None) -> bool:
    """`torch.rand(1) < p`: a float32 draw compared in float32."""
    return bool(np.float32(rand(1, generator=generator).item()) < np.float32(p))


def _pixels(img: Any) -> np.ndarray:
    return img.array if isinstance(img, Tensor) else np.asarray(img)


def _like(img: Any, out: np.ndarray) -> Any:
    """`out` as the kind of `img` (Tensor or array)."""
    return wrap(np.ascontiguousarray(out), False) if isinstance(img, Tensor) else out


# ---------------------------------------------------------------- RandomGrayscale
class RandomGrayscale(_RandomTransform):
    """With probability p, grey (0.2989 R + 0.587 G + 0.114 B; Pillow's 'L' for PIL images) with as
    many channels as the input had (torchvision's `RandomGrayscale`)."""

    def __init__(self, p: float = 0.1) -> None:
        self.p = p

    def __call__(self, img: Any, rng: Any = None) -> Any:
        _check_image(img, "RandomGrayscale")
        channels = _channels(img)
        if _coin(self.p, _generator(rng)):
            return Grayscale(num_output_channels=channels)(img)
        return img

    def __repr__(self) -> str:
        return f"RandomGrayscale(p={self.p})"


# ---------------------------------------------------------------- GaussianBlur
def gaussian_kernel1d(kernel_size: int, sigma: float) -> np.ndarray:
    """torchvision's `_get_gaussian_kernel1d`: float32 samples of exp(-x^2 / 2 sigma^2), summing to 1."""
    half = (kernel_size - 1) * 0.5
    x = np.linspace(-half, half, kernel_size, dtype=np.float32)
    pdf = np.exp(np.float32(-0.5) * (x / np.float32(sigma)) ** 2)
    return pdf / pdf.sum(dtype=np.float32)


def _reflect_check(img: np.ndarray, kx: int, ky: int) -> None:
    if kx // 2 >= img.shape[-1] or ky // 2 >= img.shape[-2]:
        raise ValueError(f"GaussianBlur: kernel size ({kx}, {ky}) needs an image larger than its half-width "
                         f"for reflection padding; the image is {img.shape[-1]}x{img.shape[-2]} (W x H)")


def gaussian_blur(img: np.ndarray, kernel_size: Sequence[int], sigma: Sequence[float]) -> np.ndarray:
    """Blur (..., C, H, W) pixels with the (kx, ky) Gaussian of standard deviations (sx, sy)."""
    kx, ky = (int(k) for k in kernel_size)
    _reflect_check(img, kx, ky)
    dt = img.dtype if img.dtype.kind == "f" else np.dtype(np.float32)
    x = img.astype(dt, copy=False)
    out = None
    for axis, k, s in ((-2, ky, sigma[1]), (-1, kx, sigma[0])):
        g = gaussian_kernel1d(k, s).astype(dt)
        pad = [(0, 0)] * x.ndim
        pad[axis] = (k // 2, k // 2)
        padded = np.pad(x if out is None else out, pad, mode="reflect")
        n = x.shape[axis]
        out = sum(g[i] * (padded[..., i:i + n, :] if axis == -2 else padded[..., i:i + n]) for i in range(k))
    if img.dtype.kind != "f":
        info = np.iinfo(img.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(img.dtype)


def _setup_size(size: Any, what: str) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(what)
    return int(size[0]), int(size[1])


class GaussianBlur(_RandomTransform):
    """Blur with a Gaussian whose sigma is drawn uniformly from `sigma` = (min, max) (or fixed), with
    odd `kernel_size` (kx, ky) and reflection at the borders (torchvision's `GaussianBlur`)."""

    def __init__(self, kernel_size: int | Sequence[int], sigma: float | Sequence[float] = (0.1, 2.0)) -> None:
        self.kernel_size = _setup_size(kernel_size, "Kernel size should be a tuple/list of two integers")
        if any(k <= 0 or k % 2 == 0 for k in self.kernel_size):
            raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (float(sigma), float(sigma))
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.sigma = sigma

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float, generator: Generator | None = None) -> float:
        return _uniform(sigma_min, sigma_max, generator)

    def __call__(self, img: Any, rng: Any = None) -> Any:
        _check_image(img, "GaussianBlur")
        sigma = self.get_params(self.sigma[0], self.sigma[1], _generator(rng))
        if not is_pil_image(img):
            return _like(img, gaussian_blur(_pixels(img), self.kernel_size, [sigma, sigma]))
        arr = np.asarray(img)
        chw = arr[None] if arr.ndim == 2 else np.moveaxis(arr, -1, 0)
        blurred = gaussian_blur(chw, self.kernel_size, [sigma, sigma])
        out = blurred[0] if arr.ndim == 2 else np.moveaxis(blurred, 0, -1)
        result = pil_image_module("GaussianBlur").fromarray(np.ascontiguousarray(out))
        return result if result.mode == img.mode else result.convert(img.mode)

    def __repr__(self) -> str:
        return f"GaussianBlur(kernel_size={self.kernel_size}, sigma={self.sigma})"


# ---------------------------------------------------------------- RandomErasing
def _cast_into(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Values assigned into an array of `dtype` as PyTorch casts them (floats to ints: truncate
    toward zero, then wrap around, as `tensor.byte()` does)."""
    if dtype.kind == "f" or values.dtype.kind != "f":
        return values.astype(dtype)
    return np.trunc(values).astype(np.int64).astype(dtype)


class RandomErasing(_RandomTransform):
    """With probability p, set a random rectangle of a (..., C, H, W) tensor to `value` (a number, one
    per channel, or 'random': standard normal noise) - Zhong et al.'s Random Erasing. Its area is
    drawn from `scale` x the image's and its aspect ratio from `ratio` (log-uniform); after 10 misses
    the image is left as it is. `inplace=True` writes into the given tensor."""

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3),
                 value: Any = 0, inplace: bool = False) -> None:
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, Sequence) or not isinstance(ratio, Sequence):
            raise TypeError("Scale and ratio should be sequences (min, max)")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, inplace

    @staticmethod
    def get_params(img: Any, scale: Sequence[float], ratio: Sequence[float], value: list[float] | None = None,
                   generator: Generator | None = None) -> tuple[int, int, int, int, Any]:
        """(top, left, h, w, fill): torchvision's draws; the whole image and itself after 10 misses."""
        img_c, img_h, img_w = (int(s) for s in img.shape[-3:])
        area = img_h * img_w
        log_ratio = np.log(np.asarray(ratio, np.float32))  # torch.log(torch.tensor(ratio)): float32
        for _ in range(10):
            erase_area, aspect_ratio = area_and_aspect(area, scale, log_ratio, generator)
            h = int(round(math.sqrt(erase_area * aspect_ratio)))
            w = int(round(math.sqrt(erase_area / aspect_ratio)))
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                fill = empty(img_c, h, w).normal_(generator=generator).array
            else:
                fill = np.asarray(value, np.float32)[:, None, None]
            i = int(randint(0, img_h - h + 1, size=(1,), generator=generator).item())
            j = int(randint(0, img_w - w + 1, size=(1,), generator=generator).item())
            return i, j, h, w, fill
        return 0, 0, img_h, img_w, img

    def __call__(self, img: Any, rng: Any = None) -> Any:
        if is_pil_image(img) or not isinstance(img, (Tensor, np.ndarray)):
            raise TypeError(f"RandomErasing works on (..., C, H, W) tensors, got {type(img).__name__}; "
                            "put it after ToTensor() (or PILToTensor())")
        if img.ndim < 3:
            raise ValueError(f"RandomErasing expects an image (..., C, H, W), got shape {tuple(img.shape)}")
        generator = _generator(rng)
        if not _coin(self.p, generator):
            return img
        value = None if isinstance(self.value, str) else (
            [float(self.value)] if isinstance(self.value, numbers.Number) else list(self.value))
        if value is not None and len(value) not in (1, img.shape[-3]):
            raise ValueError("If value is a sequence, it should have either a single value or "
                             f"{img.shape[-3]} (number of input channels)")
        i, j, h, w, fill = self.get_params(img, self.scale, self.ratio, value, generator)
        if fill is img:
            return img
        pixels = _pixels(img)
        out = pixels if self.inplace else pixels.copy()
        out[..., i:i + h, j:j + w] = _cast_into(fill, pixels.dtype)
        return img if self.inplace else _like(img, out)

    def __repr__(self) -> str:
        return (f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio}, value={self.value}, "
                f"inplace={self.inplace})")


# ---------------------------------------------------------------- ConvertImageDtype
def _numpy_dtype(dtype: Any) -> np.dtype:
    """A NumPy dtype from striate's or NumPy's dtype objects (or their names)."""
    for candidate in (dtype, str(dtype).rpartition(".")[2]):  # st.float32, np.uint8, "striate.float32"
        try:
            return np.dtype(candidate)
        except TypeError:
            continue
    raise TypeError(f"ConvertImageDtype: {dtype!r} is not a dtype; use st.float32, st.uint8, st.int16, ...")


def _max_value(dtype: np.dtype) -> float:
    return 1.0 if dtype.kind == "f" else float(np.iinfo(dtype).max)


def convert_image_dtype(image: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """torchvision's `convert_image_dtype` on pixels (see the module docstring)."""
    if image.dtype == dtype:
        return image
    if image.dtype.kind == "f":
        if dtype.kind == "f":
            return image.astype(dtype)
        if (image.dtype == np.float32 and dtype in (np.int32, np.int64)) or (
                image.dtype == np.float64 and dtype == np.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed safely.")
        scaled = image * image.dtype.type(_max_value(dtype) + 1.0 - 1e-3)
        return _cast_into(scaled, dtype)
    input_max = _max_value(image.dtype)
    if dtype.kind == "f":
        return image.astype(dtype) / dtype.type(input_max)
    output_max = _max_value(dtype)
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return (image // factor).astype(dtype)
    factor = int((output_max + 1) // (input_max + 1))
    return image.astype(dtype) * dtype.type(factor)


class ConvertImageDtype:
    """Convert a tensor image to `dtype`, rescaling the values (torchvision's `ConvertImageDtype`):
    uint8 0..255 <-> float 0..1, and between integer widths by whole bits."""

    batched = True

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype
        self._np_dtype = _numpy_dtype(dtype)

    def __call__(self, image: Any, rng: Any = None) -> Any:
        if is_pil_image(image) or not isinstance(image, (Tensor, np.ndarray)):
            raise TypeError(f"ConvertImageDtype expects a tensor image, got {type(image).__name__}; use "
                            "PILToTensor() first")
        return _like(image, convert_image_dtype(_pixels(image), self._np_dtype))

    def __repr__(self) -> str:
        return f"ConvertImageDtype(dtype={self.dtype})"
