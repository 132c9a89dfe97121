"""The smooth and the "hard" modern activations: GELU, SiLU, Mish, Softplus, Hardswish,
Hardsigmoid, Hardtanh/ReLU6, PReLU (a ReLU whose negative slope is learned) and `normalize`.

Each forward sits next to its derivative (PyTorch's formulas, so the gradients agree):

    gelu(x)      = x Phi(x) = x/2 (1 + erf(x/sqrt2))      gelu'   = Phi(x) + x phi(x)
    gelu_tanh(x) = x/2 (1 + tanh(u)), u = sqrt(2/pi)(x + 0.044715 x^3)
                                                          gelu_t' = (1 + t)/2 + x/2 (1 - t^2) u'
    silu(x)      = x s(x)                                 silu'   = s (1 + x (1 - s))
    mish(x)      = x tanh(softplus(x))                    mish'   = t + x s(x) (1 - t^2)
    softplus(x)  = log(1 + e^(bx)) / b  (x where bx > threshold)       softplus' = s(bx)
    hardswish(x) = x relu6(x + 3) / 6                     0 below -3, 1 above 3, (2x + 3)/6 between
    hardsigmoid  = relu6(x + 3) / 6                       1/6 strictly between -3 and 3, else 0
    prelu(x, a)  = x if x > 0 else a x (a per channel, dim 1)   d/dx = 1 or a, d/da = sum x g (x <= 0)
"""

from __future__ import annotations

import math

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.kernels.activations import with_derivative
from striate.ops.activation import stable_sigmoid
from striate.ops.elementwise import clamp
from striate.ops.vector_norm import vector_norm

_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_C = 0.044715


def _softplus_array(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)."""
    with np.errstate(under="ignore"):
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


class GELU(Function):
    """Gaussian error linear unit (exact 'none' or the 'tanh' approximation); see the docstring."""

    saves_inputs = (0,)

    def forward(self, x, approximate):
        self.x, self.approximate = x, approximate
        t = x.dtype.type
        if approximate == "tanh":
            self.t = np.tanh(t(_SQRT_2_OVER_PI) * (x + t(_GELU_C) * x * x * x))
            return t(0.5) * x * (1 + self.t)
        out, self.dout = with_derivative("gelu", x)  # Phi via erfc(-x / sqrt 2) / 2: no cancellation
        return out

    def backward(self, g):
        x = self.x
        t = x.dtype.type
        if self.approximate == "tanh":
            du = t(_SQRT_2_OVER_PI) * (1 + t(3 * _GELU_C) * x * x)
            return (g * (t(0.5) * (1 + self.t) + t(0.5) * x * (1 - self.t * self.t) * du),)
        return (g * self.dout,)


class SiLU(Function):
    """silu(x) = x sigmoid(x) (also called swish);  silu' = s (1 + x (1 - s))."""

    def forward(self, x):
        out, self.dout = with_derivative("silu", x)  # PyTorch's formula x / (1 + e^-x)
        return out

    def backward(self, g):
        return (g * self.dout,)


class Mish(Function):
    """mish(x) = x tanh(softplus(x));  mish' = t + x s(x) (1 - t^2)."""

    saves_inputs = (0,)

    def forward(self, x):
        self.x = x
        self.t = np.tanh(_softplus_array(x))
        return x * self.t

    def backward(self, g):
        x, t = self.x, self.t
        return (g * (t + x * stable_sigmoid(x) * (1 - t * t)),)


class Softplus(Function):
    """softplus(x) = log(1 + e^(beta x)) / beta, linear above the threshold;  softplus' = s(beta x)."""

    saves_inputs = (0,)

    def forward(self, x, beta, threshold):
        self.x, self.beta, self.threshold = x, beta, threshold
        bx = x * x.dtype.type(beta)
        return np.where(bx > threshold, x, _softplus_array(bx) / x.dtype.type(beta)).astype(x.dtype)

    def backward(self, g):
        bx = self.x * self.x.dtype.type(self.beta)
        return (np.where(bx > self.threshold, g, g * stable_sigmoid(bx)),)


