"""Adamax (Kingma & Ba 2015, section 7.1), as `torch.optim.Adamax`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.optim.optimizer import (
    Optimizer,
    apply_weight_decay,
    begin_step,
    check_adam_arguments,
    kernel_options,
    lerp_,
    step_counter,
    zeros_state,
)


class Adamax(Optimizer):
    """Adam with the infinity norm in place of the second moment. At step t:

        g <- g + weight_decay * p              (L2 penalty, if weight_decay != 0)
        m <- beta1 m + (1 - beta1) g            first moment
        u <- max(beta2 u, |g| + eps)            exponentially weighted infinity norm
        p <- p - lr / (1 - beta1^t) * m / u

    u needs no bias correction (the max of decayed values is not biased towards 0); eps sits
    inside the max, as in PyTorch, so u > 0 from the first step.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        betas = check_adam_arguments(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    **kernel_options("Adamax", foreach=foreach, capturable=capturable,
                                     differentiable=differentiable,
                                     accepted=("foreach", "capturable", "differentiable"))}
        super().__init__(params, defaults)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = step_counter()
            state["exp_avg"] = zeros_state(p)
            state["exp_inf"] = zeros_state(p)
        g, t = begin_step(state, g, group)
        g = apply_weight_decay(p, g, group)
        m, u = state["exp_avg"].array, state["exp_inf"].array
        lerp_(m, g, 1 - beta1)
        u *= beta2
        np.maximum(u, np.abs(g) + p.dtype.type(group["eps"]), out=u)
        clr = group["lr"] / (1 - beta1**t)
        p += -clr * (m / u)
