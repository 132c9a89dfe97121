"""The lectures' hand-made kernels on a real photograph, and where a unit looks in its input.

Seed 002 applies classic 3x3 kernels (identity, edge detectors, sharpen, box blur) to a photo;
here they run through `F.conv2d` (one channel at a time, groups=C) with zero padding 1.

`receptive_field_box` gives the input window that one unit of a layer sees, from the summary
tool's receptive-field arithmetic (RF size and jump per layer) plus the layers' paddings: unit i
starts at i * jump - sum_l p_l * jump_{l-1} and spans RF pixels (exact for chains of conv/pool
layers; through a residual branch the widest path is what the summary reports). Where a
stride drops the last rows (floor in (W - F + 2P)/S + 1) a unit at the far edge sees fewer
pixels than its box: the box is an upper bound there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.viz._common import as_array, new_figure, normalise01

LECTURE_KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float32),
    "edge (4-neighbour Laplacian)": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32),
    "edge (8-neighbour)": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], np.float32),
    "sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32),
    "sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32),
    "box blur": np.full((3, 3), 1 / 9, np.float32),
    "Gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 16,
}


def apply_kernels(image: Any, kernels: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Each kernel cross-correlated with every channel of `image` ((H, W) or (C, H, W)) by F.conv2d
    with zero padding (output the input's size). Returns {name: array of the image's shape}."""
    import striate.nn.functional as F
    from striate.autograd.tensor import _make

    img = as_array(image).astype(np.float32)
    squeeze = img.ndim == 2
    img = img[None] if squeeze else img
    if img.ndim != 3:
        raise ValueError("apply_kernels: expected an image (H, W) or (C, H, W), got shape "
                         f"{as_array(image).shape}")
    c = img.shape[0]
    out = {}
    for name, k in (kernels or LECTURE_KERNELS).items():
        k = np.asarray(k, np.float32)
        w = np.broadcast_to(k, (c, 1, *k.shape)).copy()
        pad = (k.shape[0] // 2, k.shape[1] // 2)
        y = F.conv2d(_make(img[None], False), _make(w, False), padding=pad, groups=c).numpy()[0]
        out[name] = y[0] if squeeze else y
    return out


def kernels_figure(image: Any, kernels: dict[str, Any] | None = None) -> Any:
    """A Figure: each kernel's numbers above the filtered photograph (grey; |response| for
    kernels that sum to 0, which respond to change and are signed)."""
    results = apply_kernels(image, kernels)
    ks = kernels or LECTURE_KERNELS
    n = len(results)
    fig = new_figure(figsize=(2.4 * n, 3.2))
    for i, (name, y) in enumerate(results.items()):
        ax = fig.add_subplot(1, n, i + 1)
        shown = np.abs(y) if abs(float(np.sum(ks[name]))) < 1e-6 else y
        shown = shown.transpose(1, 2, 0) if shown.ndim == 3 else shown
        ax.imshow(normalise01(np.clip(shown, *np.percentile(shown, [0.5, 99.5]))), cmap="gray")
        k = np.asarray(ks[name])
        nums = "\n".join(" ".join(f"{v:g}" if v == int(v) else f"{v:.2f}" for v in row) for row in k)
        ax.set_title(f"{name}\n{nums}", fontsize=7, family="monospace")
        ax.set_axis_off()
    return fig


def receptive_field_box(model: Any, input_size: Sequence[int], layer: str,
                        unit: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """((start, stop), ...) per spatial axis, input pixels [start, stop) that unit `unit` (its
    spatial index) of `layer`'s output sees, clipped to the input; from `st.summary`."""
    from striate.summary import summary

    table = summary(model, input_size)
    rows = list(table)
    names = [r.name for r in rows]
    if layer not in names:
        raise ValueError(f"receptive_field_box: {layer!r} is not a layer of the summary; layers: "
                         f"{', '.join(names)}")
    spatial = len(input_size) - 1
    offset = np.zeros(spatial)
    jump_in = np.ones(spatial)
    for row in rows[: names.index(layer) + 1]:
        pad = getattr(model.get_submodule(row.name), "padding", 0)
        pad = np.broadcast_to(np.asarray(pad if not isinstance(pad, str) else 0, np.float64), (spatial,))
        offset += pad * jump_in
        if row.jump is not None:
            jump_in = np.array([float(j) for j in row.jump])
    target = table[layer]
    if target.receptive_field is None:
        raise ValueError(f"receptive_field_box: {layer!r} has no spatial receptive field "
                         "(a fully connected layer)")
    box = []
    for axis in range(spatial):
        start = int(round(unit[axis] * float(target.jump[axis]) - offset[axis]))
        stop = start + int(target.receptive_field[axis])
        box.append((max(start, 0), min(stop, int(input_size[axis + 1]))))
    return tuple(box)
