"""NAdam, Adam with Nesterov momentum (Dozat 2016), as `torch.optim.NAdam`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.optim.optimizer import (
    Optimizer,
    apply_weight_decay,
    begin_step,
    check_adam_arguments,
    check_non_negative,
    kernel_options,
    scalar_state,
    step_counter,
    update_moments_,
    zeros_state,
)


class NAdam(Optimizer):
    """Adam that looks one momentum step ahead, with Dozat's warming momentum schedule:

        mu_t = beta1 (1 - 0.5 * 0.96^(t psi))         psi = momentum_decay
        g <- g + weight_decay * p   (or p <- p (1 - lr wd) with decoupled_weight_decay: NAdamW)
        m <- beta1 m + (1 - beta1) g;   v <- beta2 v + (1 - beta2) g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        p <- p - lr (1 - mu_t) / (1 - prod_{i<=t} mu_i) * g / d
               - lr mu_{t+1} / (1 - prod_{i<=t+1} mu_i) * m / d

    The product of the mu's is kept in the state as a float32 0-d tensor ("mu_product"),
    as PyTorch keeps it, so the rounding is the same.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:
        betas = check_adam_arguments(lr, betas, eps, weight_decay)
        check_non_negative(momentum_decay, "momentum_decay value")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize,
                    **kernel_options("NAdam", foreach=foreach, capturable=capturable,
                                     differentiable=differentiable,
                                     accepted=("foreach", "capturable", "differentiable"))}
        super().__init__(params, defaults)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if not state:
            state["step"] = step_counter()
            state["mu_product"] = scalar_state(1.0)
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
        g, t = begin_step(state, g, group)
        bias_correction2 = 1 - beta2**t
        g = apply_weight_decay(p, g, group)
        psi = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * psi)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * psi)))
        product = state["mu_product"].array
        product *= np.float32(mu)
        mu_product = float(product)
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        update_moments_(m, v, g, beta1, beta2)
        denom = np.sqrt(v / p.dtype.type(bias_correction2))
        denom += p.dtype.type(group["eps"])
        p += p.dtype.type(-lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
        p += p.dtype.type(-lr * mu_next / (1.0 - mu_product * mu_next)) * (m / denom)
