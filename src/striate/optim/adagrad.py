"""Adagrad (Duchi et al. 2011), `torch.optim.Adagrad`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from striate.optim.optimizer import Optimizer, check_non_negative, kernel_options, step_counter, zeros_state


class Adagrad(Optimizer):
    """Adagrad: each coordinate's step shrinks with the sum of its squared gradients. At step t:

        g <- g + weight_decay * p                 (if weight_decay != 0)
        clr = lr / (1 + (t - 1) * lr_decay)
        s <- s + g^2                              (s starts at initial_accumulator_value)
        p <- p - clr * g / (sqrt(s) + eps)

    RMSProp (seed 001) replaces this ever-growing sum by a decaying average.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        check_non_negative(lr, "learning rate")
        check_non_negative(lr_decay, "lr_decay value")
        check_non_negative(weight_decay, "weight_decay value")
        check_non_negative(initial_accumulator_value, "initial_accumulator_value")
        check_non_negative(eps, "epsilon value")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "maximize": maximize,
                    **kernel_options("Adagrad", foreach=foreach, differentiable=differentiable, fused=fused,
                                     accepted=("foreach", "differentiable", "fused"))}
        super().__init__(params, defaults)
        # PyTorch creates Adagrad's state up front, so state_dict() lists it before any step
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p.array, self.state[p], group)

    @staticmethod
    def _init_state(p: np.ndarray, state: dict, group: dict) -> None:
        state["step"] = step_counter()
        state["sum"] = zeros_state(p, group["initial_accumulator_value"])

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict, group: dict) -> None:
        if not state:  # a parameter group added after construction
            self._init_state(p, state, group)
        state["step"].array += 1
        t = float(state["step"].array)
        if group["maximize"]:
            g = -g
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        s = state["sum"].array
        s += g * g
        std = np.sqrt(s)
        std += group["eps"]
        p += -clr * (g / std)
