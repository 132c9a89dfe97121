"""Adadelta (Zeiler 2012), `torch.optim.Adadelta`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.optim.optimizer import (
    Optimizer,
    check_non_negative,
    check_unit_interval,
    kernel_options,
    step_counter,
    zeros_state,
)


class Adadelta(Optimizer):
    """Adadelta: RMSProp whose step is rescaled by a running RMS of past *updates*, so the
    update has the units of the parameter and lr can stay 1.0:

        g <- g + weight_decay * p                           (if weight_decay != 0)
        s <- rho s + (1 - rho) g^2
        d <- sqrt(u + eps) / sqrt(s + eps) * g
        u <- rho u + (1 - rho) d^2
        p <- p - lr * d

    The optimizer of seed 004's ConvNetJS demo. Here eps sits inside both square roots (the
    paper's form, and PyTorch's).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        check_non_negative(lr, "learning rate")
        check_unit_interval(rho, "rho value", closed=True)
        check_non_negative(eps, "epsilon value")
        check_non_negative(weight_decay, "weight_decay value")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    **kernel_options("Adadelta", foreach=foreach, capturable=capturable,
                                     differentiable=differentiable,
                                     accepted=("foreach", "capturable", "differentiable"))}
        super().__init__(params, defaults)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = step_counter()
            state["square_avg"] = zeros_state(p)
            state["acc_delta"] = zeros_state(p)
        state["step"].array += 1
        if group["maximize"]:
            g = -g
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        s, u = state["square_avg"].array, state["acc_delta"].array
        s *= rho
        s += (1 - rho) * g * g
        std = np.sqrt(s + eps)
        delta = np.sqrt(u + eps)
        delta /= std
        delta *= g
        u *= rho
        u += (1 - rho) * delta * delta
        p -= group["lr"] * delta