class Hardswish(Function):
    """hardswish(x) = x relu6(x + 3) / 6;  0 below -3, 1 above 3, (2x + 3) / 6 in between."""

    def forward(self, x):
        out, self.dout = with_derivative("hardswish", x)
        return out

    def backward(self, g):
        return (g * self.dout,)


class Hardsigmoid(Function):
    """hardsigmoid(x) = relu6(x + 3) / 6;  1/6 strictly between -3 and 3, else 0."""

    saves_inputs = (0,)

    def forward(self, x):
        self.x = x
        return np.clip(x + 3, 0, 6) / x.dtype.type(6)

    def backward(self, g):
        x = self.x
        # PyTorch multiplies by its `one_sixth` constant rounded to float32, in float64 too;
        # the same constant keeps the gradients equal to the last bit
        sixth = g.dtype.type(np.float32(1 / 6))
        return (np.where((x > -3) & (x < 3), g * sixth, np.zeros((), g.dtype)),)


class Hardtanh(Function):
    """hardtanh(x) = min(max(x, lo), hi);  1 strictly between lo and hi, else 0 (relu6: lo=0, hi=6)."""

    saves_inputs = (0,)

    def forward(self, x, lo, hi):
        self.x, self.lo, self.hi = x, lo, hi
        return np.clip(x, x.dtype.type(lo), x.dtype.type(hi))

    def backward(self, g):
        x = self.x
        return (np.where((x > self.lo) & (x < self.hi), g, np.zeros((), g.dtype)),)


class PReLU(Function):
    """prelu(x, a) = x if x > 0 else a x, with a per channel (dim 1) or one shared a."""

    saves_inputs = (0, 1)

    def forward(self, x, a):
        self.x, self.a = x, a
        self.a_b = a.reshape((1, -1) + (1,) * (x.ndim - 2)) if x.ndim >= 2 and a.size > 1 else a.reshape(())
        return np.where(x > 0, x, self.a_b * x)

    def backward(self, g):
        nx, na = self.needs_input_grad
        x = self.x
        gx = np.where(x > 0, g, self.a_b * g) if nx else None
        ga = None
        if na:
            neg = np.where(x > 0, np.zeros((), g.dtype), x * g)
            if self.a.size > 1:
                axes = (0,) + tuple(range(2, x.ndim))
                ga = neg.sum(axis=axes).reshape(self.a.shape)
            else:
                ga = np.asarray(neg.sum(), g.dtype).reshape(self.a.shape)
        return gx, ga


def _float(x: Tensor, op: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}(): expected a floating point tensor, got {x.dtype}; use .float() first")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002 - PyTorch's name
    _float(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    _float(input, "silu")
    return SiLU.apply(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    _float(input, "mish")
    return Mish.apply(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    _float(input, "softplus")
    if beta == 0:
        raise ValueError("softplus(): beta must be non-zero (the result divides by beta)")
    return Softplus.apply(input, beta=float(beta), threshold=float(threshold))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    _float(input, "hardswish")
    return Hardswish.apply(input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    _float(input, "hardsigmoid")
    return Hardsigmoid.apply(input)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002
    """input / max(||input||_p over dim, eps), as `F.normalize` (rows to unit length)."""
    return input / clamp(vector_norm(input, p, dim, keepdim=True), min=eps)


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """PReLU with `weight` of 1 element (shared) or one per channel (input's dim 1)."""
    _float(input, "prelu")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise RuntimeError(f"prelu(): weight has {weight.numel()} elements but the input has "
                           f"{channels} channels (dim 1); give 1 or {channels} parameters")
    if weight.dtype != input.dtype:
        raise RuntimeError(f"prelu(): weight dtype {weight.dtype} does not match input dtype {input.dtype}")
    return PReLU.apply(input, weight)
