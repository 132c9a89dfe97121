"""The optimizer base class: parameter groups, per-parameter state, and state_dict.

An optimizer holds `param_groups`, a list of dicts, each with its `params` and its own settings
(lr, momentum, ...), so one model can train its parts at different rates; and `state[p]`, a dict
per parameter (momentum buffer, running averages, step count). A subclass writes one method,
`_update(p, g, state, group)`: the update of one parameter array `p` (in place) from its
gradient `g`. `step()` runs it for every parameter that has a gradient.

`state_dict()` has PyTorch's layout: {"state": {0: {...}, 1: {...}}, "param_groups": [{...,
"params": [0, 1]}]}, parameters numbered in group order, arrays as striate Tensors, everything
else plain numbers, so `st.save` can store it as safetensors + JSON.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from striate.autograd.function import enable_grad
from striate.autograd.tensor import Tensor, wrap
from striate.nn.parameter import is_lazy


def check_non_negative(value: Any, what: str) -> None:
    """PyTorch's argument checks: ValueError naming the value."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value) or value < 0.0:
        raise ValueError(f"Invalid {what}: {value}")


def check_unit_interval(value: Any, what: str, closed: bool = False) -> None:
    ok = isinstance(value, (int, float)) and (0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0)
    if not ok:
        interval = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"Invalid {what}: {value} (must be in {interval})")


def check_adam_arguments(lr: Any, betas: Any, eps: Any, weight_decay: Any) -> tuple[float, float]:
    """The argument checks the Adam family shares (PyTorch's messages); returns betas as a tuple."""
    check_non_negative(lr, "learning rate")
    check_non_negative(eps, "epsilon value")
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r} (expected a pair (beta1, beta2))")
    check_unit_interval(betas[0], "beta parameter at index 0")
    check_unit_interval(betas[1], "beta parameter at index 1")
    check_non_negative(weight_decay, "weight_decay value")
    return (betas[0], betas[1])


def kernel_options(name: str, *, foreach: bool | None = None, capturable: bool = False,
                   differentiable: bool = False, fused: bool | None = None,
                   accepted: tuple[str, ...] = ("foreach", "capturable", "differentiable", "fused"),
                   ) -> dict[str, Any]:
    """PyTorch's implementation switches, stored in the defaults as torch stores them (so a
    state_dict has torch's keys). `foreach`, `fused` and `capturable` choose among PyTorch's
    CUDA / multi-tensor kernels of the same update: striate has one NumPy path, so they are
    accepted and change nothing. `differentiable=True` (autograd through the update) cannot be
    honoured: striate updates the parameter arrays outside the graph, so it is refused."""
    if differentiable:
        raise ValueError(
            f"{name}(differentiable=True) is not supported: striate's optimizers update the parameter "
            "arrays outside the autograd graph, so a step cannot be differentiated; leave "
            "differentiable=False"
        )
    options = {"foreach": foreach, "capturable": capturable, "differentiable": differentiable,
               "fused": fused}
    return {key: value for key, value in options.items() if key in accepted}


# State entries PyTorch keeps as 0-d float32 tensors (not shaped like the parameter).
SCALAR_STATE = ("step", "mu_product", "eta", "mu")


def scalar_state(value: float) -> Tensor:
    """A 0-d float32 state tensor (NAdam's mu_product, ASGD's eta and mu), as PyTorch keeps it."""
    return wrap(np.array(value, dtype=np.float32), False)


def zeros_state(p: np.ndarray, fill: float = 0.0) -> Tensor:
    """A state tensor shaped and typed like parameter array `p`, filled with `fill`."""
    return wrap(np.full_like(p, fill), False)


def step_counter() -> Tensor:
    """The step count as a 0-d float32 tensor, as PyTorch keeps it (exact up to 2^24 steps)."""
    return wrap(np.zeros((), np.float32), False)


def lerp_(a: np.ndarray, b: np.ndarray, weight: float) -> None:
    """a <- a + weight (b - a), in place, written as PyTorch's lerp kernel evaluates it."""
    if weight < 0.5:
        a += weight * (b - a)
    else:
        np.subtract(b, (b - a) * (1.0 - weight), out=a)


def begin_step(state: dict[str, Any], g: np.ndarray, group: dict[str, Any]) -> tuple[np.ndarray, float]:
    """The start of an update: count the step (state["step"], a 0-d float32 tensor) and negate
    the gradient for `maximize`. Returns (gradient, step number t)."""
    state["step"].array += 1
    return (-g if group["maximize"] else g), float(state["step"].array)


