"""Feature visualisation by optimisation: an input that makes a class logit, a channel or one
neuron as large as possible (Erhan et al. 2009, Simonyan et al. 2014, distill.pub/2017/feature-visualization).

    maximise  objective(T(x)) - tv * TV(x) - l2 * mean(x^2)

by Adam on the pixels, T a random small jitter/scale/rotation each step (the image must work
under all of them, so it cannot be adversarial noise), with a Gaussian blur every few steps
(a cheap stand-in for a frequency-domain parametrisation: it damps high frequencies), seeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from striate.autograd.function import no_grad
from striate.autograd.tensor import Tensor, _make
from striate.viz._common import eval_mode, frozen
from striate.viz.capture import capture
from striate.viz.transforms import gaussian_blur, random_affine, total_variation


@dataclass
class Maximized:
    """The optimised image (C, *space) and the objective on the untransformed image per step."""

    image: np.ndarray
    history: list[float] = field(default_factory=list)


def _objective(model: Any, x: Tensor, target: int | None, layer: Any, channel: int | None,
               unit: Sequence[int] | None) -> Tensor:
    if layer is None:
        if target is None:
            raise ValueError("maximize: give a class (target=K) or a layer (layer=..., channel=...)")
        out = model(x)
        if out.ndim != 2 or not 0 <= target < out.shape[1]:
            raise ValueError(f"maximize: target {target} out of range for outputs of shape {out.shape}")
        return out[:, target].mean()
    a = next(iter(capture(model, x, [layer], "maximize").values()))
    if channel is None:
        return (a * a).mean()
    if not 0 <= channel < a.shape[1]:
        raise ValueError(f"maximize: channel {channel} out of range for layer output {a.shape}")
    a = a[:, channel]
    if unit is not None:
        return a[(slice(None), *tuple(int(u) for u in unit))].mean()
    return a.mean()


def maximize(model: Any, shape: Sequence[int], target: int | None = None, layer: Any = None,
             channel: int | None = None, unit: Sequence[int] | None = None, steps: int = 128,
             lr: float = 0.05, seed: int = 0, jitter: float = 1.0,
             scales: Sequence[float] = (0.95, 1.0, 1.05),
             degrees: float = 5.0, blur_every: int = 4, blur_sigma: float = 0.5, tv: float = 0.0,
             l2: float = 0.0, clamp: tuple[float, float] | None = None, init_std: float = 0.01) -> Maximized:
    """Gradient ascent on one input of `shape` (C, H, W) or (C, L).

    Objective: class logit `target` (layer None), the mean of channel `channel` of `layer`
    (a module or named_modules() path), one neuron `unit` (its spatial index) of that channel, or
    the layer's mean squared activation (channel None). Regularisers: `jitter` pixels, `scales`,
    `degrees` (random per step), a Gaussian blur of `blur_sigma` every `blur_every` steps,
    total-variation `tv` and `l2` penalties, `clamp` to a value range. Seeded: the same call
    gives the same image. The model runs in eval mode (restored after) with frozen parameters.
    """
    from striate.nn.parameter import Parameter
    from striate.optim import Adam

    rng = np.random.default_rng(seed)
    x = Parameter(_make((rng.standard_normal((1, *shape)) * init_std).astype(np.float32), False))
    opt = Adam([x], lr=lr)
    history: list[float] = []
    with eval_mode(model), frozen(model):
        for step in range(steps + 1):
            with no_grad():
                history.append(float(_objective(model, x.detach(), target, layer, channel, unit)))
            if step == steps:
                break
            obj = _objective(model, random_affine(x, rng, jitter, tuple(scales), degrees), target, layer,
                             channel, unit)
            loss = -obj
            if tv:
                loss = loss + tv * total_variation(x)
            if l2:
                loss = loss + l2 * (x * x).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with no_grad():
                arr = x.numpy()
                if blur_every and (step + 1) % blur_every == 0:
                    arr[...] = gaussian_blur(arr, blur_sigma)
                if clamp is not None:
                    np.clip(arr, clamp[0], clamp[1], out=arr)
    return Maximized(x.numpy()[0].copy(), history)
