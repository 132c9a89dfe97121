"""Summaries of a network's inside for the dashboard: value ranges, histograms, dead ReLUs,
and an identity "tap" that records the gradient flowing back through a layer's output."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import numpy as np

from striate.autograd.function import Function

HIST_BINS = 24
SAMPLE = 16384  # histogram a strided sample of at most this many values (ticks stay cheap)


def summarize(a: np.ndarray) -> dict[str, Any]:
    """min, max, mean, std and a HIST_BINS-bin histogram of `a` (between its min and max)."""
    flat = np.asarray(a).reshape(-1)
    if flat.size == 0:
        return {"min": 0.0, "max": 0.0, "mean": 0.0, "std": 0.0, "hist": [0] * HIST_BINS}
    lo, hi = float(flat.min()), float(flat.max())
    mean, std = float(flat.mean(dtype=np.float64)), float(flat.std(dtype=np.float64))
    sample = flat[:: flat.size // SAMPLE + 1] if flat.size > SAMPLE else flat
    hist, _ = np.histogram(sample, bins=HIST_BINS, range=(lo, hi if hi > lo else lo + 1e-12))
    return {"min": lo, "max": hi, "mean": mean, "std": std, "hist": hist.tolist()}


def dead_fraction(a: np.ndarray) -> float:
    """Fraction of units (channel x position) that are zero for every example of the batch."""
    if a.ndim < 2 or a.shape[0] == 0:
        return 0.0
    return float((np.asarray(a) <= 0).all(axis=0).mean())


def layer_map(a: np.ndarray, channels: int = 8, side: int = 16) -> dict[str, Any] | None:
    """The first example's first `channels` feature maps, each scaled to 0..255 and reduced to
    at most side x side, as base64 uint8 (ConvNetJS's activation pictures)."""
    if a.ndim != 4 or a.shape[0] == 0:
        return None
    maps = np.asarray(a[0, :channels], dtype=np.float64)
    step = max(1, -(-max(maps.shape[1:]) // side))
    maps = maps[:, ::step, ::step]
    lo = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - lo
    scaled = np.where(span > 0, (maps - lo) / np.where(span > 0, span, 1), 0.0)
    return {"c": int(maps.shape[0]), "h": int(maps.shape[1]), "w": int(maps.shape[2]),
            "data": to_base64(scaled * 255)}


def to_base64(values: np.ndarray) -> str:
    """Values in 0..255 as base64 of their uint8 bytes (compact pixels for the page)."""
    return base64.b64encode(np.clip(values, 0, 255).astype(np.uint8).tobytes()).decode("ascii")


def image_bytes(x: np.ndarray) -> str:
    """One CxHxW input, min-max scaled for display, as base64 uint8."""
    lo, hi = float(x.min()), float(x.max())
    return to_base64((x - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(x))


class Tap(Function):
    """y = x; dL/dx = dL/dy, handing dL/dy to `sink` on the way (the activation gradient)."""

    def forward(self, x: np.ndarray, sink: Callable[[np.ndarray], None] | None = None) -> np.ndarray:
        self.sink = sink
        return x

    def backward(self, g: np.ndarray):
        if self.sink is not None:
            self.sink(g)
        return (g,)
