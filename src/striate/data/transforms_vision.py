"""torchvision's per-image transforms on PIL images and (..., C, H, W) tensors, with
torchvision's random draws: `Grayscale`, `RandomRotation`, `RandomAffine`, `ColorJitter`,
`RandomResizedCrop` (conversions and PIL resizing: `transforms_convert`).

Each random transform draws its parameters from striate's global generator with the calls
torchvision makes (`torch.empty(1).uniform_(a, b)`, `torch.randint`, `torch.randperm`), so after
`st.manual_seed(n)` it picks the angle, the crop or the colour factors torchvision picks after
`torch.manual_seed(n)`. On a PIL image the pixel work is Pillow's, called as torchvision calls
it (so the output is torchvision's); tensors are handled by `transforms_vision_tensor`.
Inside striate's DataLoader (through a dataset's `transform`, or `Compose`) the loader passes
its per-batch NumPy generator as `rng=`; the draws then come from a PyTorch-stream generator
seeded from it, so that background prefetching and exact resume keep the numbers (the global
stream, shared with a prefetch thread, would not).
Unlike the batched transforms in `transforms`, one call draws one set of parameters for the
whole input, as torchvision does. Pillow is optional (`pip install 'striate[images]'`).

    >>> import striate.data.transforms as T
    >>> augment = T.Compose([T.RandomRotation(10), T.ColorJitter(0.2, 0.2), T.ToTensor()])
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor
from striate.creation import empty, randint, randperm
from striate.data import transforms_vision_tensor as FT
from striate.data.pil import is_pil_image, pil_image_module
from striate.data.transforms_convert import (
    InterpolationMode,
    _channels,
    _pil_filter,
    interpolation_mode,
    resize_pil,
)
from striate.random import Generator

__all__ = ["ColorJitter", "Grayscale", "RandomAffine", "RandomResizedCrop", "RandomRotation"]


def _uniform(low: float, high: float, generator: Generator | None = None) -> float:
    """`float(torch.empty(1).uniform_(low, high))`: one float32 draw (global generator by default)."""
    return float(empty(1).uniform_(float(low), float(high), generator=generator).item())


def _generator(rng: Any) -> Generator | None:
    """The stream a call draws from: the global one (rng None), a given `st.Generator`, or, for the
    NumPy generator striate's DataLoader passes (one per batch, so that prefetching in a thread
    and resuming keep the numbers), a PyTorch-stream generator seeded from it."""
    if rng is None or isinstance(rng, Generator):
        return rng
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator or a striate Generator, got {type(rng).__name__}")
    generator = Generator()
    generator.manual_seed(int(rng.integers(0, 2**63)))
    return generator


def area_and_aspect(area: int, scale: Any, log_ratio: Any, generator: Any) -> tuple[float, float]:
    """One try of Inception's crop draw, torchvision's order: area x U(scale), exp(U(log ratio))."""
    target_area = area * _uniform(scale[0], scale[1], generator)
    log_aspect = empty(1).uniform_(float(log_ratio[0]), float(log_ratio[1]), generator=generator)
    return target_area, float(np.exp(log_aspect.array)[0])


class _RandomTransform:
    """Called per image, with `rng` from striate's DataLoader or Compose when there is one."""

    batched = False     # one image per call (the loader and Compose pass `rng`, see takes_rng)
    takes_rng = True


def _dims(img: Any) -> tuple[int, int, int]:
    """(channels, height, width) of a PIL image or a (..., C, H, W) tensor."""
    if is_pil_image(img):
        return _channels(img), img.size[1], img.size[0]
    return _channels(img), int(img.shape[-2]), int(img.shape[-1])


def _check_image(img: Any, what: str) -> None:
    if not (is_pil_image(img) or isinstance(img, (Tensor, np.ndarray))):
        raise TypeError(f"{what} expects a PIL image or a (C, H, W) tensor, got {type(img).__name__}")
    if not is_pil_image(img) and img.ndim < 2:
        raise ValueError(f"{what} expects an image (..., C, H, W), got shape {tuple(img.shape)}")


