"""Averaged SGD (Polyak & Juditsky 1992), as `torch.optim.ASGD`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.optim.optimizer import (
    Optimizer,
    apply_weight_decay,
    begin_step,
    check_non_negative,
    kernel_options,
    scalar_state,
    step_counter,
    zeros_state,
)


class ASGD(Optimizer):
    """SGD with a decaying step eta and a running average `ax` of the iterates (the average is
    what one evaluates; the parameters themselves follow plain decayed SGD). At step t:

        g <- g + weight_decay * p                  (if weight_decay != 0)
        p <- p (1 - lambd eta) - eta g
        ax <- ax + mu (p - ax)    (ax <- p while mu = 1, i.e. for the first t0 steps)
        eta <- lr / (1 + lambd lr t)^alpha;   mu <- 1 / max(1, t - t0)

    eta and mu are kept as float32 0-d tensors, as PyTorch keeps them.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0.0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        check_non_negative(lr, "learning rate")
        check_non_negative(weight_decay, "weight_decay value")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "maximize": maximize,
                    **kernel_options("ASGD", foreach=foreach, capturable=capturable,
                                     differentiable=differentiable,
                                     accepted=("foreach", "capturable", "differentiable"))}
        super().__init__(params, defaults)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        lr, lambd = group["lr"], group["lambd"]
        if not state:
            state["step"] = step_counter()
            state["eta"] = scalar_state(lr)
            state["mu"] = scalar_state(1.0)
            state["ax"] = zeros_state(p)
        g, t = begin_step(state, g, group)
        g = apply_weight_decay(p, g, group)
        eta = float(state["eta"].array)
        p *= 1 - lambd * eta
        p -= p.dtype.type(eta) * g
        ax, mu = state["ax"].array, state["mu"].array
        if float(mu) != 1:
            ax += (p - ax) * mu.astype(p.dtype)
        else:
            ax[...] = p
        state["eta"].array[...] = np.float32(lr / ((1 + lambd * lr * t) ** group["alpha"]))
        state["mu"].array[...] = np.float32(1 / max(1, t - group["t0"]))
