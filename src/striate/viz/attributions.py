"""Which input pixels a class score depends on: gradients of the score with respect to the input.

    saliency             |d y_c / d x|                                   (Simonyan et al. 2014)
    gradient_x_input     x * d y_c / d x
    guided_backprop      d y_c / d x with ReLU's backward replaced by    (Springenberg et al. 2015)
                         g_in = [y > 0] * max(g_out, 0)
    smoothgrad           mean over n noisy copies x + N(0, sigma^2) of   (Smilkov et al. 2017)
                         d y_c / d x, sigma = noise_level * (max x - min x)
    integrated_gradients (x - x') * (1/m) sum_{k=1..m} d y_c/d x at      (Sundararajan et al. 2017)
                         x' + (k/m)(x - x')

Every function takes any model built from `st.nn` and a batch x of shape (N, C, H, W) or
(N, C, L), a `target` (None: each example's argmax; an int; or one int per example), and returns a
NumPy array of x's shape. The model's parameters are left untouched (no `.grad` written). The
model runs in the mode it is in: call `model.eval()` first so BatchNorm uses its running
statistics and Dropout is off (the examples of a batch then do not interact).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from striate import tuning
from striate.ops.activation import ReLU
from striate.viz._common import as_array, check_batch, frozen, leaf, target_score


def input_gradient(model: Any, x: Any, target: Any = None,
                   fn: str = "saliency") -> tuple[np.ndarray, np.ndarray]:
    """(d y_t / d x, the targets used): one forward and one backward pass."""
    arr = as_array(x)
    check_batch(arr, fn)
    inp = leaf(arr)
    with frozen(model):
        score, t = target_score(model(inp), target, fn)
        score.backward()
    grad = inp.grad.numpy() if inp.grad is not None else np.zeros_like(arr)
    return grad, t


def saliency(model: Any, x: Any, target: Any = None, abs: bool = True) -> np.ndarray:  # noqa: A002
    """Vanilla gradient saliency |d y_target / d x| (the signed gradient with abs=False)."""
    grad, _ = input_gradient(model, x, target, "saliency")
    return np.abs(grad) if abs else grad


def gradient_x_input(model: Any, x: Any, target: Any = None) -> np.ndarray:
    """x * d y_target / d x: the first-order Taylor contribution of each input value."""
    grad, _ = input_gradient(model, x, target, "gradient_x_input")
    return grad * as_array(x)


def _guided_relu_backward(self: ReLU, g: np.ndarray) -> tuple[np.ndarray]:
    """Guided backpropagation's ReLU rule: pass a gradient only where the forward output was
    positive AND the gradient arriving from above is positive."""
    return (np.where((self.out > 0) & (g > 0), g, g.dtype.type(0)),)


@contextlib.contextmanager
def guided_relu() -> Iterator[None]:
    """Inside this block every ReLU (nn.ReLU modules, F.relu, in-place or not) backpropagates with
    the guided rule. The model is not edited: the rule is swapped on the autograd engine's ReLU
    node for the duration of the block and restored on exit, even after an exception. Not
    thread-safe: do not train in another thread while the block runs. `nn.Sequential`'s fusion
    of a layer with the ReLU after it is paused too, so that every ReLU is its own node here."""
    original, fuse = ReLU.backward, tuning.FUSE_SEQUENTIAL
    ReLU.backward, tuning.FUSE_SEQUENTIAL = _guided_relu_backward, False
    try:
        yield
    finally:
        ReLU.backward, tuning.FUSE_SEQUENTIAL = original, fuse


def guided_backprop(model: Any, x: Any, target: Any = None) -> np.ndarray:
    """Guided backpropagation: the input gradient with every ReLU's backward replaced by
    [y > 0] * max(g, 0) (signed; take a positive part or abs to draw it)."""
    with guided_relu():
        grad, _ = input_gradient(model, x, target, "guided_backprop")
    return grad


def smoothgrad(model: Any, x: Any, target: Any = None, n_samples: int = 25, noise_level: float = 0.15,
               seed: int = 0, squared: bool = False) -> np.ndarray:
    """SmoothGrad: the mean input gradient over `n_samples` noisy copies of x.

    sigma = noise_level * (max - min) of each example; the noise comes from
    `np.random.default_rng(seed).standard_normal((n_samples, *x.shape))` (seeded, reproducible,
    the global random stream untouched). The target defaults to the argmax on the clean input.
    With squared=True the mean of squared gradients (SmoothGrad-squared).
    """
    arr = as_array(x)
    check_batch(arr, "smoothgrad")
    if n_samples < 1 or noise_level < 0:
        raise ValueError("smoothgrad: need n_samples >= 1 and noise_level >= 0, got "
                         f"{n_samples}, {noise_level}")
    if target is None:
        _, target = input_gradient(model, arr, None, "smoothgrad")
    axes = tuple(range(1, arr.ndim))
    sigma = noise_level * (arr.max(axis=axes, keepdims=True) - arr.min(axis=axes, keepdims=True))
    noise = np.random.default_rng(seed).standard_normal((n_samples, *arr.shape)).astype(arr.dtype)
    total = np.zeros_like(arr)
    for eps in noise:
        grad, _ = input_gradient(model, arr + sigma * eps, target, "smoothgrad")
        total += grad * grad if squared else grad
    return total / n_samples


def integrated_gradients(model: Any, x: Any, target: Any = None, baseline: Any = None,
                         steps: int = 50) -> np.ndarray:
    """Integrated gradients from `baseline` (default zeros) to x along the straight line, right
    Riemann sum with `steps` points: (x - x') * (1/m) sum_{k=1..m} grad(x' + k/m (x - x')).
    The attributions sum to about y_t(x) - y_t(x') (completeness; closer with more steps)."""
    arr = as_array(x)
    check_batch(arr, "integrated_gradients")
    if steps < 1:
        raise ValueError(f"integrated_gradients: steps must be >= 1, got {steps}")
    base = np.zeros_like(arr) if baseline is None else np.broadcast_to(as_array(baseline), arr.shape)
    if target is None:
        _, target = input_gradient(model, arr, None, "integrated_gradients")
    total = np.zeros_like(arr)
    for k in range(1, steps + 1):
        grad, _ = input_gradient(model, base + (k / steps) * (arr - base), target, "integrated_gradients")
        total += grad
    return (arr - base) * total / steps
