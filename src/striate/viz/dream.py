"""DeepDream (Mordvintsev et al. 2015): make an image more of whatever a layer already sees in it.

For each octave, smallest first, the image (with the detail gained so far) is resized, randomly
rolled by up to `jitter` pixels, and moved along the gradient of the layer's mean squared
activation, each step's gradient divided by its mean absolute value (per-octave normalisation:
the step size means the same at every scale and layer).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.viz._common import as_array, eval_mode, frozen, leaf
from striate.viz.capture import capture
from striate.viz.display import resize


def _dream_gradient(model: Any, x: np.ndarray, layer: Any, channel: int | None) -> np.ndarray:
    inp = leaf(x)
    a = next(iter(capture(model, inp, [layer], "deep_dream").values()))
    if channel is not None:
        a = a[:, channel]
    (a * a).mean().backward()
    return inp.grad.numpy()


def deep_dream(model: Any, image: Any, layer: Any, octaves: int = 3, octave_scale: float = 1.4,
               steps: int = 10, lr: float = 0.02, jitter: int = 2, channel: int | None = None,
               seed: int = 0, clamp: tuple[float, float] | None = None) -> np.ndarray:
    """DeepDream of one image (C, H, W) (or a batch of one) at `layer` (module or path),
    optionally one `channel`; returns the dreamed image, same shape as given. Seeded."""
    arr = as_array(image)
    single = arr.ndim == 3
    base = arr[None] if single else arr
    if base.ndim != 4 or len(base) != 1:
        raise ValueError(f"deep_dream: expected one image (C, H, W), got shape {arr.shape}")
    rng = np.random.default_rng(seed)
    h, w = base.shape[2:]
    sizes = [(max(8, round(h / octave_scale**k)), max(8, round(w / octave_scale**k)))
             for k in reversed(range(octaves))]
    detail = np.zeros_like(base)
    with eval_mode(model), frozen(model):
        for size in sizes:
            x = (resize(base, size) + resize(detail, size)).astype(base.dtype)
            for _ in range(steps):
                dy, dx = rng.integers(-jitter, jitter + 1, 2) if jitter else (0, 0)
                rolled = np.roll(x, (dy, dx), axis=(2, 3))
                g = np.roll(_dream_gradient(model, rolled, layer, channel), (-dy, -dx), axis=(2, 3))
                x = x + lr * g / (np.abs(g).mean() + 1e-8)
                if clamp is not None:
                    x = np.clip(x, clamp[0], clamp[1])
            detail = x - resize(base, size)  # what the dream added, carried to the next octave
    return x[0] if single else x
