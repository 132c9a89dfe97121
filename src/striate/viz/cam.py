"""Class activation maps: where in a layer's feature maps the evidence for a class lies.

    Grad-CAM    (Selvaraju et al. 2017)  alpha_k = mean over space of d y_c / d A^k
                                         cam = relu(sum_k alpha_k A^k)
    Grad-CAM++  (Chattopadhay et al. 2018, in the closed form of pytorch-grad-cam)
                a = g^2 / (2 g^2 + sum_space(A^k) g^3 + eps), a = 0 where g = 0,
                w_k = sum over space of a * relu(g),   cam = relu(sum_k w_k A^k)
    guided Grad-CAM  guided backpropagation * Grad-CAM resized to the input

The layer is a module or its `named_modules()` path; by default the last module (in the order the
forward pass finishes them) whose output still has spatial extent: it works on any architecture
built from `st.nn` (plain, residual, Inception, 1-D) without naming attributes. The maps are
(N, *spatial size of the layer's output), neither normalised nor resized: `st.viz.overlay`
does that.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import no_grad
from striate.autograd.tensor import Tensor, _make
from striate.viz._common import (
    as_array,
    check_batch,
    eval_mode,
    find_module,
    frozen,
    leaf,
    spatial,
    target_score,
)


def find_cam_layer(model: Any, x: Any) -> str:
    """The `named_modules()` path of the last module whose output has more than one position in
    space, found with forward hooks on one example (eval mode, no graph, modes restored). When
    several modules finish with the same output (a block and its last layer) the outermost wins."""
    arr = as_array(x)
    check_batch(arr, "grad_cam")
    finished: list[str] = []

    def record(name: str):
        def hook(module, args, out):
            if isinstance(out, Tensor) and spatial(out.shape):
                finished.append(name)
        return hook

    handles = [m.register_forward_hook(record(n)) for n, m in model.named_modules() if n]
    try:
        with eval_mode(model), no_grad():
            model(_make(arr[:1], False))
    finally:
        for h in handles:
            h.remove()
    if not finished:
        raise ValueError(f"grad_cam: no module of {type(model).__name__} outputs a map with spatial "
                         f"extent for an input of shape {arr.shape}; Grad-CAM needs a convolutional layer")
    return finished[-1]


def layer_gradients(model: Any, x: Any, target: Any = None, layer: Any = None,
                    fn: str = "grad_cam") -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(A, d y_t / d A, targets, layer path) for the layer's output A.

    A forward hook hands the rest of the network a fresh leaf holding A's values, so one
    backward pass stops right there: no gradient is computed below the layer and the model is not
    edited. A module called several times (a shared ReLU) contributes its last call."""
    arr = as_array(x)
    check_batch(arr, fn)
    name = find_cam_layer(model, arr) if layer is None else find_module(model, layer, fn)[0]
    module = model.get_submodule(name) if name else model
    calls: list[Tensor] = []

    def hook(m, args, out):
        if not isinstance(out, Tensor):
            raise ValueError(f"{fn}: layer {name!r} returns {type(out).__name__}, not a tensor; "
                             "choose a module that returns one feature map")
        a = _make(out._data, True)
        calls.append(a)
        return a.clone()  # a leaf cannot be changed in place (a ReLU(inplace=True) next): a copy can

    with frozen(model), module.register_forward_hook(hook):
        score, t = target_score(model(leaf(arr, requires_grad=False)), target, fn)
        if not calls:
            raise ValueError(f"{fn}: layer {name!r} was not called in the forward pass")
        if calls[-1].ndim < 3:
            raise ValueError(f"{fn}: layer {name!r} outputs shape {calls[-1].shape}, which has no spatial "
                             "axes; choose a convolutional or pooling layer")
        score.backward()
    a = calls[-1]
    grad = a.grad.numpy() if a.grad is not None else np.zeros_like(a.numpy())
    return a.numpy(), grad, t, name


def _weighted_sum(weights: np.ndarray, acts: np.ndarray, relu: bool) -> np.ndarray:
    cam = np.einsum("nc,nc...->n...", weights, acts)
    return np.maximum(cam, 0) if relu else cam


def grad_cam(model: Any, x: Any, target: Any = None, layer: Any = None, relu: bool = True) -> np.ndarray:
    """Grad-CAM: relu(sum_k alpha_k A^k), alpha_k the spatial mean of d y_target / d A^k.

    Returns (N, *spatial size of the layer's output), not normalised, not resized. `layer`: a
    module or its named_modules() path (default: the last module with spatial output); `target`:
    None (argmax), an int, or one int per example; relu=False keeps negative evidence."""
    acts, grads, _, _ = layer_gradients(model, x, target, layer, "grad_cam")
    alpha = grads.mean(axis=tuple(range(2, grads.ndim)))
    return _weighted_sum(alpha, acts, relu)


def grad_cam_pp(model: Any, x: Any, target: Any = None, layer: Any = None, relu: bool = True,
                eps: float = 1e-7) -> np.ndarray:
    """Grad-CAM++: pixel-weighted gradients (second and third powers of g, closed form for an
    exponential score), same shape and conventions as `grad_cam`."""
    acts, g, _, _ = layer_gradients(model, x, target, layer, "grad_cam_pp")
    space = tuple(range(2, g.ndim))
    sum_a = acts.sum(axis=space, keepdims=True)
    g2 = g * g
    denom = 2 * g2 + sum_a * g2 * g + g.dtype.type(eps)
    a = np.where(g != 0, g2 / denom, 0).astype(g.dtype)
    weights = (a * np.maximum(g, 0)).sum(axis=space)
    return _weighted_sum(weights, acts, relu)


def guided_grad_cam(model: Any, x: Any, target: Any = None, layer: Any = None) -> np.ndarray:
    """Guided Grad-CAM: guided backpropagation times the Grad-CAM map resized (bilinear, as
    F.interpolate with align_corners=False) to the input's spatial size; x's shape."""
    from striate.viz.attributions import guided_backprop
    from striate.viz.display import resize

    arr = as_array(x)
    if target is None:
        _, _, target, _ = layer_gradients(model, arr, None, layer, "guided_grad_cam")
    cam = grad_cam(model, arr, target, layer)
    guided = guided_backprop(model, arr, target)
    return guided * resize(cam, arr.shape[2:])[:, None].astype(guided.dtype)
