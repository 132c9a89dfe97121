"""RMSProp (Tieleman & Hinton 2012), `torch.optim.RMSprop`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.optim.optimizer import (
    Optimizer,
    check_non_negative,
    kernel_options,
    lerp_,
    step_counter,
    zeros_state,
)


class RMSprop(Optimizer):
    """RMSProp: divide the gradient by a running root mean square of recent gradients.

        g <- g + weight_decay * p                       (if weight_decay != 0)
        s <- alpha * s + (1 - alpha) * g^2
        m <- alpha * m + (1 - alpha) * g                 (centered only)
        r <- sqrt(s - m^2) (centered)  or  sqrt(s),   then  r <- r + eps
        b <- momentum * b + g / r;  p <- p - lr * b      (momentum > 0)
        p <- p - lr * g / r                              (otherwise)

    How this maps to seed 001's slide: S_t = beta S_{t-1} + (1 - beta) G_t^2 is s (beta is
    `alpha` here, default 0.99), and W <- W - lr / sqrt(S_t) * G_t is the update with eps = 0.
    PyTorch adds eps *outside* the square root, sqrt(s) + eps (some texts write sqrt(s + eps));
    striate follows PyTorch so the numbers match. `centered` and `momentum` are PyTorch options
    the slide does not have.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_non_negative(lr, "learning rate")
        check_non_negative(eps, "epsilon value")
        check_non_negative(momentum, "momentum value")
        check_non_negative(weight_decay, "weight_decay value")
        check_non_negative(alpha, "alpha value")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "maximize": maximize,
                    **kernel_options("RMSprop", foreach=foreach, capturable=capturable,
                                     differentiable=differentiable,
                                     accepted=("foreach", "capturable", "differentiable"))}
        super().__init__(params, defaults)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        alpha, momentum, weight_decay = group["alpha"], group["momentum"], group["weight_decay"]
        if not state:
            state["step"] = step_counter()
            state["square_avg"] = zeros_state(p)
            if momentum > 0:
                state["momentum_buffer"] = zeros_state(p)
            if group["centered"]:
                state["grad_avg"] = zeros_state(p)
        state["step"].array += 1
        if group["maximize"]:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        s = state["square_avg"].array
        s *= alpha
        s += (1 - alpha) * g * g
        if group["centered"]:
            m = state["grad_avg"].array
            lerp_(m, g, 1 - alpha)
            r = np.sqrt(s - m * m)
        else:
            r = np.sqrt(s)
        r += group["eps"]
        if momentum > 0:
            b = state["momentum_buffer"].array
            b *= momentum
            b += g / r
            p -= group["lr"] * b
        else:
            p += -group["lr"] * (g / r)

