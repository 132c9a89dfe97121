"""Elementwise arithmetic: each op's forward and local gradient side by side.

Seed 003's gates: the *add gate* distributes the gradient unchanged to both inputs; the
*mul gate* swaps its inputs (d(xy)/dx = y); broadcasting copies an input, so its gradient is
summed back to the input's shape (`unbroadcast`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import Function, unbroadcast
from striate.autograd.tensor import Tensor, wrap


def as_tensor(value: Any, like: Tensor) -> Tensor:
    """A constant operand as a tensor; Python numbers take the dtype of `like` (weak typing)."""
    if isinstance(value, Tensor):
        return value
    dtype = like.array.dtype
    if isinstance(value, (bool, int, float, np.number)) and not isinstance(value, complex):
        if dtype.kind != "f" and isinstance(value, (float, np.floating)):
            dtype = np.dtype(np.float32)
        return wrap(np.asarray(value, dtype=dtype), False)
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and dtype.kind == "f":
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype.kind == "f":
        arr = arr.astype(np.float32, copy=False)
    return wrap(arr, False)


def _broadcast_error(op: str, a: Tensor, b: Tensor) -> ValueError:
    return ValueError(
        f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together (trailing "
        "dimensions must be equal or 1); reshape or unsqueeze one of them"
    )


def _promote(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """PyTorch's type promotion where it differs from NumPy's: a float tensor combined with an
    integer or bool tensor keeps the float dtype (NumPy would give float64 for float32 + int64).
    Integer tensors never require grad, so the cast happens outside the graph."""
    ka, kb = a.array.dtype.kind, b.array.dtype.kind
    if ka == "f" and kb != "f":
        b = wrap(b.array.astype(a.array.dtype), False)
    elif kb == "f" and ka != "f":
        a = wrap(a.array.astype(b.array.dtype), False)
    return a, b


def _binary(fn_cls: type[Function], name: str, a: Tensor, b: Any) -> Tensor:
    if not isinstance(b, Tensor):
        b = as_tensor(b, a)
    if a.array.dtype is not b.array.dtype:
        a, b = _promote(a, b)
    try:
        return fn_cls.apply(a, b)
    except ValueError as e:
        if "broadcast" in str(e):
            raise _broadcast_error(name, a, b) from None
        raise


class Add(Function):
    """z = x + y;  dz/dx = 1, dz/dy = 1 (the add gate: gradient distributor)."""

    def forward(self, x, y):
        self.shapes = (x.shape, y.shape)
        return x + y

    def backward(self, g):
        nx, ny = self.needs_input_grad
        sx, sy = self.shapes
        return (unbroadcast(g, sx) if nx else None, unbroadcast(g, sy) if ny else None)


class Sub(Function):
    """z = x - y;  dz/dx = 1, dz/dy = -1."""

    def forward(self, x, y):
        self.shapes = (x.shape, y.shape)
        return x - y

    def backward(self, g):
        nx, ny = self.needs_input_grad
        sx, sy = self.shapes
        return (unbroadcast(g, sx) if nx else None, unbroadcast(-g, sy) if ny else None)


class Mul(Function):
    """z = x * y;  dz/dx = y, dz/dy = x (the mul gate: gradient switcher)."""

    saves_inputs = (0, 1)
    saved_for = {0: (1,), 1: (0,)}  # input i is read only for these inputs' gradients

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, g):
        nx, ny = self.needs_input_grad
        x, y = self.x, self.y
        return (unbroadcast(g * y, x.shape) if nx else None,
                unbroadcast(g * x, y.shape) if ny else None)


class Div(Function):
    """z = x / y;  dz/dx = 1/y, dz/dy = -x/y^2."""

    saves_inputs = (0, 1)
    saved_for = {0: (1,), 1: (0, 1)}  # input i is read only for these inputs' gradients

    def forward(self, x, y):
        self.x, self.y = x, y
        return x / y

    def backward(self, g):
        nx, ny = self.needs_input_grad
        x, y = self.x, self.y
        gx = g / y
        return (unbroadcast(gx, x.shape) if nx else None,
                unbroadcast(-gx * x / y, y.shape) if ny else None)


class PowScalar(Function):
    """z = x^p for a constant p;  dz/dx = p x^(p-1)."""

    saves_inputs = (0,)

    def forward(self, x, p):
        self.x, self.p = x, p
        return x ** p

    def backward(self, g):
        x, p = self.x, self.p
        if p == 0:
            return (np.zeros_like(g),)
        if p == 2:
            return (g * (2 * x),)
        return (g * (p * x ** (p - 1)),)


class Pow(Function):
    """z = x^y;  dz/dx = y x^(y-1), dz/dy = x^y ln x (0 where x = 0 and y >= 0, as PyTorch)."""

    saves_inputs = (0, 1)
    saves_output = True

    def forward(self, x, y):
        self.x, self.y = x, y
        self.out = x ** y
        return self.out

    def backward(self, g):
        nx, ny = self.needs_input_grad
        x, y = self.x, self.y
        gx = gy = None
        if nx:
            gx = unbroadcast(g * y * x ** (y - 1), x.shape)
        if ny:
            with np.errstate(divide="ignore", invalid="ignore"):
                d = self.out * np.log(x)
            d = np.where((x == 0) & (y >= 0), 0, d)
            gy = unbroadcast(g * d, y.shape)
        return gx, gy


class Neg(Function):
    """z = -x;  dz/dx = -1."""

    def forward(self, x):
        return -x

    def backward(self, g):
        return (-g,)


class Exp(Function):
    """z = e^x;  dz/dx = e^x = z."""

    saves_output = True

    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, g):
        return (g * self.out,)


class Log(Function):
    """z = ln x;  dz/dx = 1/x."""

    saves_inputs = (0,)

    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, g):
        return (g / self.x,)


class Sqrt(Function):
    """z = sqrt(x);  dz/dx = 1 / (2 sqrt(x))."""

    saves_output = True

    def forward(self, x):
        self.out = np.sqrt(x)
        return self.out

    def backward(self, g):
        return (g / (2 * self.out),)


class Abs(Function):
    """z = |x|;  dz/dx = sign(x) (0 at 0, as PyTorch)."""

    saves_inputs = (0,)

    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, g):
        return (g * np.sign(self.x),)


class Clamp(Function):
    """z = min(max(x, lo), hi);  dz/dx = 1 where lo <= x <= hi, else 0."""

    saves_inputs = (0,)

    def forward(self, x, lo, hi):
        self.x, self.lo, self.hi = x, lo, hi
        return np.clip(x, lo, hi)

    def backward(self, g):
        x = self.x
        mask = np.ones(x.shape, dtype=bool)
        if self.lo is not None:
            mask &= x >= self.lo
        if self.hi is not None:
            mask &= x <= self.hi
        return (g * mask,)


class Maximum(Function):
    """z = max(x, y) elementwise; the max gate routes the gradient to the larger input
    (split in half on ties, as PyTorch does)."""

    saves_inputs = (0, 1)

    def forward(self, x, y):
        self.x, self.y = x, y
        return np.maximum(x, y)

    def backward(self, g):
        return _route(g, self.x, self.y, self.x > self.y, self.needs_input_grad)


class Minimum(Function):
    """z = min(x, y) elementwise; gradient to the smaller input (halved on ties)."""

    saves_inputs = (0, 1)

    def forward(self, x, y):
        self.x, self.y = x, y
        return np.minimum(x, y)

    def backward(self, g):
        return _route(g, self.x, self.y, self.x < self.y, self.needs_input_grad)


def _route(g, x, y, x_wins, needs):
    tie = x == y
    wx = np.where(tie, 0.5, x_wins).astype(g.dtype)
    wy = np.where(tie, 0.5, ~x_wins & ~tie).astype(g.dtype)
    return (unbroadcast(g * wx, x.shape) if needs[0] else None,
            unbroadcast(g * wy, y.shape) if needs[1] else None)


class Where(Function):
    """z = cond ? x : y;  the gradient goes to the branch that was chosen."""

    def forward(self, x, y, cond):
        self.cond, self.shapes = cond, (x.shape, y.shape)
        return np.where(cond, x, y)

    def backward(self, g):
        nx, ny = self.needs_input_grad
        c = self.cond
        zero = np.zeros((), g.dtype)
        return (unbroadcast(np.where(c, g, zero), self.shapes[0]) if nx else None,
                unbroadcast(np.where(c, zero, g), self.shapes[1]) if ny else None)


# ---------------------------------------------------------------------------- public functions
def add(x: Tensor, y: Any) -> Tensor:
    return _binary(Add, "add", x, y)


def sub(x: Tensor, y: Any) -> Tensor:
    return _binary(Sub, "sub", x, y)


def mul(x: Tensor, y: Any) -> Tensor:
    return _binary(Mul, "mul", x, y)


def div(x: Tensor, y: Any) -> Tensor:
    """True division; integer / integer gives float32, as in PyTorch (not NumPy's float64)."""
    if not isinstance(y, Tensor):
        y = as_tensor(y, x)
    if x.array.dtype.kind != "f" and y.array.dtype.kind != "f":
        x = wrap(x.array.astype(np.float32), False)
    return _binary(Div, "div", x, y)


def pow(x: Tensor, y: Any) -> Tensor:  # noqa: A001 - mirrors torch.pow
    if isinstance(y, (int, float)) and not isinstance(y, bool):
        return PowScalar.apply(x, p=y)
    return _binary(Pow, "pow", x, y)


def neg(x: Tensor) -> Tensor:
    return Neg.apply(x)


def _floating(x: Tensor) -> Tensor:
    """Integer and bool inputs of a floating function become float32, as in PyTorch (NumPy would
    give float64)."""
    return wrap(x.array.astype(np.float32), False) if x.array.dtype.kind in "biu" else x


def exp(x: Tensor) -> Tensor:
    return Exp.apply(_floating(x))


def log(x: Tensor) -> Tensor:
    return Log.apply(_floating(x))


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(_floating(x))


def abs(x: Tensor) -> Tensor:  # noqa: A001 - mirrors torch.abs
    return Abs.apply(x)


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    if min is None and max is None:
        raise ValueError("clamp() needs at least one of min and max")
    lo = min.array if isinstance(min, Tensor) else min
    hi = max.array if isinstance(max, Tensor) else max
    return Clamp.apply(x, lo=lo, hi=hi)


def maximum(x: Tensor, y: Any) -> Tensor:
    return _binary(Maximum, "maximum", x, y)


def minimum(x: Tensor, y: Any) -> Tensor:
    return _binary(Minimum, "minimum", x, y)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elementwise choice: x where condition holds, else y."""
    cond = condition.array if isinstance(condition, Tensor) else np.asarray(condition)
    if not isinstance(x, Tensor):
        x = as_tensor(x, y) if isinstance(y, Tensor) else Tensor(x)
    y = as_tensor(y, x)
    if x.array.dtype is not y.array.dtype:
        x, y = _promote(x, y)
    try:
        np.broadcast_shapes(cond.shape, x.shape, y.shape)
    except ValueError:
        raise ValueError(
            f"where: condition {cond.shape}, x {x.shape} and y {y.shape} cannot be broadcast "
            "together (trailing dimensions must be equal or 1)"
        ) from None
    return Where.apply(x, y, cond=cond.astype(bool, copy=False))
