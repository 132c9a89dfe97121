"""A convolution layer's kernels as pictures (seed 002's 96 first-layer AlexNet filters).

Each filter is min-max normalised on its own (a filter's pattern, not its scale, is what the
picture shows). Three input channels are drawn as one RGB tile per filter; otherwise one grey
tile per (filter, input channel), a row per filter; one input channel: a grey tile per
filter. 1-D kernels (O, I, k) are drawn as 1-pixel
high strips.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.viz._common import find_module, new_figure, normalise01


def conv_layer(model_or_layer: Any, layer: Any = None) -> tuple[str, Any]:
    """(name, module): the given conv layer, the named one, or the model's first convolution."""
    if layer is not None:
        return find_module(model_or_layer, layer, "filters")
    weight = getattr(model_or_layer, "weight", None)
    if weight is not None and weight.ndim >= 3:
        return type(model_or_layer).__name__, model_or_layer
    for name, module in model_or_layer.named_modules():
        w = getattr(module, "weight", None)
        if w is not None and getattr(w, "ndim", 0) >= 3:
            return name, module
    raise ValueError(f"filters: {type(model_or_layer).__name__} has no convolution layer (a weight with "
                     "3 or more axes); pass a model with a Conv1d/Conv2d or the layer itself")


def filter_grid(weight: Any, max_filters: int = 64, max_channels: int = 16, gap: int = 1) -> np.ndarray:
    """The kernels of a (O, I, kh, kw) or (O, I, k) weight as one (H, W, 3) image in [0, 1],
    a white gap between tiles."""
    w = np.asarray(weight.numpy() if hasattr(weight, "numpy") else weight, np.float64)
    if w.ndim == 3:
        w = w[:, :, None, :]
    if w.ndim != 4:
        raise ValueError(f"filter_grid: expected a conv weight (O, I, kh, kw) or (O, I, k), got {w.shape}")
    w = normalise01(w[:max_filters], axes=(1, 2, 3))
    o, i, kh, kw = w.shape
    if i in (1, 3):  # one tile per filter (grey or RGB), in a square-ish grid
        tiles = np.broadcast_to(w.transpose(0, 2, 3, 1), (o, kh, kw, 3))[:, None]  # (O, 1, kh, kw, 3)
        cols = int(np.ceil(np.sqrt(o)))
        rows = int(np.ceil(o / cols))
        pad = np.ones((rows * cols - o, 1, kh, kw, 3))
        tiles = np.concatenate([tiles, pad]).reshape(rows, cols, kh, kw, 3)
    else:
        rows, cols = o, min(i, max_channels)
        tiles = np.repeat(w[:, :cols, :, :, None], 3, axis=4)
    grid = np.ones((rows * (kh + gap) + gap, cols * (kw + gap) + gap, 3))
    for r in range(rows):
        for c in range(cols):
            y, x = gap + r * (kh + gap), gap + c * (kw + gap)
            grid[y:y + kh, x:x + kw] = tiles[r, c]
    return grid


def filters(model_or_layer: Any, layer: Any = None, max_filters: int = 64, max_channels: int = 16) -> Any:
    """A matplotlib Figure of a conv layer's kernels (the first conv layer of a model unless
    `layer` names one), titled with the layer's name and weight shape. Needs matplotlib."""
    name, module = conv_layer(model_or_layer, layer)
    weight = module.weight
    grid = filter_grid(weight, max_filters, max_channels)
    h, w = grid.shape[:2]
    scale = 6 / max(h, w)
    fig = new_figure(figsize=(max(3.0, w * scale), max(2.0, h * scale) + 0.5))
    ax = fig.add_subplot()
    ax.imshow(grid, interpolation="nearest")
    ax.set_axis_off()
    shown = f" (first {max_filters})" if weight.shape[0] > max_filters else ""
    ax.set_title(f"{name}: {type(module).__name__} weight {tuple(weight.shape)}{shown}", fontsize=9)
    return fig
