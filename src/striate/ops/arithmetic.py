"""PyTorch's arithmetic functions with their keyword arguments (issue 21): `st.add(x, y,
alpha=)`, `st.sub`, `st.mul`, `st.div(x, y, rounding_mode=)` and their aliases, each with
`out=`; the rounded divisions are one op here (forward and backward side by side).

`alpha` scales the second operand: add(x, y, alpha) = x + alpha y (its gradient alpha g), as
the composition of the elementwise mul and add gates. `rounding_mode`:

    None     x / y, true division (integers give float32)
    'trunc'  the quotient rounded towards zero: C's integer division, trunc(x / y) for floats
    'floor'  rounded down: Python's //, computed for floats as fmod-based floor division
             (x - fmod(x, y)) / y, corrected by one when signs differ, as ATen and NumPy do

A rounded quotient is piecewise constant, so its gradient is zero almost everywhere: PyTorch
returns zeros for both inputs and so does `DivRounded`. Integer division by zero is an error
(ZeroDivisionError, PyTorch's RuntimeError "ZeroDivisionError"); floats give inf / nan.

`out=t` writes the result into `t` (same shape; its dtype must hold the result) and returns it,
as PyTorch does; like PyTorch it refuses when the result needs a gradient ("out=... arguments
don't support automatic differentiation").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import Function, is_grad_enabled
from striate.autograd.tensor import Tensor
from striate.ops import elementwise as _ew
from striate.ops.inplace import InplaceMethods, apply_inplace

ROUNDING_MODES = (None, "trunc", "floor")


def _pair(x: Any, y: Any, op: str) -> tuple[Tensor, Tensor]:
    """Both operands as tensors with PyTorch's promotion (a Python number takes the tensor's
    dtype, a float tensor wins over an integer one)."""
    if not isinstance(x, Tensor):
        if not isinstance(y, Tensor):
            raise TypeError(f"{op}(): at least one of input and other must be a Tensor, got "
                            f"{type(x).__name__} and {type(y).__name__}")
        x = _ew.as_tensor(x, y)
    y = _ew.as_tensor(y, x)
    if x.array.dtype != y.array.dtype:
        x, y = _ew._promote(x, y)
    return x, y


def trunc_quotient(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The quotient rounded towards zero (C's integer division; trunc(a / b) for floats)."""
    if a.dtype.kind == "f":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.trunc(a / b)
    _check_integer_divisor(b)
    q = np.floor_divide(a, b)
    # floor and trunc differ by one where the remainder is non-zero and the signs differ
    return q + ((q * b != a) & ((a < 0) != (b < 0)))