# ---------------------------------------------------------------- colour
class Grayscale:
    """RGB -> grayscale with `num_output_channels` 1 or 3 (Pillow's 'L' conversion for PIL images;
    0.2989 R + 0.587 G + 0.114 B for tensors, torchvision's weights)."""

    def __init__(self, num_output_channels: int = 1) -> None:
        if num_output_channels not in (1, 3):
            raise ValueError("num_output_channels should be either 1 or 3")
        self.num_output_channels = num_output_channels

    def __call__(self, img: Any) -> Any:
        _check_image(img, "Grayscale")
        if not is_pil_image(img):
            return FT.apply(FT.rgb_to_grayscale, img, self.num_output_channels)
        gray = img.convert("L")
        if self.num_output_channels == 1:
            return gray
        return pil_image_module("Grayscale").merge("RGB", (gray, gray, gray))

    def __repr__(self) -> str:
        return f"Grayscale(num_output_channels={self.num_output_channels})"


def _jitter_range(value: Any, name: str, center: float = 1.0, bound: tuple[float, float] = (0, math.inf),
                  clip_first_on_zero: bool = True) -> tuple[float, float] | None:
    """torchvision's ColorJitter._check_input: a number v -> [center - v, center + v]."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        low_high = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            low_high[0] = max(low_high[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        low_high = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= low_high[0] <= low_high[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {low_high}.")
    return None if low_high[0] == low_high[1] == center else (low_high[0], low_high[1])


def _adjust_pil(img: Any, which: int, factor: float) -> Any:
    from PIL import ImageEnhance

    if which == 0:
        return ImageEnhance.Brightness(img).enhance(factor)
    if which == 1:
        return ImageEnhance.Contrast(img).enhance(factor)
    if which == 2:
        return ImageEnhance.Color(img).enhance(factor)
    if img.mode in {"L", "1", "I", "F"}:
        return img
    image_module = pil_image_module("ColorJitter")
    h, s, v = img.convert("HSV").split()
    hue = np.array(h, dtype=np.uint8)
    hue += np.int32(factor * 255).astype(np.uint8)  # wraps around, as intended
    h = image_module.frombuffer("L", h.size, hue.tobytes(), "raw", "L", 0, 1)
    return image_module.merge("HSV", (h, s, v)).convert(img.mode)


class ColorJitter(_RandomTransform):
    """Random brightness, contrast, saturation and hue, applied in a random order (torchvision's
    `ColorJitter`): each factor is drawn uniformly from [max(0, 1 - v), 1 + v] (hue from [-v, v],
    v <= 0.5) or from a given (min, max) pair; the order is `randperm(4)`."""

    def __init__(self, brightness: Any = 0, contrast: Any = 0, saturation: Any = 0, hue: Any = 0) -> None:
        self.brightness = _jitter_range(brightness, "brightness")
        self.contrast = _jitter_range(contrast, "contrast")
        self.saturation = _jitter_range(saturation, "saturation")
        self.hue = _jitter_range(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness: Any, contrast: Any, saturation: Any, hue: Any,
                   generator: Generator | None = None) -> tuple[Any, ...]:
        order = randperm(4, generator=generator)
        ranges = (brightness, contrast, saturation, hue)
        factors = [None if r is None else _uniform(r[0], r[1], generator) for r in ranges]
        return (order, *factors)

    def __call__(self, img: Any, rng: Any = None) -> Any:
        _check_image(img, "ColorJitter")
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation, self.hue,
                                          _generator(rng))
        for which in order.tolist():
            if factors[which] is None:
                continue
            if is_pil_image(img):
                img = _adjust_pil(img, which, factors[which])
            else:
                img = FT.apply(FT.ADJUSTMENTS[which], img, factors[which])
        return img

    def __repr__(self) -> str:
        return (f"ColorJitter(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


# ---------------------------------------------------------------- geometry
def _setup_angle(value: Any, name: str, sizes: tuple[int, ...] = (2,)) -> list[float]:
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return [-float(value), float(value)]
    if not isinstance(value, Sequence) or len(value) not in sizes:
        raise TypeError(f"{name} should be a number or a sequence of length {' or '.join(map(str, sizes))}")
    return [float(v) for v in value]


def _check_fill(fill: Any) -> Any:
    if fill is None:
        return 0
    if not isinstance(fill, (Sequence, numbers.Number)):
        raise TypeError("Fill should be either a sequence or a number.")
    return fill


def _pil_fill(fill: Any, img: Any) -> Any:
    """torchvision's _parse_fill: one value per band, ints unless the mode is 'F'."""
    bands = _channels(img)
    if isinstance(fill, (int, float)) and bands > 1:
        fill = (fill,) * bands
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise ValueError(f"The number of elements in 'fill' does not match the number of channels of the "
                             f"image ({len(fill)} != {bands})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return fill


def inverse_affine_matrix(center: Sequence[float], angle: float, translate: Sequence[float], scale: float,
                          shear: Sequence[float]) -> list[float]:
    """torchvision's `_get_inverse_affine_matrix`: output pixel -> input pixel for
    M = T C R(angle) S(scale) Sh(shear) C^-1 (Pillow's AFFINE convention)."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    (cx, cy), (tx, ty) = center, translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
    matrix[2] += cx
    matrix[5] += cy
    return matrix


def _tensor_fill(fill: Any, channels: int) -> list[float]:
    return [float(fill)] * channels if isinstance(fill, (int, float)) else [float(f) for f in fill]


class RandomRotation(_RandomTransform):
    """Rotate by an angle drawn uniformly from `degrees` ((-d, d) for a number), counter-clockwise,
    about `center` (default: the image centre); `expand=True` enlarges the output to hold the
    whole rotated image; `fill` colours the area outside. `interpolation` NEAREST (default) or
    BILINEAR."""

    def __init__(self, degrees: Any, interpolation: Any = InterpolationMode.NEAREST, expand: bool = False,
                 center: Sequence[float] | None = None, fill: Any = 0) -> None:
        self.degrees = _setup_angle(degrees, "degrees")
        if center is not None and (not isinstance(center, Sequence) or len(center) != 2):
            raise TypeError("center should be a sequence of length 2")
        self.center = center
        self.interpolation = interpolation_mode(interpolation)
        self.expand = expand
        self.fill = _check_fill(fill)

    @staticmethod
    def get_params(degrees: Sequence[float], generator: Generator | None = None) -> float:
        return _uniform(degrees[0], degrees[1], generator)

    def __call__(self, img: Any, rng: Any = None) -> Any:
        _check_image(img, "RandomRotation")
        angle = self.get_params(self.degrees, _generator(rng))
        if is_pil_image(img):
            return img.rotate(angle, _pil_filter(self.interpolation), self.expand, self.center,
                              fillcolor=_pil_fill(self.fill, img))
        channels, height, width = _dims(img)
        center_f = [0.0, 0.0]
        if self.center is not None:
            center_f = [1.0 * (c - s * 0.5) for c, s in zip(self.center, [width, height])]
        matrix = inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
        return FT.apply(FT.rotate, img, matrix, self.interpolation.value, self.expand,
                        _tensor_fill(self.fill, channels))

    def __repr__(self) -> str:
        center = f", center={self.center}" if self.center is not None else ""
        return (f"RandomRotation(degrees={self.degrees}, interpolation={self.interpolation.value}, "
                f"expand={self.expand}{center}, fill={self.fill})")


class RandomAffine(_RandomTransform):
    """Random rotation (`degrees`), translation (`translate` = fractions (a, b) of the width and
    height), scale (`scale` = (min, max)) and shear (`shear`: x range, or x and y ranges),
    keeping the centre, as torchvision's `RandomAffine` (parameters drawn in its order)."""

    def __init__(self, degrees: Any, translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: Any = None,
                 interpolation: Any = InterpolationMode.NEAREST, fill: Any = 0,
                 center: Sequence[float] | None = None) -> None:
        self.degrees = _setup_angle(degrees, "degrees")
        if translate is not None and (len(translate) != 2 or not all(0.0 <= t <= 1.0 for t in translate)):
            raise ValueError("translate should be a pair of fractions between 0 and 1")
        if scale is not None and (len(scale) != 2 or not all(s > 0 for s in scale)):
            raise ValueError("scale should be a pair of positive values")
        self.translate, self.scale = translate, scale
        self.shear = _setup_angle(shear, "shear", (2, 4)) if shear is not None else None
        self.interpolation = interpolation_mode(interpolation)
        self.fill = _check_fill(fill)
        self.center = center

    @staticmethod
    def get_params(degrees: Sequence[float], translate: Sequence[float] | None, scale_ranges: Any,
                   shears: Any, img_size: Sequence[int],
                   generator: Generator | None = None) -> tuple[Any, ...]:
        angle = _uniform(degrees[0], degrees[1], generator)
        translations = (0, 0)
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            translations = (int(round(_uniform(-max_dx, max_dx, generator))),
                            int(round(_uniform(-max_dy, max_dy, generator))))
        scale = _uniform(scale_ranges[0], scale_ranges[1], generator) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _uniform(shears[0], shears[1], generator)
            if len(shears) == 4:
                shear_y = _uniform(shears[2], shears[3], generator)
        return angle, translations, scale, (shear_x, shear_y)

    def __call__(self, img: Any, rng: Any = None) -> Any:
        _check_image(img, "RandomAffine")
        channels, height, width = _dims(img)
        params = self.get_params(self.degrees, self.translate, self.scale, self.shear, [width, height],
                                 _generator(rng))
        angle, translations, scale, shear = params
        if is_pil_image(img):
            center = self.center if self.center is not None else [width * 0.5, height * 0.5]
            matrix = inverse_affine_matrix(center, angle, translations, scale, shear)
            return img.transform(img.size, 0, matrix, _pil_filter(self.interpolation),
                                 fillcolor=_pil_fill(self.fill, img))  # 0 = Image.AFFINE
        center_f = [0.0, 0.0]
        if self.center is not None:
            center_f = [1.0 * (c - s * 0.5) for c, s in zip(self.center, [width, height])]
        matrix = inverse_affine_matrix(center_f, angle, [1.0 * t for t in translations], scale, shear)
        return FT.apply(FT.affine, img, matrix, self.interpolation.value, _tensor_fill(self.fill, channels))

    def __repr__(self) -> str:
        return f"RandomAffine(degrees={self.degrees}, translate={self.translate}, scale={self.scale}, " \
               f"shear={self.shear})"


class RandomResizedCrop(_RandomTransform):
    """A crop of random area (`scale` of the image's) and aspect ratio (`ratio`, drawn on a log
    scale), resized to `size` (Inception's augmentation; torchvision's draws, 10 tries, then the
    central crop)."""

    def __init__(self, size: int | Sequence[int], scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: Any = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> None:
        size = (int(size), int(size)) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)
        if len(size) == 1:
            size = (size[0], size[0])
        if len(size) != 2:
            raise ValueError("Please provide only two dimensions (h, w) for size.")
        self.size = size
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.interpolation = interpolation_mode(interpolation)
        self.antialias = antialias

    @staticmethod
    def get_params(img: Any, scale: Sequence[float], ratio: Sequence[float],
                   generator: Generator | None = None) -> tuple[int, int, int, int]:
        _, height, width = _dims(img)
        area = height * width
        log_ratio = np.log(np.asarray(ratio, np.float32))  # torch.log(torch.tensor(ratio)): float32
        for _ in range(10):
            target_area, aspect_ratio = area_and_aspect(area, scale, log_ratio, generator)
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                i = int(randint(0, height - h + 1, size=(1,), generator=generator).item())
                j = int(randint(0, width - w + 1, size=(1,), generator=generator).item())
                return i, j, h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            w, h = int(round(height * max(ratio))), height
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img: Any, rng: Any = None) -> Any:
        _check_image(img, "RandomResizedCrop")
        i, j, h, w = self.get_params(img, self.scale, self.ratio, _generator(rng))
        if is_pil_image(img):
            return resize_pil(img.crop((j, i, j + w, i + h)), list(self.size), self.interpolation)
        return FT.apply(FT.resized_crop, img, i, j, h, w, self.size, self.interpolation.value,
                        self.antialias is not False)

    def __repr__(self) -> str:
        return (f"RandomResizedCrop(size={self.size}, scale={tuple(round(s, 4) for s in self.scale)}, "
                f"ratio={tuple(round(r, 4) for r in self.ratio)}, interpolation={self.interpolation.value}, "
                f"antialias={self.antialias})")
