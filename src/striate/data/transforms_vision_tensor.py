"""The pixel work of `transforms_vision` on tensors: torchvision's `_functional_tensor` steps
in NumPy, for (..., C, H, W) float or uint8 images (one set of parameters for all of them).

Colour: `_blend(a, b, r) = clamp(r a + (1 - r) b, 0, max)` (max 1 for floats, 255 for
uint8); brightness blends with black, contrast with the mean grey level, saturation with the
grey image (grey = 0.2989 R + 0.587 G + 0.114 B); hue rotates H in HSV space (Pillow's
RGB<->HSV formulas, as torchvision's `_rgb2hsv` / `_hsv2rgb`).

Geometry: an affine map sends each output pixel centre to a source point (the inverse matrix
of `transforms_vision.inverse_affine_matrix`, in coordinates centred on the image), which is
sampled as `F.grid_sample(align_corners=False)` does: nearest (round half to even) or
bilinear, zero outside; a ones channel sampled alongside says how much of each output pixel
lies inside, where `fill` is blended in (torchvision's trick).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor, wrap

_GREY_WEIGHTS = (0.2989, 0.587, 0.114)


def apply(fn: Callable[..., np.ndarray], img: Any, *args: Any) -> Any:
    """Run `fn(array, *args)` on a Tensor's or an array's pixels; the same kind comes back."""
    if isinstance(img, Tensor):
        return wrap(np.ascontiguousarray(fn(img.array, *args)), False)
    return fn(np.asarray(img), *args)


def _max_value(dtype: np.dtype) -> float:
    return 1.0 if dtype.kind == "f" else float(np.iinfo(dtype).max)


def _float_dtype(img: np.ndarray) -> np.dtype:
    return img.dtype if img.dtype.kind == "f" else np.dtype(np.float32)


def _check_channels(img: np.ndarray, allowed: Sequence[int], what: str) -> None:
    if img.ndim < 3 or img.shape[-3] not in allowed:
        raise ValueError(f"{what} expects images (..., C, H, W) with C in {list(allowed)}, "
                         f"got shape {img.shape}")


def rgb_to_grayscale(img: np.ndarray, num_output_channels: int = 1) -> np.ndarray:
    _check_channels(img, (1, 3), "Grayscale")
    if img.shape[-3] == 3:
        ft = _float_dtype(img).type
        r, g, b = (img[..., c, :, :].astype(ft) for c in range(3))
        wr, wg, wb = (ft(w) for w in _GREY_WEIGHTS)
        grey = (wr * r + wg * g + wb * b).astype(img.dtype)
        grey = grey[..., None, :, :]
    else:
        grey = img.copy()
    return np.broadcast_to(grey, img.shape).copy() if num_output_channels == 3 else grey


def _blend(img1: np.ndarray, img2: np.ndarray | float, ratio: float) -> np.ndarray:
    ft = _float_dtype(img1).type
    mixed = ft(ratio) * img1.astype(ft) + ft(1.0 - ratio) * np.asarray(img2, ft)
    return np.clip(mixed, 0, _max_value(img1.dtype)).astype(img1.dtype)


def adjust_brightness(img: np.ndarray, factor: float) -> np.ndarray:
    _check_channels(img, (1, 3), "adjust_brightness")
    return _blend(img, np.zeros_like(img), factor)


def adjust_contrast(img: np.ndarray, factor: float) -> np.ndarray:
    _check_channels(img, (1, 3), "adjust_contrast")
    dt = _float_dtype(img)
    grey = rgb_to_grayscale(img) if img.shape[-3] == 3 else img
    mean = np.mean(grey.astype(dt), axis=(-3, -2, -1), keepdims=True, dtype=dt)
    return _blend(img, mean, factor)


def adjust_saturation(img: np.ndarray, factor: float) -> np.ndarray:
    _check_channels(img, (1, 3), "adjust_saturation")
    if img.shape[-3] == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), factor)


def _rgb2hsv(img: np.ndarray) -> np.ndarray:
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    ft = img.dtype.type
    maxc, minc = img.max(axis=-3), img.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    s = cr / np.where(eqc, ft(1), maxc)
    divisor = np.where(eqc, ft(1), cr)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (ft(2.0) + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (ft(4.0) + gc - rc)
    h = np.fmod((hr + hg + hb) / ft(6.0) + ft(1.0), ft(1.0))
    return np.stack((h, s, maxc), axis=-3)


def _hsv2rgb(img: np.ndarray) -> np.ndarray:
    h, s, v = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    ft = img.dtype.type
    i = np.floor(h * ft(6.0))
    f = h * ft(6.0) - i
    i = i.astype(np.int32) % 6
    p = np.clip(v * (ft(1.0) - s), 0.0, 1.0)
    q = np.clip(v * (ft(1.0) - s * f), 0.0, 1.0)
    t = np.clip(v * (ft(1.0) - s * (ft(1.0) - f)), 0.0, 1.0)
    choices = ((v, q, p, p, t, v), (t, v, v, q, p, p), (p, p, t, v, v, q))
    return np.stack([np.choose(i, channel) for channel in choices], axis=-3)


def adjust_hue(img: np.ndarray, factor: float) -> np.ndarray:
    if not -0.5 <= factor <= 0.5:
        raise ValueError(f"hue_factor ({factor}) is not in [-0.5, 0.5].")
    _check_channels(img, (1, 3), "adjust_hue")
    if img.shape[-3] == 1:
        return img
    as_float = img if img.dtype.kind == "f" else img.astype(np.float32) / np.float32(_max_value(img.dtype))
    hsv = _rgb2hsv(as_float)
    ft = hsv.dtype.type
    hsv[..., 0, :, :] = np.mod(hsv[..., 0, :, :] + ft(factor), ft(1.0))
    rgb = _hsv2rgb(hsv)
    if img.dtype.kind == "f":
        return rgb
    return (rgb * np.float32(_max_value(img.dtype) + 1.0 - 1e-3)).astype(img.dtype)  # convert_image_dtype


ADJUSTMENTS = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)


def _affine_output_size(matrix: Sequence[float], w: int, h: int) -> tuple[int, int]:
    """The (width, height) that holds the whole rotated image (torchvision's, after Pillow's)."""
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, -0.5 * h, 1.0]], np.float32)
    new_pts = pts @ np.asarray(matrix, np.float32).reshape(2, 3).T
    low = new_pts.min(axis=0) + np.array((w * 0.5, h * 0.5), np.float32)
    high = new_pts.max(axis=0) + np.array((w * 0.5, h * 0.5), np.float32)
    tol = np.float32(1e-4)  # cut below 1e-4 so that 1e-15 above an integer does not round up
    size = np.ceil(np.trunc(high / tol) * tol) - np.floor(np.trunc(low / tol) * tol)
    return int(size[0]), int(size[1])


def _source_points(matrix: Sequence[float], dt: np.dtype, w: int, h: int, ow: int, oh: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Source pixel coordinates (x, y) of every output pixel: torchvision's `_gen_affine_grid`
    (normalised grid) followed by grid_sample's unnormalisation (align_corners=False)."""
    ft = dt.type
    xs = np.linspace(-ow * 0.5 + 0.5, ow * 0.5 + 0.5 - 1, ow, dtype=dt)
    ys = np.linspace(-oh * 0.5 + 0.5, oh * 0.5 + 0.5 - 1, oh, dtype=dt)[:, None]
    theta = np.asarray(matrix, dt).reshape(2, 3) / np.array([[0.5 * w], [0.5 * h]], dt)
    gx = xs * theta[0, 0] + ys * theta[0, 1] + theta[0, 2]
    gy = xs * theta[1, 0] + ys * theta[1, 1] + theta[1, 2]
    return ((gx + ft(1)) * ft(w) - ft(1)) / ft(2), ((gy + ft(1)) * ft(h) - ft(1)) / ft(2)


