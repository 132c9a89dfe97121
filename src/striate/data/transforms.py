"""Image transforms and augmentation, torchvision's names, on one image or a whole batch.

(Over 400 lines on purpose: like `torchvision.transforms`, one namespace holds every transform,
so a user finds each one where PyTorch code imports it; each class is short.)

Every transform takes a CxHxW image or an NCHW batch (NumPy array or striate Tensor; the same
kind comes back) and keeps the float dtype (float32 stays float32). On a batch, random
transforms draw independently for every image, in one vectorised step; a single image is
treated as a batch of one, so `t(x, rng=g)` equals `t(x[None], rng=g)[0]`.

Randomness: `t(x, rng=generator)` uses that NumPy generator (the DataLoader passes one derived
from its seed, the epoch and the batch number, so training resumes exactly and background
prefetching cannot change the numbers); otherwise a transform built with `seed=` uses its own
generator, and one without uses striate's global generator (`st.manual_seed`).

    >>> import striate.data.transforms as T
    >>> augment = T.Compose([T.RandomCrop(32, padding=2), T.RandomHorizontalFlip(),
    ...                      T.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26))])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor, wrap
from striate.data.pil import is_pil_image
from striate.data.transforms_convert import (
    interpolation_mode,
    pil_to_float_tensor,
    resize_pil,
    resized_output_size,
)
from striate.random import default_generator

__all__ = ["Transform", "Compose", "Lambda", "ToTensor", "ToFloat", "Normalize", "RandomHorizontalFlip",
           "RandomVerticalFlip", "Pad", "RandomCrop", "CenterCrop", "Resize", "GaussianNoise",
           "ElasticDistortion"]


def _pair(size: int | Sequence[int], what: str) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        pair = (int(size), int(size))
    else:
        size = tuple(int(s) for s in size)
        if len(size) == 1:
            pair = (size[0], size[0])
        elif len(size) == 2:
            pair = (size[0], size[1])
        else:
            raise ValueError(f"{what} must be an int or an (height, width) pair, got {size}")
    if min(pair) <= 0:
        raise ValueError(f"{what} must be positive, got {pair}")
    return pair


def _padding4(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    """torchvision's padding forms -> (left, top, right, bottom)."""
    if isinstance(padding, (int, np.integer)):
        p = int(padding)
        out = (p, p, p, p)
    else:
        pad = [int(v) for v in padding]
        if len(pad) == 1:
            out = (pad[0],) * 4
        elif len(pad) == 2:
            out = (pad[0], pad[1], pad[0], pad[1])
        elif len(pad) == 4:
            out = tuple(pad)  # type: ignore[assignment]
        else:
            raise ValueError(f"padding must be an int or a sequence of 1, 2 or 4 ints, got {padding}")
    if min(out) < 0:
        raise ValueError(f"padding must be non-negative, got {padding}")
    return out  # type: ignore[return-value]


_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric",
              "replicate": "edge"}


def _pad(x: np.ndarray, lrtb: tuple[int, int, int, int], fill: float, mode: str) -> np.ndarray:
    left, top, right, bottom = lrtb
    if not any(lrtb):
        return x
    width = ((0, 0), (0, 0), (top, bottom), (left, right))
    if mode == "constant":
        return np.pad(x, width, mode="constant", constant_values=np.asarray(fill, dtype=x.dtype))
    return np.pad(x, width, mode=_PAD_MODES[mode])


