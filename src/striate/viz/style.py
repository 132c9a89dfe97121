"""Neural style transfer (Gatys, Ecker & Bethge 2016): an image with one image's content and
another's style, "style measured by the correlations between feature vectors" (seeds 002, 004).

    G^l = F^l F^l^T / (C_l * M_l)          Gram matrix of layer l's C_l maps of M_l positions
    L = a * sum_content ||F^l(x) - F^l(c)||^2 / size + b * sum_style ||G^l(x) - G^l(s)||^2 + tv TV(x)

minimised over the pixels of x (started from the content image) with Adam or L-BFGS. Any CNN
works: the features come from forward hooks on the named layers (the forward stops after the
last one, so the input may have any size the convolutions accept).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.autograd.function import no_grad
from striate.autograd.tensor import Tensor, _make
from striate.viz._common import as_array, eval_mode, frozen, leaf
from striate.viz.capture import capture
from striate.viz.transforms import total_variation


def gram_matrix(features: Tensor) -> Tensor:
    """(N, C, *space) -> (N, C, C): F F^T / (C * M), F the maps flattened to M positions."""
    n, c = features.shape[:2]
    f = features.reshape((n, c, -1))
    return (f @ f.transpose(1, 2)) / float(c * f.shape[2])


def _one_image(x: Any, what: str) -> np.ndarray:
    arr = as_array(x)
    arr = arr[None] if arr.ndim == 3 else arr
    if arr.ndim != 4 or len(arr) != 1:
        raise ValueError(f"style_transfer: the {what} image must be one image (C, H, W), got "
                         f"{as_array(x).shape}")
    return arr


def _loss_fn(model, content_layers, style_layers, content_ref, style_ref, content_weight, style_weight, tv):
    layers = list(dict.fromkeys([*content_layers, *style_layers]))

    def loss(x: Tensor) -> Tensor:
        feats = capture(model, x, layers, "style_transfer")
        total = _make(np.zeros((), x.dtype), False)
        for name in content_layers:
            d = feats[name] - content_ref[name]
            total = total + content_weight * (d * d).mean()
        for name in style_layers:
            d = gram_matrix(feats[name]) - style_ref[name]
            total = total + style_weight * (d * d).sum()
        return total + tv * total_variation(x) if tv else total
    return loss, layers


def style_transfer(model: Any, content: Any, style: Any, content_layers: Sequence[str],
                   style_layers: Sequence[str], content_weight: float = 1.0, style_weight: float = 1e3,
                   tv: float = 0.0, steps: int = 200, optimizer: str = "adam", lr: float = 0.02,
                   clamp: tuple[float, float] | None = None) -> np.ndarray:
    """The content image (C, H, W) repainted with the style image's Gram statistics at
    `style_layers` while keeping its features at `content_layers` (named_modules() paths of any
    CNN). optimizer 'adam' (striate's Adam, `lr`) or 'lbfgs' (SciPy's L-BFGS-B, needs scipy).
    Returns the image (C, H, W). Deterministic (starts from the content image)."""
    c_img, s_img = _one_image(content, "content"), _one_image(style, "style")
    with eval_mode(model), frozen(model), no_grad():
        c_feats = capture(model, leaf(c_img, False), list(content_layers), "style_transfer")
        s_feats = capture(model, leaf(s_img, False), list(style_layers), "style_transfer")
        content_ref = {k: v.detach() for k, v in c_feats.items()}
        style_ref = {k: gram_matrix(v).detach() for k, v in s_feats.items()}
    loss_of, _ = _loss_fn(model, list(content_layers), list(style_layers), content_ref, style_ref,
                          content_weight, style_weight, tv)
    with eval_mode(model), frozen(model):
        if optimizer == "lbfgs":
            return _lbfgs(loss_of, c_img, steps, clamp)[0]
        if optimizer != "adam":
            raise ValueError(f"style_transfer: optimizer must be 'adam' or 'lbfgs', got {optimizer!r}")
        return _adam(loss_of, c_img, steps, lr, clamp)[0]


def _adam(loss_of, start: np.ndarray, steps: int, lr: float, clamp) -> np.ndarray:
    from striate.nn.parameter import Parameter
    from striate.optim import Adam

    x = Parameter(_make(start.copy(), False))
    opt = Adam([x], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss_of(x).backward()
        opt.step()
        if clamp is not None:
            np.clip(x.numpy(), clamp[0], clamp[1], out=x.numpy())
    return x.numpy().copy()


def _lbfgs(loss_of, start: np.ndarray, steps: int, clamp) -> np.ndarray:
    try:
        from scipy.optimize import minimize
    except ImportError:
        raise ImportError("style_transfer(optimizer='lbfgs') needs SciPy: pip install scipy "
                          "(or use optimizer='adam')") from None

    def value_and_grad(flat: np.ndarray) -> tuple[float, np.ndarray]:
        x = leaf(flat.reshape(start.shape).astype(start.dtype))
        loss = loss_of(x)
        loss.backward()
        return float(loss), x.grad.numpy().astype(np.float64).ravel()

    bounds = None if clamp is None else [clamp] * start.size
    res = minimize(value_and_grad, start.astype(np.float64).ravel(), jac=True, method="L-BFGS-B",
                   bounds=bounds, options={"maxiter": steps})
    return res.x.reshape(start.shape).astype(start.dtype)