def _sample(img: np.ndarray, sx: np.ndarray, sy: np.ndarray, mode: str) -> np.ndarray:
    """grid_sample of (..., C, H, W) at (sx, sy) (each oh x ow), zero outside the image."""
    H, W = img.shape[-2:]
    if mode == "nearest":
        ix, iy = np.rint(sx).astype(np.int64), np.rint(sy).astype(np.int64)
        inside = (ix >= 0) & (ix < W) & (iy >= 0) & (iy < H)
        return img[..., np.clip(iy, 0, H - 1), np.clip(ix, 0, W - 1)] * inside
    x0, y0 = np.floor(sx), np.floor(sy)
    wx, wy = sx - x0, sy - y0
    out = np.zeros(img.shape[:-2] + sx.shape, img.dtype)
    for dy, dx, weight in ((0, 0, (1 - wx) * (1 - wy)), (0, 1, wx * (1 - wy)), (1, 0, (1 - wx) * wy),
                           (1, 1, wx * wy)):
        ix, iy = x0.astype(np.int64) + dx, y0.astype(np.int64) + dy
        inside = (ix >= 0) & (ix < W) & (iy >= 0) & (iy < H)
        out += img[..., np.clip(iy, 0, H - 1), np.clip(ix, 0, W - 1)] * (weight * inside)
    return out


