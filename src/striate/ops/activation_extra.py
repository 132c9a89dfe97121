"""SELU, CELU, Softsign, Tanhshrink, Threshold, and the activations PyTorch can run in place
(`inplace=True`, `F.elu_`, `F.leaky_relu_`, ...), each forward next to its derivative:

    selu(x)       = s x  (x > 0),  s a (e^x - 1)  otherwise      selu'   = s  or  s a e^x
                    a = 1.6732632423543772, s = 1.0507009873554805 (Klambauer et al. 2017)
    celu(x)       = x  (x > 0),  a (e^(x/a) - 1)  otherwise        celu'   = 1  or  e^(x/a)
    softsign(x)   = x / (1 + |x|)                                  softsign' = 1 / (1 + |x|)^2
    tanhshrink(x) = x - tanh(x)                                    tanhshrink' = tanh(x)^2
    threshold(x)  = x  (x > threshold),  value  otherwise          threshold' = 1  or  0

In place: the new values overwrite the input's memory and the op is recorded on it (see
`striate.ops.inplace`: the old values are kept for backward as PyTorch keeps the result).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.ops.activation import ELU, LeakyReLU, inplace_allowed
from striate.ops.activation_smooth import Hardtanh, _float
from striate.ops.inplace import apply_inplace

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class _ScaledELU(Function):
    """scale x for x > 0, else scale alpha (e^(x input_scale) - 1): PyTorch's one elu kernel."""

    saves_inputs = (0,)

    def forward(self, x, alpha, scale, input_scale):
        t = x.dtype.type
        # PyTorch multiplies the coefficients in the input's precision
        self.neg, self.pos, self.inp = t(alpha) * t(scale), t(scale), t(input_scale)
        self.x = x
        return np.where(x > 0, x * self.pos, np.expm1(np.minimum(x, 0) * self.inp) * self.neg)

    def backward(self, g):
        x = self.x
        return (np.where(x > 0, g * self.pos, g * self.inp * self.neg * np.exp(np.minimum(x, 0) * self.inp)),)


class SELU(_ScaledELU):
    """selu(x) = scale * elu(x, alpha) with the self-normalizing constants."""


class CELU(_ScaledELU):
    """celu(x) = elu(x) with input_scale 1/alpha: continuously differentiable at 0."""


class Softsign(Function):
    """softsign(x) = x / (1 + |x|);  d/dx = 1 / (1 + |x|)^2."""

    def forward(self, x):
        self.d = 1 + np.abs(x)
        return x / self.d

    def backward(self, g):
        return (g / (self.d * self.d),)


class Tanhshrink(Function):
    """tanhshrink(x) = x - tanh(x);  d/dx = tanh(x)^2."""

    def forward(self, x):
        self.t = np.tanh(x)
        return x - self.t

    def backward(self, g):
        return (g * self.t * self.t,)


class Threshold(Function):
    """y = x where x > threshold, else value;  d/dx = 1 where x > threshold, else 0."""

    def forward(self, x, threshold, value):
        self.keep = x > x.dtype.type(threshold)
        return np.where(self.keep, x, x.dtype.type(value))

    def backward(self, g):
        return (np.where(self.keep, g, np.zeros((), g.dtype)),)


# The in-place nodes PyTorch names apart (`elu_` gives EluBackward1): the same Function under a
# name of its own (`autograd/names.py` maps "ELU_" to "EluBackward1").
_INPLACE_NODES = {fn: type(f"{fn.__name__}_", (fn,), {"__doc__": fn.__doc__})
                  for fn in (ELU, LeakyReLU, SELU, CELU, Threshold)}


def _maybe_inplace(x: Tensor, inplace: bool, fn: type[Function], copy_old: bool = True,
                   **options: Any) -> Tensor:
    """fn applied out of place, or written into x and recorded there (`inplace=True`)."""
    if not (inplace and inplace_allowed()):
        return fn.apply(x, **options)
    node = _INPLACE_NODES.get(fn, fn)
    return apply_inplace(x, (), lambda a: fn().forward(a, **options), lambda old: node.apply(old, **options),
                         copy_old=copy_old)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002 - PyTorch's name
    _float(input, "selu")
    return _maybe_inplace(input, inplace, SELU, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    _float(input, "celu")
    if alpha == 0:
        raise ValueError("celu(): alpha must be non-zero (the input is divided by alpha)")
    return _maybe_inplace(input, inplace, CELU, alpha=float(alpha), scale=1.0, input_scale=1.0 / alpha)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    _float(input, "softsign")
    return Softsign.apply(input)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    _float(input, "tanhshrink")
    return Tanhshrink.apply(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where x > threshold, else value (`torch.nn.functional.threshold`)."""
    _float(input, "threshold")
    return _maybe_inplace(input, inplace, Threshold, copy_old=False, threshold=float(threshold),
                          value=float(value))


_threshold = threshold  # for threshold_, whose parameter has the function's name


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """x if x > 0 else negative_slope x; `inplace=True` overwrites the input (as PyTorch's)."""
    if inplace and negative_slope < 0:
        raise RuntimeError("leaky_relu(inplace=True): a negative slope is not supported in place (as in "
                           "PyTorch: the input cannot be recovered from the result); use inplace=False")
    return _maybe_inplace(input, inplace, LeakyReLU, slope=negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x if x > 0 else alpha (e^x - 1); `inplace=True` overwrites the input (as PyTorch's)."""
    if inplace and alpha < 0:
        raise RuntimeError("elu(inplace=True): a negative alpha is not supported in place (as in PyTorch); "
                           "use inplace=False")
    return _maybe_inplace(input, inplace, ELU, alpha=alpha)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """min(max(x, min_val), max_val); `inplace=True` overwrites the input."""
    _float(input, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh(): min_val ({min_val}) must not exceed max_val ({max_val})")
    return _maybe_inplace(input, inplace, Hardtanh, lo=float(min_val), hi=float(max_val))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    return hardtanh(input, 0.0, 6.0, inplace)


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    return input.relu_()


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    return leaky_relu(input, negative_slope, inplace=True)


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return celu(input, alpha, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    return _threshold(input, threshold, value, inplace=True)
