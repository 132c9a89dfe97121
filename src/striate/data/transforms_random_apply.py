"""torchvision's random containers: `RandomApply` (all of a list of transforms, with probability
p), `RandomChoice` (one of them, optionally weighted) and `RandomOrder` (all, shuffled).

Draws, as torchvision makes them: RandomApply `p < torch.rand(1)` skips (from striate's
PyTorch-stream generator, so it follows `st.manual_seed` as torchvision follows
`torch.manual_seed`); RandomChoice `random.choices(transforms, weights=p)` and RandomOrder
`random.shuffle(order)` use Python's `random` module, as torchvision does, so they follow
`random.seed(n)`. Inside striate's DataLoader (which passes its per-batch NumPy generator as
`rng=`) both draw from generators seeded from that `rng` instead, so prefetching and exact
resume keep the numbers; `rng` is passed on to the inner transforms that take it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from striate.creation import rand
from striate.data.transforms_vision import _generator, _RandomTransform

__all__ = ["RandomApply", "RandomChoice", "RandomOrder"]


def _apply(transform: Callable, img: Any, rng: Any) -> Any:
    """Call one transform, passing `rng` to those that take it (as Compose does)."""
    takes_rng = getattr(transform, "batched", False) or getattr(transform, "takes_rng", False)
    return transform(img, rng=rng) if takes_rng and rng is not None else transform(img)


def _python_random(rng: Any) -> Any:
    """Python's global `random` (torchvision's source), or a `random.Random` seeded from `rng`."""
    if rng is None:
        return random
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    return random.Random(int(rng.integers(0, 2**63)))


class _RandomTransforms(_RandomTransform):
    def __init__(self, transforms: Sequence[Callable]) -> None:
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence")
        self.transforms = list(transforms)

    def _body(self) -> str:
        return "".join(f"\n    {t}" for t in self.transforms)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._body()}\n)"


class RandomApply(_RandomTransforms):
    """Apply every transform in order with probability p (else return the input unchanged)."""

    def __init__(self, transforms: Sequence[Callable], p: float = 0.5) -> None:
        super().__init__(transforms)
        self.p = p

    def __call__(self, img: Any, rng: Any = None) -> Any:
        if np.float32(self.p) < np.float32(rand(1, generator=_generator(rng)).item()):  # torchvision's test
            return img
        for t in self.transforms:
            img = _apply(t, img, rng)
        return img

    def __repr__(self) -> str:
        return f"RandomApply(\n    p={self.p}{self._body()}\n)"


class RandomChoice(_RandomTransforms):
    """Apply one transform picked at random (weights `p`, uniform when None)."""

    def __init__(self, transforms: Sequence[Callable], p: Sequence[float] | None = None) -> None:
        super().__init__(transforms)
        if p is not None and not isinstance(p, Sequence):
            raise TypeError("Argument p should be a sequence")
        self.p = p

    def __call__(self, img: Any, rng: Any = None) -> Any:
        transform = _python_random(rng).choices(self.transforms, weights=self.p)[0]
        return _apply(transform, img, rng)

    def __repr__(self) -> str:
        return f"RandomChoice(\n    p={self.p}{self._body()}\n)"


class RandomOrder(_RandomTransforms):
    """Apply every transform, in a random order."""

    def __call__(self, img: Any, rng: Any = None) -> Any:
        order = list(range(len(self.transforms)))
        _python_random(rng).shuffle(order)
        for i in order:
            img = _apply(self.transforms[i], img, rng)
        return img