def _grid_transform(img: np.ndarray, matrix: Sequence[float], mode: str, fill: Sequence[float] | None,
                    out_size: tuple[int, int]) -> np.ndarray:
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"interpolation {mode!r} is not supported on tensors; use nearest or bilinear")
    _check_channels(img, range(1, 1 << 30), "a geometric transform")
    h, w = img.shape[-2:]
    sx, sy = _source_points(matrix, _float_dtype(img), w, h, *out_size)
    return sample_with_fill(img, sx, sy, mode, fill)


def sample_with_fill(img: np.ndarray, sx: np.ndarray, sy: np.ndarray, mode: str,
                     fill: Sequence[float] | None) -> np.ndarray:
    """Sample (..., C, H, W) at source pixel coordinates (sx, sy), blending `fill` in where the
    source lies outside (torchvision's `_apply_grid_transform`)."""
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"interpolation {mode!r} is not supported on tensors; use nearest or bilinear")
    dt = _float_dtype(img)
    x = img.astype(dt, copy=False)
    h, w = img.shape[-2:]
    with_mask = np.concatenate([x, np.ones(x.shape[:-3] + (1, h, w), dt)], axis=-3)
    sampled = _sample(with_mask, sx, sy, mode)
    out, mask = sampled[..., :-1, :, :], sampled[..., -1:, :, :]
    if fill is not None:
        if len(fill) not in (1, out.shape[-3]):
            raise ValueError(f"fill has {len(fill)} values for images with {out.shape[-3]} channels")
        fill_img = np.broadcast_to(np.asarray(fill, dt).reshape(-1, 1, 1), out.shape)
        if mode == "nearest":
            out = np.where(np.broadcast_to(mask < 0.5, out.shape), fill_img, out)
        else:
            out = out * mask + (dt.type(1.0) - mask) * fill_img
    if img.dtype.kind != "f":
        out = np.rint(out).astype(img.dtype)
    return out


def rotate(img: np.ndarray, matrix: Sequence[float], mode: str, expand: bool,
           fill: Sequence[float]) -> np.ndarray:
    h, w = img.shape[-2:]
    size = _affine_output_size(matrix, w, h) if expand else (w, h)
    return _grid_transform(img, matrix, mode, fill, size)


def affine(img: np.ndarray, matrix: Sequence[float], mode: str, fill: Sequence[float]) -> np.ndarray:
    h, w = img.shape[-2:]
    return _grid_transform(img, matrix, mode, fill, (w, h))


def resized_crop(img: np.ndarray, top: int, left: int, height: int, width: int, size: Sequence[int],
                 mode: str, antialias: bool) -> np.ndarray:
    """Crop (zero-padded where the window leaves the image, as torchvision's `crop`), then resize
    with striate's `Resize` (bilinear: PyTorch's weights, antialiased when shrinking)."""
    from striate.data.transforms import Resize  # the batched Resize lives there (one-way imports)

    H, W = img.shape[-2:]
    crop = np.zeros(img.shape[:-2] + (height, width), img.dtype)
    y0, y1, x0, x1 = max(top, 0), min(top + height, H), max(left, 0), min(left + width, W)
    crop[..., y0 - top:y1 - top, x0 - left:x1 - left] = img[..., y0:y1, x0:x1]
    lead = crop.shape[:-3]
    batch = crop.reshape((-1,) + crop.shape[-3:])
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"interpolation {mode!r} is not supported on tensors; use nearest or bilinear")
    resized = Resize(list(size), interpolation=mode, antialias=antialias)(batch.astype(_float_dtype(img)))
    if img.dtype.kind != "f":
        resized = np.clip(np.rint(resized), 0, _max_value(img.dtype)).astype(img.dtype)
    return resized.reshape(lead + resized.shape[-3:])

