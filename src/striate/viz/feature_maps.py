"""Feature maps layer by layer for one input, with per-layer statistics (seed 002's activation maps).

Forward hooks record every leaf module's output (or the named modules'); nothing in the model
changes. Statistics over the whole batch: mean, std, and for ReLU layers the fraction of dead
units (zero for every example of the batch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from striate.autograd.function import no_grad
from striate.autograd.tensor import Tensor
from striate.viz._common import as_array, check_batch, eval_mode, find_module, leaf, new_figure, normalise01


@dataclass
class LayerActivations:
    """One layer's output for the batch and its statistics."""

    name: str
    type: str
    output: np.ndarray  # (N, C, *space) or (N, features)
    mean: float
    std: float
    dead_fraction: float | None  # ReLU layers: units that are 0 for every example

    @property
    def maps(self) -> np.ndarray:
        """The first example's feature maps (C, *space)."""
        return self.output[0]


@dataclass
class Activations:
    """`st.viz.activations`' result: layers in call order, a statistics table and figures."""

    layers: list[LayerActivations] = field(default_factory=list)

    def __getitem__(self, name: str) -> LayerActivations:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no recorded layer {name!r}; recorded: {', '.join(a.name for a in self.layers)}")

    def stats(self) -> list[dict[str, Any]]:
        return [{"name": a.name, "type": a.type, "shape": list(a.output.shape[1:]), "mean": a.mean,
                 "std": a.std, "dead_fraction": a.dead_fraction} for a in self.layers]

    def table(self) -> str:
        lines = [f"{'layer':28s} {'type':18s} {'shape':16s} {'mean':>9s} {'std':>9s} {'dead':>6s}"]
        for s in self.stats():
            dead = "" if s["dead_fraction"] is None else f"{100 * s['dead_fraction']:5.1f}%"
            lines.append(f"{s['name']:28s} {s['type']:18s} {str(s['shape']):16s} {s['mean']:9.4f} "
                         f"{s['std']:9.4f} {dead:>6s}")
        return "\n".join(lines)

    def figure(self, name: str, max_channels: int = 32, cmap: str = "viridis") -> Any:
        """A Figure of one layer's feature maps for the first example (each map scaled on its own)."""
        act = self[name]
        maps = act.maps
        if maps.ndim == 1:
            maps = maps[:, None, None]
        elif maps.ndim == 2:  # 1-D signals: each channel a strip
            maps = maps[:, None, :]
        c = min(len(maps), max_channels)
        cols = int(np.ceil(np.sqrt(c)))
        rows = int(np.ceil(c / cols))
        fig = new_figure(figsize=(1.2 * cols + 0.4, 1.2 * rows + 0.6))
        for k in range(c):
            ax = fig.add_subplot(rows, cols, k + 1)
            ax.imshow(normalise01(maps[k]), cmap=cmap, interpolation="nearest", aspect="auto")
            ax.set_axis_off()
        dead = "" if act.dead_fraction is None else f", dead {100 * act.dead_fraction:.0f}%"
        fig.suptitle(f"{act.name} ({act.type}) {tuple(act.output.shape[1:])}: mean {act.mean:.3g}, "
                     f"std {act.std:.3g}{dead}", fontsize=9)
        return fig


def _record(store: list, name: str):
    def hook(module: Any, args: Any, out: Any) -> None:
        if isinstance(out, Tensor):
            store.append((name, type(module).__name__, out.numpy().copy()))
    return hook


def activations(model: Any, x: Any, layers: Any = None) -> Activations:
    """Every leaf module's output (or those of `layers`: modules or named_modules() paths) for the
    batch x, recorded with forward hooks in eval mode (modes restored), no graph."""
    arr = as_array(x)
    check_batch(arr, "activations")
    if layers is None:
        chosen = [(n, m) for n, m in model.named_modules() if n and not any(True for _ in m.children())]
    else:
        chosen = [find_module(model, layer, "activations") for layer in
                  ([layers] if isinstance(layers, str) else layers)]
    store: list = []
    handles = [m.register_forward_hook(_record(store, n)) for n, m in chosen]
    try:
        with eval_mode(model), no_grad():
            model(leaf(arr, requires_grad=False))
    finally:
        for h in handles:
            h.remove()
    result = Activations()
    seen: dict[str, int] = {}
    for name, kind, out in store:
        seen[name] = seen.get(name, 0) + 1
        name = name if seen[name] == 1 else f"{name}#{seen[name]}"  # a module called again
        dead = float((out <= 0).all(axis=0).mean()) if kind == "ReLU" else None
        result.layers.append(LayerActivations(name, kind, out, float(out.mean()), float(out.std()), dead))
    return result
