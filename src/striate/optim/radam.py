"""RAdam, rectified Adam (Liu et al. 2020), as `torch.optim.RAdam`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.optim.optimizer import (
    Optimizer,
    apply_weight_decay,
    begin_step,
    check_adam_arguments,
    kernel_options,
    step_counter,
    update_moments_,
    zeros_state,
)


class RAdam(Optimizer):
    """Adam whose adaptive step is switched on only once the variance of its second moment is
    tractable, and then scaled by a rectification term. At step t:

        g <- g + weight_decay * p   (or p <- p (1 - lr wd) with decoupled_weight_decay)
        m <- beta1 m + (1 - beta1) g;   v <- beta2 v + (1 - beta2) g^2
        m^ = m / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1;   rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                    p <- p - lr m^ r sqrt(1 - beta2^t) / (sqrt(v) + eps)
        otherwise:  p <- p - lr m^            (plain momentum SGD for the first few steps)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        betas = check_adam_arguments(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    **kernel_options("RAdam", foreach=foreach, capturable=capturable,
                                     differentiable=differentiable,
                                     accepted=("foreach", "capturable", "differentiable"))}
        super().__init__(params, defaults)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if not state:
            state["step"] = step_counter()
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
        g, t = begin_step(state, g, group)
        g = apply_weight_decay(p, g, group)
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        update_moments_(m, v, g, beta1, beta2)
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        corrected = m / p.dtype.type(bias_correction1)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2**t) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            # PyTorch writes c / x as reciprocal(x) * c
            scale = p.dtype.type(math.sqrt(bias_correction2))
            adaptive = (1 / (np.sqrt(v) + p.dtype.type(group["eps"]))) * scale
            p -= corrected * p.dtype.type(lr) * adaptive * p.dtype.type(rect)
        else:
            p -= corrected * p.dtype.type(lr)
