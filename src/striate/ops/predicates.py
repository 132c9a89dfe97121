"""Questions about values: `isclose`, `allclose`, `isnan`/`isinf`/`isfinite`, `all`/`any` with a
dim, `count_nonzero`, `nonzero` and the named comparisons `lt`/`le`/`gt`/`ge`.

Their answers are bool (or int64 count/index) tensors outside the graph: a comparison has no
gradient, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor, wrap
from striate.ops.reduce import normalize_dims


def _arr(x: Any) -> np.ndarray:
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def _same_dtype(a: Tensor, b: Any, op: str) -> None:
    if isinstance(b, Tensor) and a.dtype != b.dtype:
        raise RuntimeError(f"{op}(): {a.dtype} did not match {b.dtype}; both tensors need the same "
                           "dtype (convert one with .to(other.dtype))")


def _broadcast(a: np.ndarray, b: np.ndarray, op: str) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"{op}(): shapes {a.shape} and {b.shape} cannot be broadcast together "
                           "(trailing dimensions must be equal or 1)") from None


def isclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other|, elementwise (torch.isclose)."""
    _same_dtype(input, other, "isclose")
    a, b = input.array, _arr(other)
    _broadcast(a, b, "isclose")
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        return wrap(np.asarray(a == b) if rtol == 0 and atol == 0 else np.isclose(a, b, rtol, atol), False)
    return wrap(np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)), False)


def allclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:
    """True when every element is close (a Python bool, as torch.allclose)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).array.all())


def isnan(input: Tensor) -> Tensor:  # noqa: A002
    return wrap(np.isnan(input.array) if input.dtype.kind == "f" else np.zeros(input.shape, bool), False)


def isinf(input: Tensor) -> Tensor:  # noqa: A002
    return wrap(np.isinf(input.array) if input.dtype.kind == "f" else np.zeros(input.shape, bool), False)


def isfinite(input: Tensor) -> Tensor:  # noqa: A002
    return wrap(np.isfinite(input.array) if input.dtype.kind == "f" else np.ones(input.shape, bool), False)


def _truth(x: Tensor, dim: Any, keepdim: bool, op: str, fn) -> Tensor:
    axes = normalize_dims(dim, x.ndim, op)
    out = np.asarray(fn(x.array, axis=axes, keepdims=keepdim if dim is not None else False))
    if x.dtype == np.uint8:  # PyTorch keeps uint8 for uint8 inputs (a legacy rule)
        return wrap(out.astype(np.uint8), False)
    return wrap(out.astype(bool, copy=False), False)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    return _truth(input, dim, keepdim, "all", np.all)


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    return _truth(input, dim, keepdim, "any", np.any)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    axes = normalize_dims(dim, input.ndim, "count_nonzero")
    return wrap(np.asarray(np.count_nonzero(input.array, axis=axes), dtype=np.int64), False)


def nonzero(input: Tensor, as_tuple: bool = False) -> Any:  # noqa: A002
    """The indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor per
    dimension with as_tuple=True (a 0-d input counts as 1-D there, as in PyTorch)."""
    a = input.array
    if as_tuple:
        idx = np.nonzero(a.reshape(-1) if a.ndim == 0 else a)
        return tuple(wrap(i.astype(np.int64), False) for i in idx)
    if a.ndim == 0:
        return wrap(np.zeros((1 if a.item() else 0, 0), np.int64), False)
    return wrap(np.argwhere(a).astype(np.int64), False)


def _compare(fn, name: str, a: Tensor, b: Any) -> Tensor:
    other = _arr(b)
    _broadcast(a.array, other, name)
    return wrap(np.asarray(fn(a.array, other)), False)


def lt(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return _compare(np.less, "lt", input, other)


def le(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return _compare(np.less_equal, "le", input, other)


def gt(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return _compare(np.greater, "gt", input, other)


def ge(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return _compare(np.greater_equal, "ge", input, other)


def eq(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return _compare(np.equal, "eq", input, other)


def ne(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return _compare(np.not_equal, "ne", input, other)


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """True when both have the same shape and the same values (torch.equal)."""
    return input.shape == other.shape and bool(np.array_equal(input.array, other.array))


def logical_not(input: Tensor) -> Tensor:  # noqa: A002
    return wrap(np.logical_not(input.array), False)


def logical_and(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return _compare(np.logical_and, "logical_and", input, other)


def logical_or(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return _compare(np.logical_or, "logical_or", input, other)