class Transform:
    """Base class: subclasses implement `apply(batch NCHW, rng) -> batch NCHW`."""

    batched = True          # works on a whole NCHW batch in one call (the DataLoader relies on it)
    random = False
    needs_float = False

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def generator(self, rng: np.random.Generator | None = None) -> np.random.Generator:
        if rng is not None:
            return rng
        return self._rng if self._rng is not None else default_generator()

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise TypeError(f"{type(self).__name__} must implement apply(x, rng)")

    def __call__(self, x: Any, rng: np.random.Generator | None = None) -> Any:
        was_tensor = isinstance(x, Tensor)
        arr = x.array if was_tensor else np.asarray(x)
        if arr.ndim not in (3, 4):
            raise ValueError(f"{type(self).__name__} expects an image CxHxW or a batch NxCxHxW, got shape "
                             f"{arr.shape}")
        if self.needs_float and arr.dtype.kind != "f":
            raise TypeError(f"{type(self).__name__} expects float images, got {arr.dtype}; put ToFloat() "
                            "(or ToTensor()) first")
        single = arr.ndim == 3
        out = self.apply(arr[None] if single else arr, self.generator(rng) if self.random else None)
        if single:
            out = out[0]
        return wrap(np.ascontiguousarray(out), False) if was_tensor else out

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class Compose:
    """Apply transforms in order: `Compose([RandomCrop(32, 2), Normalize(m, s)])`."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    @property
    def batched(self) -> bool:
        return all(getattr(t, "batched", False) for t in self.transforms)

    def __call__(self, x: Any, rng: np.random.Generator | None = None) -> Any:
        for t in self.transforms:
            takes_rng = getattr(t, "batched", False) or getattr(t, "takes_rng", False)
            x = t(x, rng=rng) if takes_rng else t(x)
        return x

    def __repr__(self) -> str:
        body = "".join("\n    " + repr(t).replace("\n", "\n    ") for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class Lambda:
    """Wrap a function as a transform; `batched=True` promises it also works on NCHW batches."""

    def __init__(self, fn: Callable, batched: bool = False) -> None:
        self.fn = fn
        self.batched = batched

    def __call__(self, x: Any, rng: np.random.Generator | None = None) -> Any:
        return self.fn(x)

    def __repr__(self) -> str:
        return f"Lambda({getattr(self.fn, '__name__', repr(self.fn))})"


class ToTensor:
    """torchvision's `ToTensor`: an HxWxC uint8 image (NumPy array or PIL image) becomes a
    CxHxW float32 Tensor in [0, 1] (`x / 255`). striate's datasets already return float CxHxW
    images, which pass through unchanged (as float32), so torchvision pipelines that begin with
    `ToTensor()` run as they are. An NxHxWxC uint8 batch becomes NCHW."""

    batched = True

    def __call__(self, x: Any, rng: np.random.Generator | None = None) -> Any:
        if is_pil_image(x):  # torchvision's rules for every PIL mode (issue 21)
            return pil_to_float_tensor(x)
        if isinstance(x, Tensor):
            arr = x.array
        else:
            arr = np.asarray(x)
        if arr.dtype.kind == "f":
            return wrap(np.asarray(arr, dtype=np.float32), False)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.ndim not in (3, 4):
            raise ValueError(f"ToTensor expects an HxWxC image or an NxHxWxC batch, got shape {arr.shape}")
        scale = np.float32(255) if arr.dtype == np.uint8 else np.float32(1)
        chw = np.divide(np.moveaxis(arr, -1, -3), scale, dtype=np.float32)
        return wrap(np.ascontiguousarray(chw), False)

    def __repr__(self) -> str:
        return "ToTensor()"


class ToFloat(Transform):
    """Integer pixels -> float32 divided by `scale` (255 for uint8); float images just become
    float32. Layout is unchanged (CxHxW / NCHW)."""

    def __init__(self, scale: float = 255.0) -> None:
        super().__init__()
        self.scale = float(scale)

    def apply(self, x: np.ndarray, rng: Any) -> np.ndarray:
        if x.dtype.kind == "f":
            return x.astype(np.float32, copy=False)
        return np.divide(x, np.float32(self.scale), dtype=np.float32)

    def extra_repr(self) -> str:
        return f"scale={self.scale:g}"


class Normalize(Transform):
    """Per channel: output[c] = (input[c] - mean[c]) / std[c] (torchvision's order of
    operations, so float32 results are identical)."""

    needs_float = True

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float, inplace: bool = False
                 ) -> None:
        super().__init__()
        self.mean = tuple(float(m) for m in np.atleast_1d(mean))
        self.std = tuple(float(s) for s in np.atleast_1d(std))
        if any(s == 0 for s in self.std):
            raise ValueError(f"std evaluated to zero in {self.std}, leading to division by zero")
        self.inplace = inplace

    def apply(self, x: np.ndarray, rng: Any) -> np.ndarray:
        c = x.shape[1]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if len(v) not in (1, c):
                raise ValueError(f"Normalize has {len(v)} {name} values for images with {c} channels")
        mean = np.asarray(self.mean, dtype=x.dtype).reshape(1, -1, 1, 1)
        std = np.asarray(self.std, dtype=x.dtype).reshape(1, -1, 1, 1)
        if self.inplace and x.flags.writeable:
            np.subtract(x, mean, out=x)
            return np.divide(x, std, out=x)
        return (x - mean) / std

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


class RandomHorizontalFlip(Transform):
    """Mirror left-right with probability `p`, independently for every image."""

    random = True
    axis = 3

    def __init__(self, p: float = 0.5, seed: int | None = None) -> None:
        super().__init__(seed)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.p = float(p)

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        flip = rng.random(len(x)) < self.p
        out = x.copy()
        if flip.any():
            out[flip] = np.flip(x[flip], axis=self.axis)
        return out

    def extra_repr(self) -> str:
        return f"p={self.p}"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability `p`, independently for every image."""

    axis = 2


