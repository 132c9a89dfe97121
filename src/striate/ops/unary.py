"""Elementwise functions of one tensor: trigonometric, hyperbolic, rounding and friends.

Each row of `_TABLE` is one function with its derivative side by side (the chain rule of
seed 003: dL/dx = dL/dz * dz/dx). The derivative is written in terms of the input x and/or
the output z, whichever is cheaper and matches PyTorch's own formula (tan' = 1 + z^2).

dtype rules (PyTorch's): an integer or bool input to a floating function (sin, exp, ...)
gives float32; the rounding functions (floor, ceil, round, trunc, sign) keep integer dtypes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from striate.autograd.function import Function
from striate.autograd.tensor import Tensor, wrap
from striate.kernels.special import erf as _erf_array

_TWO_OVER_SQRT_PI = 2 / np.sqrt(np.pi)


class _Unary(Function):
    """z = f(x);  dz/dx = f'(x) (given per subclass by `derivative(x, z)`)."""

    saves_inputs = (0,)
    saves_output = True
    fn: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None

    def forward(self, x):
        self.x = x
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            self.out = np.asarray(type(self).fn(x), dtype=x.dtype)
        return self.out

    def backward(self, g):
        deriv = type(self).derivative
        if deriv is None:  # piecewise constant (floor, sign, ...): zero almost everywhere
            return (np.zeros_like(g),)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            return (g * deriv(self.x, self.out),)


def _sqrt1m(x: np.ndarray) -> np.ndarray:
    return np.sqrt(1 - x * x)


# name: (forward, derivative(x, z) or None for piecewise constant, keeps integer dtypes)
_TABLE: dict[str, tuple[Callable, Callable | None, bool]] = {
    "sin": (np.sin, lambda x, z: np.cos(x), False),
    "cos": (np.cos, lambda x, z: -np.sin(x), False),
    "tan": (np.tan, lambda x, z: 1 + z * z, False),
    "asin": (np.arcsin, lambda x, z: 1 / _sqrt1m(x), False),
    "acos": (np.arccos, lambda x, z: -1 / _sqrt1m(x), False),
    "atan": (np.arctan, lambda x, z: 1 / (1 + x * x), False),
    "sinh": (np.sinh, lambda x, z: np.cosh(x), False),
    "cosh": (np.cosh, lambda x, z: np.sinh(x), False),
    "asinh": (np.arcsinh, lambda x, z: 1 / np.sqrt(x * x + 1), False),
    "acosh": (np.arccosh, lambda x, z: 1 / np.sqrt(x * x - 1), False),
    "atanh": (np.arctanh, lambda x, z: 1 / (1 - x * x), False),
    "log1p": (np.log1p, lambda x, z: 1 / (1 + x), False),
    "expm1": (np.expm1, lambda x, z: z + 1, False),
    "log2": (np.log2, lambda x, z: 1 / (x * np.log(2).astype(x.dtype)), False),
    "log10": (np.log10, lambda x, z: 1 / (x * np.log(10).astype(x.dtype)), False),
    "rsqrt": (lambda x: 1 / np.sqrt(x), lambda x, z: -0.5 * z * z * z, False),
    "reciprocal": (np.reciprocal, lambda x, z: -z * z, False),
    "square": (np.square, lambda x, z: 2 * x, True),
    "erf": (_erf_array, lambda x, z: x.dtype.type(_TWO_OVER_SQRT_PI) * np.exp(-x * x), False),
    "floor": (np.floor, None, True),
    "ceil": (np.ceil, None, True),
    "trunc": (np.trunc, None, True),
    "sign": (np.sign, None, True),
}

_FUNCTIONS: dict[str, type[_Unary]] = {
    name: type(name.capitalize(), (_Unary,), {
        "fn": staticmethod(fwd), "derivative": None if d is None else staticmethod(d),
        "__doc__": f"z = {name}(x), elementwise (derivative: see `_TABLE`).",
    })
    for name, (fwd, d, _) in _TABLE.items()
}


def _as_input(x: Tensor, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): expected a Tensor, got {type(x).__name__}; wrap it with st.tensor(...)")
    keeps_int = _TABLE[name][2] if name in _TABLE else False
    if x.array.dtype.kind in "biu" and not keeps_int:
        return wrap(x.array.astype(np.float32), False)  # PyTorch: integer -> default float
    return x


def apply_unary(name: str, x: Tensor) -> Tensor:
    """Run the table's function `name` on x (used by the public functions below)."""
    x = _as_input(x, name)
    if x.array.dtype.kind == "b":  # rounding or the sign of a bool is the bool itself
        return wrap(x.array.astype(np.int64) if name == "square" else x.array.copy(), False)
    if x.array.dtype.kind in "iu":  # integer rounding is the identity, sign/square stay integer
        return wrap(_TABLE[name][0](x.array).astype(x.array.dtype), False)
    return _FUNCTIONS[name].apply(x)


def sin(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's argument name
    return apply_unary("sin", input)


def cos(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("cos", input)


def tan(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("tan", input)


def asin(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("asin", input)


def acos(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("acos", input)


def atan(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("atan", input)


def sinh(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("sinh", input)


def cosh(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("cosh", input)


def asinh(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("asinh", input)


def acosh(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("acosh", input)


def atanh(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("atanh", input)


def log1p(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("log1p", input)


def expm1(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("expm1", input)


def log2(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("log2", input)


def log10(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("log10", input)


def rsqrt(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("rsqrt", input)


def reciprocal(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("reciprocal", input)


def square(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("square", input)


def erf(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("erf", input)


def floor(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("floor", input)


def ceil(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("ceil", input)


def trunc(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("trunc", input)


def sign(input: Tensor) -> Tensor:  # noqa: A002
    return apply_unary("sign", input)


class _Round(Function):
    """z = round(x * 10^d) / 10^d, halves to even (as PyTorch);  dz/dx = 0 almost everywhere."""

    def forward(self, x, decimals):
        return np.round(x, decimals)

    def backward(self, g):
        return (np.zeros_like(g),)


def round(input: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001, A002
    if input.array.dtype.kind in "biu":
        return wrap(input.array.copy(), False) if decimals == 0 else wrap(
            np.round(input.array, decimals).astype(input.array.dtype), False)
    return _Round.apply(input, decimals=int(decimals))


UNARY_NAMES = tuple(_TABLE) + ("round",)
