"""What the publisher looks at inside the network on a "tick": per-layer activations and their
gradients (captured during one real training step through forward hooks and identity taps),
weights, weight gradients and update/weight ratios, and a rolling panel of held-out images."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np

from striate.autograd.function import no_grad
from striate.autograd.tensor import Tensor, _make
from striate.dashboard import stats

MAPS_LAYERS = 6  # activation pictures for the first few 4-D layers only


def leaf_modules(model) -> list[tuple[str, Any]]:
    return [(name or type(m).__name__, m) for name, m in model.named_modules()
            if not any(True for _ in m.children())]


def param_count(module) -> int:
    return int(sum(p._data.size for p in module.parameters()))


def _module_params(module) -> list[Any]:
    return [p for _, p in module.named_parameters(recurse=False)]


class LayerCapture:
    """Hooks on every leaf module for ONE training step; `finish()` returns the layer rows."""

    def __init__(self, model) -> None:
        self.layers = leaf_modules(model)
        self.rows: dict[str, dict[str, Any]] = {}
        self.before = {name: [p._data.copy() for p in _module_params(m)] for name, m in self.layers}
        self.handles = [m.register_forward_hook(self._hook(name, m)) for name, m in self.layers]
        self._maps = 0
        self.cost = 0.0  # seconds spent in the hooks during the step

    def _hook(self, name: str, module):
        def hook(mod, args, output):
            if not isinstance(output, Tensor) or not mod.training:  # a prediction, not the step
                return None
            start = time.perf_counter()
            try:
                return record(output)
            finally:
                self.cost += time.perf_counter() - start

        def sink(row, g):
            start = time.perf_counter()
            row["agrad"] = stats.summarize(g)
            self.cost += time.perf_counter() - start

        def record(output):
            a = output._data
            row = self.rows.setdefault(name, {})
            row["act"] = stats.summarize(a)
            row["shape"] = list(a.shape[1:])
            if "ReLU" in type(module).__name__:
                row["dead"] = stats.dead_fraction(a)
            if a.ndim == 4 and self._maps < MAPS_LAYERS:
                row["map"] = stats.layer_map(a)
                self._maps += 1
            if not output.requires_grad:
                return None
            return stats.Tap.apply(output, sink=lambda g: sink(row, g))
        return hook

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []

    def finish(self) -> list[dict[str, Any]]:
        """Rows after the captured step's update: weights, their gradients, update/weight."""
        self.remove()
        out = []
        for name, m in self.layers:
            row = {"name": name, "type": type(m).__name__, "params": param_count(m)}
            row.update(self.rows.get(name, {}))
            params = _module_params(m)
            if params:
                w = np.concatenate([p._data.reshape(-1) for p in params])
                row["w"] = stats.summarize(w)
                grads = [p.grad._data.reshape(-1) for p in params if p.grad is not None]
                if grads:
                    row["wgrad"] = stats.summarize(np.concatenate(grads))
                delta = np.concatenate([(p._data - b).reshape(-1) for p, b in zip(params, self.before[name])])
                wn = float(np.linalg.norm(w))
                row["ratio"] = float(np.linalg.norm(delta)) / wn if wn > 0 else 0.0
            weight = getattr(m, "weight", None)
            if weight is not None and weight._data.ndim == 4:  # the filters, as ConvNetJS draws them
                row["filters"] = stats.layer_map(weight._data[None, :, 0])
            out.append(row)
        return out


class ProbePanel:
    """A pool of held-out examples shown a few at a time with the model's probabilities; keeps
    the accuracy over the last 200 shown (ConvNetJS's test panel)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, per_tick: int = 8, window: int = 200) -> None:
        self.x, self.y, self.per_tick = x, y, per_tick
        self.next = 0
        self.sent: set[int] = set()
        self.recent: deque[bool] = deque(maxlen=window)

    def tick(self, model) -> dict[str, Any]:
        idx = [(self.next + i) % len(self.x) for i in range(min(self.per_tick, len(self.x)))]
        self.next = (idx[-1] + 1) % len(self.x)
        probs = predict_probs(model, self.x[idx])
        items = []
        for i, p in zip(idx, probs):
            top = np.argsort(-p)[:3]
            self.recent.append(int(top[0]) == int(self.y[i]))
            item = {"i": i, "label": int(self.y[i]), "top": [[int(k), float(p[k])] for k in top]}
            if i not in self.sent:
                self.sent.add(i)
                c, h, w = self.x[i].shape
                item.update(img=stats.image_bytes(self.x[i]), c=c, h=h, w=w)
            items.append(item)
        return {"items": items, "acc_recent": float(np.mean(self.recent)), "n_recent": len(self.recent)}


def predict_probs(model, x: np.ndarray) -> np.ndarray:
    """Softmax probabilities of `model` on a batch, in eval mode, restoring its mode after."""
    from striate.ops.activation import softmax

    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with no_grad():
            return softmax(model(_make(np.ascontiguousarray(x, np.float32), False)), dim=1).numpy()
    finally:
        model.train(was_training)


def first_examples(loader, limit: int = 256) -> tuple[np.ndarray, np.ndarray] | None:
    """Up to `limit` examples from a loader (the probe pool), or None without one."""
    if loader is None:
        return None
    xs, ys, n = [], [], 0
    for x, y in loader:
        x = x._data if isinstance(x, Tensor) else np.asarray(x)
        y = y._data if isinstance(y, Tensor) else np.asarray(y)
        xs.append(x)
        ys.append(y)
        n += len(x)
        if n >= limit:
            break
    if not xs:
        return None
    return np.concatenate(xs)[:limit], np.concatenate(ys)[:limit]