class Pad(Transform):
    """Pad the borders: `padding` int (all sides), (left/right, top/bottom) or (left, top,
    right, bottom); `padding_mode` 'constant' (with `fill`), 'edge', 'reflect' or 'symmetric'."""

    def __init__(self, padding: int | Sequence[int], fill: float = 0, padding_mode: str = "constant") -> None:
        super().__init__()
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"padding_mode must be one of {sorted(_PAD_MODES)}, got {padding_mode!r}")
        self.padding = padding
        self.lrtb = _padding4(padding)
        self.fill = fill
        self.padding_mode = padding_mode

    def apply(self, x: np.ndarray, rng: Any) -> np.ndarray:
        return _pad(x, self.lrtb, self.fill, self.padding_mode)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode}"


def _crop_windows(x: np.ndarray, top: np.ndarray, left: np.ndarray, h: int, w: int) -> np.ndarray:
    """Crop image n at (top[n], left[n]) to h x w, for all n at once (one gather, no loop)."""
    windows = np.lib.stride_tricks.sliding_window_view(x, (h, w), axis=(2, 3))  # N,C,H-h+1,W-w+1,h,w
    return windows[np.arange(len(x)), :, top, left]                               # N,C,h,w


class RandomCrop(Transform):
    """Pad by `padding`, then cut a `size` window at a random place, per image.

    `RandomCrop(32, padding=2)` on 32x32 images shifts the content by -2..+2 pixels in each
    direction, filling with zeros: ConvNetJS's CIFAR-10 augmentation."""

    random = True

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] | None = None,
                 pad_if_needed: bool = False, fill: float = 0, padding_mode: str = "constant",
                 seed: int | None = None) -> None:
        super().__init__(seed)
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"padding_mode must be one of {sorted(_PAD_MODES)}, got {padding_mode!r}")
        self.size = _pair(size, "size")
        self.padding = padding
        self.lrtb = _padding4(padding) if padding is not None else (0, 0, 0, 0)
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        x = _pad(x, self.lrtb, self.fill, self.padding_mode)
        th, tw = self.size
        H, W = x.shape[2:]
        if self.pad_if_needed and (th > H or tw > W):
            dh, dw = max(th - H, 0), max(tw - W, 0)
            x = _pad(x, (dw, dh, dw, dh), self.fill, self.padding_mode)
            H, W = x.shape[2:]
        if th > H or tw > W:
            raise ValueError(f"RandomCrop size {self.size} is larger than the (padded) image {H}x{W}; "
                             "pass padding= or pad_if_needed=True")
        top = rng.integers(0, H - th + 1, size=len(x))
        left = rng.integers(0, W - tw + 1, size=len(x))
        return _crop_windows(x, top, left, th, tw)

    def extra_repr(self) -> str:
        return f"size={self.size}, padding={self.padding}"