def apply_weight_decay(p: np.ndarray, g: np.ndarray, group: dict[str, Any]) -> np.ndarray:
    """Weight decay of the Adam family: decoupled, p <- p (1 - lr wd) in place (AdamW's form,
    `decoupled_weight_decay=True`), or L2, g + wd p (returned). Returns the gradient to use."""
    weight_decay = group["weight_decay"]
    if weight_decay == 0:
        return g
    if group.get("decoupled_weight_decay", False):
        p *= 1 - group["lr"] * weight_decay
        return g
    return g + weight_decay * p


def update_moments_(m: np.ndarray, v: np.ndarray, g: np.ndarray, beta1: float, beta2: float) -> None:
    """Adam's running moments in place: m <- beta1 m + (1 - beta1) g (PyTorch's lerp), and
    v <- beta2 v + (1 - beta2) g^2."""
    lerp_(m, g, 1 - beta1)
    v *= beta2
    v += (1 - beta2) * g * g


class Optimizer:
    """Base class: `Optimizer(params, defaults)`.

    `params` is an iterable of tensors, or of dicts `{"params": [...], "lr": ...}` giving
    per-group settings (missing settings come from `defaults`).
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._step_called = False
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                "but got a Tensor: pass model.parameters() or [tensor]"
            )
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own settings (e.g. unfreezing layers while training)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections (not a set)")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (optimize the leaf it was computed from)")
            if is_lazy(p):  # issue 21: a lazy layer's weights before its first forward
                raise ValueError(
                    "the optimizer got an uninitialized parameter of a lazy layer (nn.LazyLinear, "
                    "nn.LazyConv2d, ...): run the model once on a dummy batch (model(example_input)) "
                    "before building the optimizer"
                )
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        check_non_negative(group.get("lr", 0.0), "learning rate")
        ids = {id(p) for p in params}
        if len(ids) != len(params):
            raise ValueError("a parameter appears twice in one parameter group")
        for other in self.param_groups:
            if any(id(p) in ids for p in other["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (`.grad = None`, or zero them with `set_to_none=False`)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad.array[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; `closure` (re-evaluating the loss) is
        called first when given, and its value returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._step_called = True
        state = self.state
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                self._update(p.array, p.grad.array, state[p], group)
                p._version += 1
        return loss

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise TypeError(f"{type(self).__name__} must define _update(p, g, state, group)")

    # ------------------------------------------------------------------ state dict
    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {name: Tensor or number}}, "param_groups": [{settings, "params": [index]}]}.

        The tensors share memory with the optimizer's state (as in PyTorch); `st.save` it to keep it.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = dict(self.state[p])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state saved by `state_dict()` (also after `st.save`/`st.load`, or from PyTorch
        with tensors converted to NumPy). Everything is checked before anything changes."""
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups ({len(saved_groups)}) "
                f"than this optimizer ({len(self.param_groups)})"
            )
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group: group {i} has {len(saved['params'])} saved and "
                    f"{len(group['params'])} current parameters"
                )
        by_index = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for saved_index, p in zip(saved["params"], group["params"]):
                by_index[int(saved_index)] = p
        new_state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, entries in state_dict["state"].items():
            p = by_index.get(int(key))
            if p is None:
                new_state[key] = dict(entries)
                continue
            new_state[p] = {name: self._restore_value(name, value, p, int(key))
                            for name, value in entries.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: self._restore_setting(k, v, group) for k, v in saved.items() if k != "params"}
            for name, default in self.defaults.items():
                new.setdefault(name, default)
            new["params"] = group["params"]
            new_groups.append(new)
        self.state = new_state
        self.param_groups = new_groups

    @staticmethod
    def _restore_value(name: str, value: Any, p: Tensor, index: int) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        arr = value.array if isinstance(value, Tensor) else np.asarray(value)
        if name in SCALAR_STATE:
            return wrap(np.array(arr, dtype=np.float32).reshape(()), False)
        if arr.shape != p.shape:
            raise ValueError(
                f"optimizer state_dict: state[{index}][{name!r}] has shape {tuple(arr.shape)}, but parameter "
                f"{index} has shape {tuple(p.shape)}"
            )
        dtype = p.dtype if arr.dtype.kind == "f" else arr.dtype
        return wrap(np.array(arr, dtype=dtype, copy=True), False)

    @staticmethod
    def _restore_setting(key: str, value: Any, current: dict[str, Any]) -> Any:
        # JSON has no tuples: betas come back from a file as a list
        if isinstance(value, list) and isinstance(current.get(key), tuple):
            return tuple(value)
        return value

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"
