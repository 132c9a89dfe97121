"""The operator methods of `st.Tensor`, bound onto the class from this one module.

`striate.autograd.tensor` defines the data structure; the operations in `striate.ops` import
it. The methods that forward to an operation (`t + u` -> `elementwise.add`, `t.sum()` ->
`reduce.sum`, `t.view(...)` -> `shape.reshape`, `t.backward()` -> the graph engine) are written
below as the body of `TensorOperators` and copied onto `Tensor` when `striate.ops` is imported
(which `import striate` does), so the imports run one way: tensor <- ops <- this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.function import run_backward
from striate.autograd.tensor import Tensor, _resolve_dtype, _shape_args
from striate.ops import activation as _act
from striate.ops import elementwise as _ew
from striate.ops import index as _idx
from striate.ops import linalg as _la
from striate.ops import reduce as _red
from striate.ops import shape as _shp
from striate.ops.inplace import InplaceMethods


class TensorOperators:
    """The methods `Tensor` gets from the operations (see the module docstring)."""

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Backpropagate from this tensor to every leaf that requires grad."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under st.no_grad())"
            )
        if gradient is None:
            if self.array.size != 1:
                raise RuntimeError(
                    f"backward() needs a gradient argument for a non-scalar output of shape "
                    f"{self.shape}; reduce it first (loss.sum() or loss.mean()) or pass a "
                    f"gradient of the same shape"
                )
            grad = np.ones_like(self.array)
        else:
            grad = np.asarray(gradient.array if isinstance(gradient, Tensor) else gradient,
                              dtype=self.array.dtype)
            if grad.shape != self.array.shape:
                raise RuntimeError(
                    f"backward(): gradient of shape {grad.shape} does not match the "
                    f"output's shape {self.shape}"
                )
        run_backward(self, grad, retain_graph)

    def clone(self) -> Tensor:
        return _shp.clone(self)

    def type(self, dtype: Any) -> Tensor:
        dt = _resolve_dtype(dtype)
        if dt == self.array.dtype:
            return self
        return _shp.cast(self, dt)

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other: Any) -> Tensor:
        return _ew.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ew.add(self, other)

    def __sub__(self, other: Any) -> Tensor:
        return _ew.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ew.sub(_ew.as_tensor(other, self), self)

    def __mul__(self, other: Any) -> Tensor:
        return _ew.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ew.mul(self, other)

    def __truediv__(self, other: Any) -> Tensor:
        return _ew.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ew.div(_ew.as_tensor(other, self), self)

    def __pow__(self, other: Any) -> Tensor:
        return _ew.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ew.pow(_ew.as_tensor(other, self), self)

    def __neg__(self) -> Tensor:
        return _ew.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ew.abs(self)

    def __matmul__(self, other: Any) -> Tensor:
        return _la.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _la.matmul(_ew.as_tensor(other, self), self)

    def add(self, other: Any, alpha: Any = 1) -> Tensor:
        return _ew.add(self, other if alpha == 1 else _ew.mul(_ew.as_tensor(other, self), alpha))

    def sub(self, other: Any, alpha: Any = 1) -> Tensor:
        return _ew.sub(self, other if alpha == 1 else _ew.mul(_ew.as_tensor(other, self), alpha))

    def mul(self, other: Any) -> Tensor:
        return _ew.mul(self, other)

    def div(self, other: Any) -> Tensor:
        return _ew.div(self, other)

    def pow(self, other: Any) -> Tensor:
        return _ew.pow(self, other)

    def matmul(self, other: Any) -> Tensor:
        return self.__matmul__(other)

    def mm(self, other: Any) -> Tensor:
        return self.__matmul__(other)

    def exp(self) -> Tensor:
        return _ew.exp(self)

    def log(self) -> Tensor:
        return _ew.log(self)

    def sqrt(self) -> Tensor:
        return _ew.sqrt(self)

    def abs(self) -> Tensor:
        return _ew.abs(self)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return _ew.clamp(self, min, max)

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        return _ew.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return _ew.minimum(self, other)

    def relu(self) -> Tensor:
        return _act.relu(self)

    def sigmoid(self) -> Tensor:
        return _act.sigmoid(self)

    def tanh(self) -> Tensor:
        return _act.tanh(self)

    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return _act.softmax(self, dim, dtype)

    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return _act.log_softmax(self, dim, dtype)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        return _red.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return _red.mean(self, dim, keepdim, dtype=dtype)

    def max(self, dim: Any = None, keepdim: bool = False):
        if isinstance(dim, Tensor):
            return _ew.maximum(self, dim)
        return _red.max(self, dim, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False):
        if isinstance(dim, Tensor):
            return _ew.minimum(self, dim)
        return _red.min(self, dim, keepdim)

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _red.amax(self, dim, keepdim)

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _red.amin(self, dim, keepdim)

    def var(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False,
            correction: int | None = None) -> Tensor:
        return _red.var(self, dim, unbiased, keepdim, correction)

    def std(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False,
            correction: int | None = None) -> Tensor:
        return _red.var(self, dim, unbiased, keepdim, correction).sqrt()

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _red.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _red.argmin(self, dim, keepdim)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape: Any) -> Tensor:
        if not shape:
            raise TypeError("reshape() needs the new shape, e.g. x.reshape(2, 3) or x.reshape(-1)")
        return _shp.reshape(self, _shape_args(shape))

    def view(self, *shape: Any) -> Tensor:
        if not shape:
            raise TypeError("view() needs the new shape, e.g. x.view(2, 3) or x.view(-1)")
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            return self.type(shape[0])  # view(dtype)
        return _shp.reshape(self, _shape_args(shape))

    def view_as(self, other: Tensor) -> Tensor:
        return _shp.reshape(self, other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return _shp.reshape(self, other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return _shp.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return _shp.transpose(self, dim0, dim1)

    def t(self) -> Tensor:
        return _shp.t(self)

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return _shp.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    def permute(self, *dims: Any) -> Tensor:
        return _shp.permute(self, _shape_args(dims))

    def squeeze(self, dim: Any = None) -> Tensor:
        return _shp.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return _shp.unsqueeze(self, dim)

    def expand(self, *sizes: Any) -> Tensor:
        return _shp.expand(self, _shape_args(sizes))

    def expand_as(self, other: Tensor) -> Tensor:
        return _shp.expand(self, other.shape)

    def repeat(self, *sizes: Any) -> Tensor:
        return _shp.repeat(self, _shape_args(sizes))

    def chunk(self, chunks: int, dim: int = 0) -> list[Tensor]:
        return _shp.chunk(self, chunks, dim)

    def split(self, split_size: Any, dim: int = 0) -> list[Tensor]:
        return _shp.split(self, split_size, dim)

    def __getitem__(self, index: Any) -> Tensor:
        return _idx.getitem(self, index)

    def gather(self, dim: int, index: Tensor) -> Tensor:
        return _idx.gather(self, dim, index)


_NOT_METHODS = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__"}


def bind_tensor_operators() -> None:
    """Copy every method of `TensorOperators` and `InplaceMethods` onto `Tensor` (idempotent)."""
    for cls in (TensorOperators, InplaceMethods):
        for name, value in vars(cls).items():
            if name not in _NOT_METHODS:
                setattr(Tensor, name, value)


bind_tensor_operators()
