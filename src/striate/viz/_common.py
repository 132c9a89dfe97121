"""What every picture of `st.viz` needs: inputs as leaf tensors, the target score, module
lookup by `named_modules()` path, frozen parameters, and the optional plotting libraries."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from striate.autograd.function import enable_grad
from striate.autograd.tensor import Tensor, _make


def as_array(x: Any) -> np.ndarray:
    """A Tensor or array-like as a float NumPy array (float32 unless it is already float64)."""
    arr = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float32)
    return arr


def leaf(x: Any, requires_grad: bool = True) -> Tensor:
    """A fresh leaf tensor holding a copy of `x`, so gradients never touch the caller's tensor."""
    return _make(np.array(as_array(x), copy=True), requires_grad)


def check_batch(x: np.ndarray, fn: str) -> None:
    if x.ndim < 2:
        raise ValueError(f"{fn}: expected a batch (N, C, ...) such as (N, C, H, W) or (N, C, L), got "
                         f"shape {x.shape}; add the batch axis with x[None]")


def resolve_targets(scores: np.ndarray, target: Any, fn: str) -> np.ndarray:
    """One class index per example: the argmax when `target` is None, an int for all, or one each."""
    n, k = scores.shape[0], scores.shape[1]
    if target is None:
        flat = scores.reshape(n, k, -1).sum(axis=2)
        return flat.argmax(axis=1)
    t = np.asarray(target.numpy() if isinstance(target, Tensor) else target)
    if t.ndim == 0:
        t = np.full(n, int(t))
    if t.shape != (n,) or t.dtype.kind not in "iu":
        raise ValueError(f"{fn}: target must be an int or one int per example ({n}), got {target!r}")
    if t.min() < 0 or t.max() >= k:
        raise ValueError(f"{fn}: target {t.tolist()} out of range for {k} outputs (0..{k - 1})")
    return t.astype(np.int64)


def target_score(out: Any, target: Any, fn: str) -> tuple[Tensor, np.ndarray]:
    """sum_n y_{n, t_n}: the score whose input gradient is each example's gradient (the examples
    of a batch do not interact in eval mode). A spatial output (segmentation) is summed over space."""
    if isinstance(out, (tuple, list)):
        out = out[0]
    if not isinstance(out, Tensor) or out.ndim < 2:
        raise ValueError(f"{fn}: the model must return class scores (N, K, ...), got "
                         f"{getattr(out, 'shape', type(out).__name__)}")
    t = resolve_targets(out.numpy(), target, fn)
    mask = np.zeros(out.shape, out.dtype)
    mask[np.arange(out.shape[0]), t] = 1
    return (out * _make(mask, False)).sum(), t


@contextlib.contextmanager
def frozen(model: Any) -> Iterator[None]:
    """Parameters stop requiring grad for the duration: attributions read input gradients and must
    not write into the parameters' `.grad` (a later optimizer step would use them)."""
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad = False
    try:
        with enable_grad():
            yield
    finally:
        for p in params:
            p.requires_grad = True


@contextlib.contextmanager
def eval_mode(model: Any) -> Iterator[None]:
    """The model (every submodule) in eval mode for the duration, each module's mode restored after."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


def find_module(model: Any, layer: Any, fn: str) -> tuple[str, Any]:
    """(path, module) for a module object or a `named_modules()` path such as 'layer4.1.conv2'."""
    named = list(model.named_modules())
    if isinstance(layer, str):
        for name, module in named:
            if name == layer:
                return name, module
        options = ", ".join(n for n, _ in named if n)[:600]
        raise ValueError(f"{fn}: the model has no module {layer!r}; named_modules() paths are: {options}")
    for name, module in named:
        if module is layer:
            return name, module
    raise ValueError(f"{fn}: layer {type(layer).__name__} is not a module of this model; pass one of "
                     "model.named_modules() or its path")


def spatial(shape: Sequence[int]) -> bool:
    """A (N, C, *space) output with more than one position in space."""
    return len(shape) >= 3 and int(np.prod(shape[2:])) > 1


def require(lib: str) -> Any:
    """matplotlib or Pillow, imported on first use, with the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(lib)
    except ImportError:
        pkg = {"PIL": "Pillow", "matplotlib": "matplotlib"}.get(lib.split(".")[0], lib)
        raise ImportError(f"this picture needs {pkg}: pip install 'striate[viz]'") from None


def new_figure(**kwargs: Any) -> Any:
    """A matplotlib Figure drawn on its own Agg canvas: no window, no pyplot state, no global
    backend switch (`fig.savefig(path)` writes it)."""
    require("matplotlib")
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def normalise01(a: np.ndarray, axes: Sequence[int] | None = None) -> np.ndarray:
    """Min-max scaled to [0, 1] (over `axes`, or the whole array); a constant array becomes 0."""
    a = np.asarray(a, np.float64)
    lo = a.min(axis=axes, keepdims=True) if axes is not None else a.min()
    hi = a.max(axis=axes, keepdims=True) if axes is not None else a.max()
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    return (a - lo) / span
