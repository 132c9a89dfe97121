"""Feature visualisation by optimisation: an input that makes a class logit, a channel or one
neuron as large as possible (Erhan et al. 2009, Simonyan et al. 2014, distill.pub/2017/feature-visualization).

    maximise  objective(T(x)) - tv * TV(x) - l2 * mean(x^2)

by Adam on the pixels, T a random small jitter/scale/rotation each step (the image must work
under all of them, so it cannot be adversarial noise), with a Gaussian blur every few steps, or
(param='dct') by Adam on the image's orthonormal DCT coefficients scaled by 1/(1 + |frequency|)^decay
(distill's frequency parametrisation: equal steps move low frequencies more than high ones). Seeded.
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


def dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II: coefficients = D @ x, x = D.T @ coefficients."""
    k, i = np.arange(n)[:, None], np.arange(n)[None, :]
    d = np.sqrt(2 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    d[0] /= np.sqrt(2)
    return d


class DCTImage:
    """image = D_H^T (w * S) D_W (1-D: (w * S) D_L), w = 1 / (1 + |frequency|)^decay; linear, so the
    autograd engine differentiates it with two matrix products."""

    def __init__(self, shape: Sequence[int], decay: float) -> None:
        self.mats = [dct_matrix(n).astype(np.float32) for n in shape[1:]]
        freqs = np.meshgrid(*[np.arange(n) for n in shape[1:]], indexing="ij")
        radius = np.sqrt(sum(f.astype(np.float64) ** 2 for f in freqs))
        self.weight = (1 / (1 + radius) ** decay).astype(np.float32)

    def decode(self, coeffs: Tensor) -> Tensor:
        x = coeffs * _make(self.weight, False)
        if len(self.mats) == 2:
            x = _make(self.mats[0].T.copy(), False) @ x
        return x @ _make(self.mats[-1], False)

    def encode(self, image: np.ndarray) -> np.ndarray:
        c = image @ self.mats[-1].T
        if len(self.mats) == 2:
            c = self.mats[0] @ c
        return c / self.weight


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
             l2: float = 0.0, clamp: tuple[float, float] | None = None, init_std: float = 0.01,
             param: str = "pixel", decay: float = 1.0) -> Maximized:
    """Gradient ascent on one input of `shape` (C, H, W) or (C, L).

    Objective: class logit `target` (layer None), the mean of channel `channel` of `layer`
    (a module or named_modules() path), one neuron `unit` (its spatial index) of that channel, or
    the layer's mean squared activation (channel None). Regularisers: `jitter` pixels, `scales`,
    `degrees` (random per step), a Gaussian blur of `blur_sigma` every `blur_every` steps,
    total-variation `tv` and `l2` penalties, `clamp` to a value range. param='dct' optimises
    scaled DCT coefficients instead of pixels (no blur then). Seeded: the same call gives the
    same image. The model runs in eval mode (restored after) with frozen parameters.
    """
    from striate.nn.parameter import Parameter
    from striate.optim import Adam

    if param not in ("pixel", "dct"):
        raise ValueError(f"maximize: param must be 'pixel' or 'dct', got {param!r}")
    rng = np.random.default_rng(seed)
    start = (rng.standard_normal((1, *shape)) * init_std).astype(np.float32)
    basis = DCTImage(shape, decay) if param == "dct" else None
    p = Parameter(_make(basis.encode(start) if basis else start, False))
    opt = Adam([p], lr=lr)
    history: list[float] = []
    with eval_mode(model), frozen(model):
        for step in range(steps + 1):
            x = basis.decode(p) if basis else p
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
                arr = p.numpy()
                if basis is None and blur_every and (step + 1) % blur_every == 0:
                    arr[...] = gaussian_blur(arr, blur_sigma)
                if clamp is not None:  # DCT: clip the decoded image and project back
                    if basis is None:
                        np.clip(arr, clamp[0], clamp[1], out=arr)
                    else:
                        img = np.clip(basis.decode(p.detach()).numpy(), clamp[0], clamp[1])
                        arr[...] = basis.encode(img)
    image = basis.decode(p.detach()).numpy() if basis else p.numpy()
    return Maximized(image[0].copy(), history)
