"""Stochastic gradient descent, with momentum and Nesterov momentum (`torch.optim.SGD`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.autograd.tensor import wrap
from striate.optim.optimizer import Optimizer, check_non_negative, kernel_options


class SGD(Optimizer):
    """SGD with optional momentum, in PyTorch's form. For each parameter p with gradient g:

        g <- g + weight_decay * p                         (L2 penalty, if weight_decay != 0)
        v <- g                       on the first step,
        v <- momentum * v + (1 - dampening) * g    afterwards
        d <- g + momentum * v   (nesterov)   or   d <- v
        p <- p - lr * d                                   (p + lr * d with maximize=True)

    How this maps to the lectures: seed 003 writes momentum as a velocity in parameter units,
    dw(n) = -lr g + alpha dw(n-1), w += dw; with a constant lr that is exactly PyTorch's rule
    (dw = -lr v), but when lr changes PyTorch's v keeps the old gradients at the new lr. Seed
    001's slide "W <- W - lr (beta G_{t-1} + G_t)" adds only the previous *gradient*, not the
    decayed sum of all of them; PyTorch (and striate) use the full exponentially decayed sum
    v_t = g_t + beta g_{t-1} + beta^2 g_{t-2} + ..., whose first two terms are the slide's.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        check_non_negative(lr, "learning rate")
        check_non_negative(momentum, "momentum value")
        check_non_negative(weight_decay, "weight_decay value")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"Nesterov momentum requires a momentum and zero dampening (got momentum={momentum}, "
                f"dampening={dampening})"
            )
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize,
                    **kernel_options("SGD", foreach=foreach, differentiable=differentiable, fused=fused,
                                     accepted=("foreach", "differentiable", "fused"))}
        super().__init__(params, defaults)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        if group["maximize"]:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                state["momentum_buffer"] = buf = wrap(np.array(g, copy=True), False)
            else:
                v = buf.array
                v *= momentum
                dampening = group["dampening"]
                v += g if dampening == 0 else (1 - dampening) * g
            g = g + momentum * buf.array if group["nesterov"] else buf.array
        p -= lr * g
