"""Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), as `torch.optim.Adam/AdamW`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.optim.optimizer import (
    Optimizer,
    apply_weight_decay,
    check_adam_arguments,
    kernel_options,
    step_counter,
    update_moments_,
    zeros_state,
)


class Adam(Optimizer):
    """Adam: momentum on the gradient, RMSProp scaling, both bias-corrected. At step t:

        g <- g + weight_decay * p            (Adam: L2 penalty in the gradient)
        p <- p * (1 - lr * weight_decay)     (AdamW instead: decoupled weight decay)
        v <- beta1 v + (1 - beta1) g          first moment
        a <- beta2 a + (1 - beta2) g^2        second moment
        a_max <- max(a_max, a)               (amsgrad: use a_max in place of a below)
        p <- p - lr / (1 - beta1^t) * v / (sqrt(a) / sqrt(1 - beta2^t) + eps)

    This is seed 000's algorithm exactly: v~ = v / (1 - beta1^t), a~ = a / (1 - beta2^t),
    theta <- theta - lr / (sqrt(a~) + nu) * v~, with nu = eps added after the square root and
    after the bias correction (seed 001's slide writes the same update with nu = 0).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        betas = check_adam_arguments(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    **kernel_options(type(self).__name__, foreach=foreach, capturable=capturable,
                                     differentiable=differentiable, fused=fused)}
        super().__init__(params, defaults)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if not state:
            state["step"] = step_counter()
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = zeros_state(p)
        state["step"].array += 1
        t = float(state["step"].array)
        if group["maximize"]:
            g = -g
        g = apply_weight_decay(p, g, group)
        v, a = state["exp_avg"].array, state["exp_avg_sq"].array
        update_moments_(v, a, g, beta1, beta2)
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = math.sqrt(1 - beta2**t)
        if group["amsgrad"]:
            a_max = state["max_exp_avg_sq"].array
            np.maximum(a_max, a, out=a_max)
            a = a_max
        denom = np.sqrt(a)
        denom /= bias_correction2_sqrt
        denom += group["eps"]
        p += -step_size * (v / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2): p <- p (1 - lr wd) before the Adam step,
    instead of adding wd p to the gradient (where the adaptive scaling would shrink it)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, foreach=foreach,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
