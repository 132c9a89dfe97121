"""More `st.Tensor` methods (issue 21): the trigonometric and rounding functions, the named
products, norms, sorting, scatter/masked_fill, cumulative ops, predicates, rearrangements, the
`new_*` factories and `axis=` / `keepdims=` aliases.

Bound onto `Tensor` the same way as `tensor_methods` (copied from the class body below when
`striate.ops` is imported), after it, so that the richer forms here (`all(dim)`, `sign` with a
zero gradient, the strict `mm`) replace the simpler ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor, _resolve_dtype, _shape_args, wrap
from striate.device import check_device
from striate.ops import cumulative as _cum
from striate.ops import predicates as _pred
from striate.ops import products as _prod
from striate.ops import rearrange as _rea
from striate.ops import scatter as _sc
from striate.ops import sorting as _sort
from striate.ops import unary as _un
from striate.ops import vector_norm as _norm
from striate.ops import views as _views
from striate.ops.dim_alias import AXIS_METHODS, with_axis_alias


def _unary_method(name: str):
    def method(self: Tensor) -> Tensor:
        return _un.apply_unary(name, self)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Elementwise {name} (see `striate.ops.unary`)."
    return method


def _new(array: np.ndarray, requires_grad: bool, device: Any, op: str) -> Tensor:
    check_device(device, op)
    t = wrap(array, False)
    return t.requires_grad_(True) if requires_grad else t


def _new_shape(size: tuple) -> tuple[int, ...]:
    shape = _shape_args(size)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"sizes must be non-negative, got {shape}")
    return shape


class TensorOperatorsExtra:
    """The methods `Tensor` gets from the issue-21 operations (see the module docstring)."""

    # ------------------------------------------------------------------ products
    def mm(self, mat2: Tensor) -> Tensor:
        return _prod.mm(self, mat2)

    def bmm(self, mat2: Tensor) -> Tensor:
        return _prod.bmm(self, mat2)

    def mv(self, vec: Tensor) -> Tensor:
        return _prod.mv(self, vec)

    def dot(self, other: Tensor) -> Tensor:
        return _prod.dot(self, other)

    def outer(self, vec2: Tensor) -> Tensor:
        return _prod.outer(self, vec2)

    ger = outer

    def round(self, decimals: int = 0) -> Tensor:
        return _un.round(self, decimals)

    def __round__(self, ndigits: int | None = None) -> Tensor:
        return _un.round(self, ndigits or 0)

    # ------------------------------------------------------------------ norms, ordering
    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        return _norm.norm(self, p, dim, keepdim, dtype)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        return _sort.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        return _sort.argsort(self, dim, descending, stable)

    def msort(self) -> Tensor:
        return _sort.msort(self)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
        return _sort.topk(self, k, dim, largest, sorted)

    # ------------------------------------------------------------------ writing into places
    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return _sc.masked_fill(self, mask, value)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        return _sc.masked_fill_(self, mask, value)

    def scatter(self, dim: int, index: Any, src: Any = None, value: Any = None,
                reduce: str | None = None) -> Tensor:
        return _sc.scatter(self, dim, index, src, value, reduce)

    def scatter_(self, dim: int, index: Any, src: Any = None, value: Any = None,
                 reduce: str | None = None) -> Tensor:
        return _sc.scatter_(self, dim, index, src, value, reduce)

    def scatter_add(self, dim: int, index: Any, src: Tensor) -> Tensor:
        return _sc.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim: int, index: Any, src: Tensor) -> Tensor:
        return _sc.scatter_add_(self, dim, index, src)

    def index_select(self, dim: int, index: Any) -> Tensor:
        return _sc.index_select(self, dim, index)

    # ------------------------------------------------------------------ cumulative
    def cumsum(self, dim: int, dtype: Any = None) -> Tensor:
        return _cum.cumsum(self, dim, dtype)

    def cumprod(self, dim: int, dtype: Any = None) -> Tensor:
        return _cum.cumprod(self, dim, dtype)

    def prod(self, dim: int | None = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        return _cum.prod(self, dim, keepdim, dtype)

    # ------------------------------------------------------------------ predicates
    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _pred.all(self, dim, keepdim)

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _pred.any(self, dim, keepdim)

    def isclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:
        return _pred.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:
        return _pred.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other: Tensor) -> bool:
        return _pred.equal(self, other)

    def isnan(self) -> Tensor:
        return _pred.isnan(self)

    def isinf(self) -> Tensor:
        return _pred.isinf(self)

    def isfinite(self) -> Tensor:
        return _pred.isfinite(self)

    def count_nonzero(self, dim: Any = None) -> Tensor:
        return _pred.count_nonzero(self, dim)

    def nonzero(self, as_tuple: bool = False) -> Any:
        return _pred.nonzero(self, as_tuple)

    def lt(self, other: Any) -> Tensor:
        return _pred.lt(self, other)

    def le(self, other: Any) -> Tensor:
        return _pred.le(self, other)

    def gt(self, other: Any) -> Tensor:
        return _pred.gt(self, other)

    def ge(self, other: Any) -> Tensor:
        return _pred.ge(self, other)

    def logical_not(self) -> Tensor:
        return _pred.logical_not(self)

    def logical_and(self, other: Any) -> Tensor:
        return _pred.logical_and(self, other)

    def logical_or(self, other: Any) -> Tensor:
        return _pred.logical_or(self, other)

    # ------------------------------------------------------------------ rearranging
    def flip(self, *dims: Any) -> Tensor:
        return _rea.flip(self, dims[0] if len(dims) == 1 else dims)

    def fliplr(self) -> Tensor:
        return _rea.fliplr(self)

    def flipud(self) -> Tensor:
        return _rea.flipud(self)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return _rea.roll(self, shifts, dims)

    def tile(self, *dims: Any) -> Tensor:
        return _rea.tile(self, _shape_args(dims))

    def tril(self, diagonal: int = 0) -> Tensor:
        return _rea.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        return _rea.triu(self, diagonal)

    def diag(self, diagonal: int = 0) -> Tensor:
        return _rea.diag(self, diagonal)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        return _views.unbind(self, dim)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        return _views.narrow(self, dim, start, length)

    def movedim(self, source: Any, destination: Any) -> Tensor:
        return _views.movedim(self, source, destination)

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        return _views.swapaxes(self, axis0, axis1)

    swapdims = swapaxes

    def broadcast_to(self, size: Any) -> Tensor:
        return _views.broadcast_to(self, size)

    def masked_select(self, mask: Any) -> Tensor:
        return _views.masked_select(self, mask)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return _views.logsumexp(self, dim, keepdim)

    def is_contiguous(self) -> bool:
        return bool(self.array.flags.c_contiguous)

    # ------------------------------------------------------------------ dtype, size, new_*
    def type_as(self, other: Tensor) -> Tensor:
        return self.type(other.dtype)

    def nelement(self) -> int:
        return self.array.size

    def element_size(self) -> int:
        return self.array.itemsize

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
        """A copy of `data` with this tensor's dtype unless `dtype` says otherwise (torch's rule)."""
        arr = np.array(data.array if isinstance(data, Tensor) else data,
                       dtype=_resolve_dtype(dtype) or self.dtype, copy=True)
        return _new(arr, requires_grad, device, "new_tensor")

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
        return _new(np.zeros(_new_shape(size), _resolve_dtype(dtype) or self.dtype), requires_grad, device,
                    "new_zeros")

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
        return _new(np.ones(_new_shape(size), _resolve_dtype(dtype) or self.dtype), requires_grad, device,
                    "new_ones")

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return _new(np.empty(_new_shape(size), _resolve_dtype(dtype) or self.dtype), requires_grad, device,
                    "new_empty")

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
        shape = _new_shape((size,))
        return _new(np.full(shape, fill_value, _resolve_dtype(dtype) or self.dtype), requires_grad, device,
                    "new_full")


_NOT_METHODS = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__"}


def bind_extra_operators() -> None:
    """Copy the methods above, the unary functions and the axis aliases onto `Tensor`."""
    for name, value in vars(TensorOperatorsExtra).items():
        if name not in _NOT_METHODS:
            setattr(Tensor, name, value)
    for name in _un.UNARY_NAMES:
        if name != "round":
            setattr(Tensor, name, _unary_method(name))
    for name in AXIS_METHODS:
        setattr(Tensor, name, with_axis_alias(getattr(Tensor, name), name))


bind_extra_operators()