class CenterCrop(Transform):
    """Cut the central `size` window (torchvision's rounding: top = round((H - h) / 2))."""

    def __init__(self, size: int | Sequence[int]) -> None:
        super().__init__()
        self.size = _pair(size, "size")

    def apply(self, x: np.ndarray, rng: Any) -> np.ndarray:
        th, tw = self.size
        H, W = x.shape[2:]
        if th > H or tw > W:
            x = _pad(x, (max(tw - W, 0) // 2, max(th - H, 0) // 2, (max(tw - W, 0) + 1) // 2,
                         (max(th - H, 0) + 1) // 2), 0, "constant")
            H, W = x.shape[2:]
        top, left = int(round((H - th) / 2.0)), int(round((W - tw) / 2.0))
        return x[:, :, top:top + th, left:left + tw].copy()

    def extra_repr(self) -> str:
        return f"size={self.size}"


@functools.lru_cache(maxsize=64)
def _resize_matrix(n_in: int, n_out: int, antialias: bool) -> np.ndarray:
    """(n_out, n_in) interpolation weights of the triangle (bilinear) filter.

    Output pixel i has centre c = (i + 0.5) * n_in / n_out in input coordinates; input pixel j
    (centre j + 0.5) gets weight tri((j + 0.5 - c) / s), tri(t) = max(0, 1 - |t|), normalised
    to sum 1 over the pixels inside the image. s = 1 is PyTorch's bilinear interpolation with
    align_corners=False (borders clamped); with antialias and downscaling, s = n_in / n_out
    widens the filter over every input pixel the output covers (PIL's and torchvision's
    antialiased resize)."""
    scale = n_in / n_out
    support = scale if (antialias and scale > 1.0) else 1.0
    centres = (np.arange(n_out, dtype=np.float64) + 0.5) * scale
    j = np.arange(n_in, dtype=np.float64) + 0.5
    weights = np.clip(1.0 - np.abs(j[None, :] - centres[:, None]) / support, 0.0, None)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def _nearest_index(n_in: int, n_out: int) -> np.ndarray:
    """PyTorch's 'nearest': source index floor(i * n_in / n_out), the scale in float32."""
    src = np.floor(np.arange(n_out, dtype=np.float32) * np.float32(n_in / n_out)).astype(np.int64)
    return np.minimum(src, n_in - 1)


class Resize(Transform):
    """Resize to `size`: an (h, w) pair, or an int that the shorter side becomes (keeping the
    aspect ratio, torchvision's rule). `interpolation` 'bilinear' (PyTorch's align_corners=False
    weights, antialiased when shrinking) or 'nearest' (index floor(i * in / out)).
    A PIL image is resized by Pillow as torchvision does (any `InterpolationMode`, `max_size`).

    Bilinear resizing is two small matrix products, out = R_h @ x @ R_w^T, for the whole batch:
    8x8 digits -> 32x32 for LeNet-5 is `Resize(32)`."""

    def __init__(self, size: int | Sequence[int], interpolation: Any = "bilinear",
                 max_size: int | None = None, antialias: bool = True) -> None:
        super().__init__()
        self.pil_interpolation = interpolation_mode(interpolation)
        interpolation = self.pil_interpolation.value
        self.max_size = max_size
        self.size = size
        self.interpolation = interpolation
        self.antialias = antialias
        self.needs_float = interpolation == "bilinear"

    def __call__(self, x: Any, rng: np.random.Generator | None = None) -> Any:
        if is_pil_image(x):
            return resize_pil(x, self.size, self.pil_interpolation, self.max_size)
        if self.interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"Resize of arrays and tensors supports 'bilinear' and 'nearest', got "
                             f"{self.interpolation!r} (other filters work on PIL images)")
        return super().__call__(x, rng)

    def output_size(self, H: int, W: int) -> tuple[int, int]:
        if isinstance(self.size, (int, np.integer)) or len(self.size) == 1:
            return resized_output_size(H, W, self.size, self.max_size)
        return _pair(self.size, "size")

    def apply(self, x: np.ndarray, rng: Any) -> np.ndarray:
        H, W = x.shape[2:]
        oh, ow = self.output_size(H, W)
        if (oh, ow) == (H, W):
            return x.copy()
        if self.interpolation == "nearest":
            iy, ix = _nearest_index(H, oh), _nearest_index(W, ow)
            return x[:, :, iy[:, None], ix[None, :]]
        ry = _resize_matrix(H, oh, self.antialias).astype(x.dtype, copy=False)
        rx = _resize_matrix(W, ow, self.antialias).astype(x.dtype, copy=False)
        return np.matmul(np.matmul(ry, x), rx.T)

    def extra_repr(self) -> str:
        return f"size={self.size}, interpolation={self.interpolation}, antialias={self.antialias}"


class GaussianNoise(Transform):
    """Jitter (seed 001): x + eps, eps ~ N(mean, std^2 I), drawn afresh for every image and
    call; `clip=(lo, hi)` keeps the result in a range."""

    random = True
    needs_float = True

    def __init__(self, std: float = 0.1, mean: float = 0.0, clip: tuple[float, float] | None = None,
                 seed: int | None = None) -> None:
        super().__init__(seed)
        if std < 0:
            raise ValueError(f"std must be non-negative, got {std}")
        self.std = float(std)
        self.mean = float(mean)
        self.clip = clip

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        noise = rng.standard_normal(x.shape, dtype=dtype)
        out = x + (noise * x.dtype.type(self.std) + x.dtype.type(self.mean)).astype(x.dtype, copy=False)
        if self.clip is not None:
            np.clip(out, self.clip[0], self.clip[1], out=out)
        return out

    def extra_repr(self) -> str:
        clip = f", clip={self.clip}" if self.clip is not None else ""
        return f"std={self.std}, mean={self.mean}{clip}"


@functools.lru_cache(maxsize=64)
def _gaussian_matrix(n: int, sigma: float) -> np.ndarray:
    """(n, n) matrix of a 1-D Gaussian blur of std `sigma` (kernel truncated at 4 sigma,
    normalised, borders mirrored as scipy.ndimage's default 'reflect': d c b a | a b c d)."""
    radius = max(int(math.ceil(4.0 * sigma)), 1)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    rows = np.repeat(np.arange(n), len(offsets))
    cols = (np.arange(n)[:, None] + offsets[None, :]).reshape(-1)
    period = 2 * n
    cols = np.mod(cols, period)
    cols = np.where(cols >= n, period - 1 - cols, cols)
    g = np.zeros((n, n))
    np.add.at(g, (rows, cols), np.tile(kernel, n))
    return g.astype(np.float32)


def _bilinear_sample(x: np.ndarray, sy: np.ndarray, sx: np.ndarray, fill: float) -> np.ndarray:
    """Sample x (N,C,H,W) at real positions (sy, sx) (each N,H,W) bilinearly; outside -> fill."""
    N, C, H, W = x.shape
    y0 = np.floor(sy)
    x0 = np.floor(sx)
    wy = (sy - y0).astype(x.dtype)
    wx = (sx - x0).astype(x.dtype)
    y0 = y0.astype(np.int64)
    x0 = x0.astype(np.int64)
    flat = x.reshape(N, C, H * W)
    out = np.zeros_like(x)
    corners = ((0, 0, (1 - wy) * (1 - wx)), (0, 1, (1 - wy) * wx), (1, 0, wy * (1 - wx)), (1, 1, wy * wx))
    for dy, dx, w in corners:
        yy, xx = y0 + dy, x0 + dx
        inside = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
        idx = (np.clip(yy, 0, H - 1) * W + np.clip(xx, 0, W - 1)).reshape(N, 1, H * W)
        values = np.take_along_axis(flat, idx, axis=2).reshape(N, C, H, W)
        if fill == 0:
            out += values * (w * inside)[:, None]
        else:
            out += np.where(inside[:, None], values, x.dtype.type(fill)) * w[:, None]
    return out


class ElasticDistortion(Transform):
    """Elastic distortion (Simard, Steinkraus & Platt 2003): every pixel moves by
    (dx, dy) = alpha * (G_sigma * U(-1, 1)), a uniform random displacement field smoothed by a
    Gaussian of std `sigma` (in pixels) and scaled by `alpha`; the image is resampled at
    (y + dy, x + dx) bilinearly, `fill` outside. Simard et al. used sigma = 4, alpha = 34 on
    MNIST. Fully vectorised over the batch (the blur is two matrix products per field)."""

    random = True
    needs_float = True

    def __init__(self, alpha: float = 34.0, sigma: float = 4.0, fill: float = 0.0, seed: int | None = None
                 ) -> None:
        super().__init__(seed)
        if sigma <= 0 or alpha < 0:
            raise ValueError(f"need sigma > 0 and alpha >= 0, got sigma={sigma}, alpha={alpha}")
        self.alpha = float(alpha)
        self.sigma = float(sigma)
        self.fill = float(fill)

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        N, _, H, W = x.shape
        field = rng.uniform(-1.0, 1.0, size=(N, 2, H, W)).astype(np.float32)
        gy, gx = _gaussian_matrix(H, self.sigma), _gaussian_matrix(W, self.sigma)
        field = np.matmul(np.matmul(gy, field), gx.T) * np.float32(self.alpha)
        ys = np.arange(H, dtype=np.float32)[:, None]
        xs = np.arange(W, dtype=np.float32)[None, :]
        return _bilinear_sample(x, ys + field[:, 0], xs + field[:, 1], self.fill)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, sigma={self.sigma}"


# torchvision's per-image transforms on PIL images and tensors (issue 21, i21-vision)
from striate.data.transforms_convert import InterpolationMode, PILToTensor, ToPILImage  # noqa: E402
from striate.data.transforms_vision import (  # noqa: E402
    ColorJitter,
    Grayscale,
    RandomAffine,
    RandomResizedCrop,
    RandomRotation,
)

__all__ += ["ColorJitter", "Grayscale", "InterpolationMode", "PILToTensor", "RandomAffine",
            "RandomResizedCrop", "RandomRotation", "ToPILImage"]

# issue 21 (i21-vision2): blur, erasing, random grey, dtype conversion, perspective, random containers
from striate.data.transforms_perspective import RandomPerspective  # noqa: E402
from striate.data.transforms_pixels import (  # noqa: E402
    ConvertImageDtype,
    GaussianBlur,
    RandomErasing,
    RandomGrayscale,
)
from striate.data.transforms_random_apply import RandomApply, RandomChoice, RandomOrder  # noqa: E402

__all__ += ["ConvertImageDtype", "GaussianBlur", "RandomApply", "RandomChoice", "RandomErasing",
            "RandomGrayscale", "RandomOrder", "RandomPerspective"]
