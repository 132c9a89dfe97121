"""Activation functions (seed 003's list) and softmax, each with its local gradient.

Every one is written to be numerically stable: no overflow for inputs of +-1e4.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from striate import kernels
from striate.autograd.function import Function
from striate.autograd.tensor import Tensor
from striate.kernels import parallel, reference
from striate.ops.limits import DimensionError


class ReLU(Function):
    """relu(x) = max(0, x);  d/dx = 1 where x > 0, else 0."""

    saves_output = True

    def forward(self, x):
        out = parallel.elementwise(_relu, x)
        self.out = out
        return out

    def backward(self, g):
        return (parallel.elementwise(_relu_grad, g, self.out),)


def _relu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(x, x.dtype.type(0), out=out)


def _relu_grad(g: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """0 where relu's output y <= 0 (even where g is NaN), else g: PyTorch's rule, in one pass."""
    out = np.empty(g.shape, np.result_type(g, y)) if out is None else out
    if g.shape == y.shape and all(a.flags.c_contiguous for a in (g, y, out)):
        kernels.relu_grad(g.reshape(-1), y.reshape(-1), out.reshape(-1))
    else:  # strided views: the NumPy twin takes any layout
        reference.relu_grad(g, y, out)
    return out


class LeakyReLU(Function):
    """leaky_relu(x) = x if x > 0 else a x;  d/dx = 1 or a."""

    saves_inputs = (0,)

    def forward(self, x, slope):
        self.x, self.slope = x, slope
        return np.where(x > 0, x, x * x.dtype.type(slope))

    def backward(self, g):
        return (np.where(self.x > 0, g, g * g.dtype.type(self.slope)),)


class ELU(Function):
    """elu(x) = x if x > 0 else a (e^x - 1);  d/dx = 1 or a e^x = elu(x) + a."""

    saves_inputs = (0,)
    saves_output = True

    def forward(self, x, alpha):
        self.x, self.alpha = x, x.dtype.type(alpha)
        self.out = np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))
        return self.out

    def backward(self, g):
        return (np.where(self.x > 0, g, g * (self.out + self.alpha)),)


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: e^-|x| never exceeds 1."""
    with np.errstate(under="ignore"):  # e^-|x| -> 0 for large |x| is the right answer
        e = np.exp(-np.abs(x))
        r = 1 / (1 + e)
        return np.where(x >= 0, r, e * r)


class Sigmoid(Function):
    """s(x) = 1 / (1 + e^-x);  ds/dx = s (1 - s)."""

    saves_output = True

    def forward(self, x):
        self.out = stable_sigmoid(x)
        return self.out

    def backward(self, g):
        s = self.out
        return (g * s * (1 - s),)


class Tanh(Function):
    """t = tanh(x);  dt/dx = 1 - t^2."""

    saves_output = True

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, g):
        t = self.out
        return (g * (1 - t * t),)


class Softmax(Function):
    """y_i = e^{x_i} / sum_j e^{x_j} (shifted by max x for stability);
    dL/dx = y * (g - sum(g * y))."""

    saves_output = True

    def forward(self, x, axis):
        if x.size == 0:
            self.out, self.axis = x.copy(), axis
            return self.out
        with np.errstate(under="ignore"):  # e^(very negative) -> 0 is the right answer
            z = np.exp(x - x.max(axis=axis, keepdims=True))
        z /= z.sum(axis=axis, keepdims=True)
        self.out, self.axis = z, axis
        return z

    def backward(self, g):
        y = self.out
        return (y * (g - (g * y).sum(axis=self.axis, keepdims=True)),)


def log_softmax_array(x: np.ndarray, axis: int) -> np.ndarray:
    """log y_i = x_i - max - log sum_j e^{x_j - max}."""
    if x.size == 0:
        return x.copy()
    z = x - x.max(axis=axis, keepdims=True)
    with np.errstate(under="ignore"):  # e^(very negative) -> 0 is the right answer
        return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


class LogSoftmax(Function):
    """log_softmax(x)_i = x_i - log sum_j e^{x_j};  dL/dx = g - softmax(x) * sum(g)."""

    saves_output = True

    def forward(self, x, axis):
        self.out, self.axis = log_softmax_array(x, axis), axis
        return self.out

    def backward(self, g):
        return (g - np.exp(self.out) * g.sum(axis=self.axis, keepdims=True),)


def _softmax_dim(x: Tensor, dim: int | None) -> int:
    if dim is None:  # PyTorch's legacy implicit choice
        dim = 0 if x.ndim in (0, 1, 3) else 1
    if x.ndim == 0:
        return 0
    if not -x.ndim <= dim < x.ndim:
        raise DimensionError(f"softmax: dim {dim} out of range for a {x.ndim}-d tensor")
    return dim % x.ndim


# Tracers that name values by tensor identity (ONNX export) switch `inplace=True` off while they
# run the model (`inplace_as_copies`), so each activation gets its own output tensor.
_INPLACE_ALLOWED = [True]


@contextlib.contextmanager
def inplace_as_copies() -> Iterator[None]:
    """Within the block, `relu(x, inplace=True)` computes out of place (same values)."""
    prev = _INPLACE_ALLOWED[0]
    _INPLACE_ALLOWED[0] = False
    try:
        yield
    finally:
        _INPLACE_ALLOWED[0] = prev


def inplace_allowed() -> bool:
    """False inside `inplace_as_copies()`: `inplace=True` activations then compute out of place."""
    return _INPLACE_ALLOWED[0]


def relu(x: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x); `inplace=True` overwrites x and returns it (recorded: see `ops.inplace`)."""
    if inplace and _INPLACE_ALLOWED[0]:
        return x.relu_()
    return ReLU.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(x)


def softmax(x: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    if dtype is not None:
        x = x.type(dtype)
    return Softmax.apply(x, axis=_softmax_dim(x, dim))


def log_softmax(x: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    if dtype is not None:
        x = x.type(dtype)
    return LogSoftmax.apply(x, axis=_softmax_dim(x, dim))
