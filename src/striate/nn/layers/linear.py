"""Fully connected layers: `Linear` (y = x W^T + b) and `Identity`."""

from __future__ import annotations

import math
from typing import Any

import striate.nn.functional as F
from striate.autograd.tensor import Tensor
from striate.creation import empty
from striate.nn import init
from striate.nn.module import Module
from striate.nn.parameter import Parameter


def check_device(device: Any) -> None:
    if device not in (None, "cpu"):
        raise ValueError(f"striate runs on the CPU only; got device {device!r}")


def check_positive_int(value: Any, name: str, layer: str, allow_zero: bool = False) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{layer}: {name} must be a {kind} integer, got {value!r}")


def reset_bias_uniform(bias: Parameter | None, weight: Parameter) -> None:
    """PyTorch's default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    if bias is None:
        return
    fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    init.uniform_(bias, -bound, bound)


class Linear(Module):
    """A fully connected layer: y = x W^T + b.

    `weight` is (out_features, in_features) and `bias` (out_features,); each output unit is a
    dot product of the input with one row of W. Default initialisation (PyTorch's):
    W ~ U(-1/sqrt(in_features), 1/sqrt(in_features)) (kaiming_uniform_ with a=sqrt(5)), and the
    same bound for b.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        check_positive_int(in_features, "in_features", "Linear", allow_zero=True)
        check_positive_int(out_features, "out_features", "Linear", allow_zero=True)
        check_device(device)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        reset_bias_uniform(self.bias, self.weight)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored, as in PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input