def floor_quotient(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The quotient rounded down (Python's //): NumPy's floor_divide is ATen's div_floor."""
    if a.dtype.kind != "f":
        _check_integer_divisor(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.floor_divide(a, b)


def _check_integer_divisor(b: np.ndarray) -> None:
    if b.dtype.kind in "iub" and not np.all(b):
        raise ZeroDivisionError("integer division by zero in div(rounding_mode=...): a divisor is 0; "
                                "use floating point tensors to get inf/nan instead")


class DivRounded(Function):
    """z = trunc(x / y) or floor(x / y);  dz/dx = dz/dy = 0 (a step function)."""

    def forward(self, x, y, mode):
        self.shapes = (x.shape, y.shape)
        return (trunc_quotient if mode == "trunc" else floor_quotient)(x, y)

    def backward(self, g):
        nx, ny = self.needs_input_grad
        sx, sy = self.shapes
        return (np.zeros(sx, g.dtype) if nx else None, np.zeros(sy, g.dtype) if ny else None)


def write_out(result: Tensor, out: Tensor | None, op: str) -> Tensor:
    """`out=`: the result copied into `out` (PyTorch's rules for the cases striate supports)."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): out must be a Tensor, got {type(out).__name__}")
    if is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad; call it without "
                           "out= (or under st.no_grad())")
    if tuple(out.shape) != tuple(result.shape):
        raise RuntimeError(f"{op}(): out has shape {tuple(out.shape)} but the result has shape "
                           f"{tuple(result.shape)}; pass an out tensor of the result's shape")
    if not np.can_cast(result.array.dtype, out.array.dtype, casting="same_kind"):
        raise RuntimeError(f"{op}(): result type {result.array.dtype} can't be cast to the desired output "
                           f"type {out.array.dtype}")
    out.array[...] = result.array
    out._version += 1
    return out


def _check_alpha(x: Tensor, y: Tensor, alpha: Any, op: str) -> None:
    if isinstance(alpha, bool) and x.array.dtype.kind != "b":
        raise TypeError(f"{op}(): boolean alpha only supported for Boolean results")
    if isinstance(alpha, float) and x.array.dtype.kind in "iub" and y.array.dtype.kind in "iub":
        raise TypeError(f"{op}(): for integral input tensors, argument alpha must not be a floating point "
                        "number")


def add(input: Any, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """input + alpha * other (`torch.add`)."""
    x, y = _pair(input, other, "add")
    _check_alpha(x, y, alpha, "add")
    return write_out(_ew.add(x, y if alpha == 1 else _ew.mul(y, alpha)), out, "add")


def sub(input: Any, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """input - alpha * other (`torch.sub`, alias `subtract`)."""
    x, y = _pair(input, other, "sub")
    if x.array.dtype.kind == "b":
        raise TypeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                        "`^` or `logical_xor()` operator instead.")
    _check_alpha(x, y, alpha, "sub")
    return write_out(_ew.sub(x, y if alpha == 1 else _ew.mul(y, alpha)), out, "sub")


def mul(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """input * other (`torch.mul`, alias `multiply`)."""
    x, y = _pair(input, other, "mul")
    return write_out(_ew.mul(x, y), out, "mul")


def div(input: Any, other: Any, *, rounding_mode: str | None = None,  # noqa: A002
        out: Tensor | None = None) -> Tensor:
    """input / other (`torch.div`, alias `divide`); rounding_mode 'trunc' or 'floor' rounds the
    quotient (integers stay integers)."""
    if rounding_mode not in ROUNDING_MODES:
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                         f"{rounding_mode!r}")
    x, y = _pair(input, other, "div")
    if rounding_mode is None:
        return write_out(_ew.div(x, y), out, "div")
    try:
        result = DivRounded.apply(x, y, mode=rounding_mode)
    except ValueError as e:
        if "broadcast" in str(e):
            raise _ew._broadcast_error("div", x, y) from None
        raise
    return write_out(result, out, "div")


def true_divide(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    return div(input, other, out=out)


def floor_divide(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """`torch.floor_divide`: div(..., rounding_mode='floor')."""
    return div(input, other, rounding_mode="floor", out=out)


subtract, multiply, divide = sub, mul, div


def rounded_values(a: np.ndarray, other: Any, rounding_mode: str) -> np.ndarray:
    """The rounded quotient of arrays (the no-graph path of `div_(..., rounding_mode=)`)."""
    b = other.array if isinstance(other, Tensor) else np.asarray(other, dtype=a.dtype)
    return DivRounded().forward(a, b, rounding_mode)


def inplace_div(t: Tensor, other: Any, rounding_mode: str | None) -> Tensor:
    """`t.div_(other, rounding_mode=...)`."""
    if rounding_mode not in ROUNDING_MODES:
        raise ValueError(f"div_ expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                         f"{rounding_mode!r}")
    if rounding_mode is None:
        if t.array.dtype.kind != "f":
            raise RuntimeError(f"result type Float can't be cast to the desired output type {t.array.dtype}: "
                               "true division of an integer tensor in place; use rounding_mode or .float()")
        return InplaceMethods.div_(t, other)
    return apply_inplace(t, (other,), lambda a: rounded_values(a, other, rounding_mode),
                         lambda old: div(old, other, rounding_mode=rounding_mode))
