"""`st.Tensor`: a NumPy array that remembers the operation that made it.

A tensor holds its values in `_data` (a NumPy array, float32 unless asked otherwise),
`requires_grad`, `.grad` (a Tensor, filled by `backward()`), and `_ctx`, the `Function` node
that produced it (None for a leaf). `_version` counts in-place modifications, so a backward
that needs an overwritten value can refuse rather than return a wrong gradient.

The arithmetic methods below are thin: each forwards to the operation in `striate.ops`,
where its forward and backward live side by side.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from striate.autograd import function as _function
from striate.autograd.function import _GRAD_ENABLED, run_backward

# dtypes are NumPy dtypes; `t.dtype == st.float32` reads as in PyTorch.
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
int16 = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
float = float32  # noqa: A001 - torch.float is float32
double = float64
long = int64
half = float16

_FLOAT_KINDS = "f"


def _resolve_dtype(dtype: Any) -> np.dtype | None:
    if dtype is None:
        return None
    if dtype is bool:
        return bool_
    return np.dtype(dtype)


def _default_array(data: Any, dtype: np.dtype | None) -> np.ndarray:
    """PyTorch's inference rules: floats -> float32, ints -> int64, bools stay bool."""
    if isinstance(data, Tensor):
        data = data._data
    elif isinstance(data, (list, tuple)) and data and any(isinstance(d, Tensor) for d in data):
        data = [d._data if isinstance(d, Tensor) else d for d in data]
    try:
        arr = np.asarray(data)
    except ValueError as e:
        raise ValueError(
            f"cannot make a tensor from nested sequences of unequal lengths (a ragged list): {e}. "
            "Every row must have the same length."
        ) from None
    if dtype is not None:
        return np.array(arr, dtype=dtype, copy=True)
    kind = arr.dtype.kind
    if kind == "f":
        return np.array(arr, dtype=float32, copy=True)
    if kind in "iu":
        return np.array(arr, dtype=arr.dtype if kind == "u" and arr.dtype == uint8 else int64)
    if kind == "b":
        return np.array(arr, copy=True)
    if arr.dtype == object and arr.size == 0:
        return np.zeros(arr.shape, float32)
    raise TypeError(f"cannot make a tensor from data of dtype {arr.dtype}: use numbers or arrays")


class Tensor:
    """An n-dimensional array with automatic differentiation (define-by-run)."""

    __slots__ = ("_data", "requires_grad", "grad", "_ctx", "_version", "_hooks", "__weakref__")
    __array_priority__ = 1000  # make ndarray (op) Tensor defer to Tensor's reflected ops

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        arr = _default_array(data, _resolve_dtype(dtype))
        self._data = arr
        self.grad: Tensor | None = None
        self._ctx = None
        self._version = 0
        self._hooks: list | None = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ basics
    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's memory, outside the graph (PyTorch's `.data`)."""
        return _make(self._data, False)

    @data.setter
    def data(self, value: Any) -> None:
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._data = arr
        self._version += 1

    def size(self, dim: int | None = None):
        if dim is None:
            return self._data.shape
        return self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array sharing this tensor's memory (no copy).

        Unlike PyTorch, a tensor that requires grad may be read this way too; writing into the
        array bypasses the in-place checks, as writing into `.data` does in PyTorch."""
        return self._data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self._data.dtype:
            return self._data.astype(dtype)
        if copy:
            return self._data.copy()
        return self._data

    def tolist(self):
        return self._data.tolist()

    def item(self):
        if self._data.size != 1:
            raise ValueError(
                f"item() needs a tensor with exactly one element, this one has shape {self.shape} "
                f"({self._data.size} elements)"
            )
        return self._data.reshape(()).item()

    def __float__(self) -> float:
        return builtins.float(self.item())  # the module's `float` is st.float32

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._data.reshape(()))

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self._data, precision=4, separator=", ", prefix="tensor(")
        extras = []
        if self._data.dtype not in (float32, int64, bool_):
            extras.append(f"dtype=striate.{self._data.dtype.name}")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind not in _FLOAT_KINDS:
            raise RuntimeError(
                f"only floating point tensors can require gradients; this one is "
                f"{self._data.dtype}. Convert it first, e.g. t.float()."
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad can only be switched off on a leaf; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Backpropagate from this tensor to every leaf that requires grad."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under st.no_grad())"
            )
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward() needs a gradient argument for a non-scalar output of shape "
                    f"{self.shape}; reduce it first (loss.sum() or loss.mean()) or pass a "
                    f"gradient of the same shape"
                )
            grad = np.ones_like(self._data)
        else:
            grad = np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient,
                              dtype=self._data.dtype)
            if grad.shape != self._data.shape:
                raise RuntimeError(
                    f"backward(): gradient of shape {grad.shape} does not match the "
                    f"output's shape {self.shape}"
                )
        run_backward(self, grad, retain_graph)

    def register_hook(self, hook) -> None:
        """Call `hook(tensor)` each time gradient is accumulated into this leaf's `.grad`."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)

    def detach(self) -> Tensor:
        return _make(self._data, False)

    def detach_(self) -> Tensor:
        self._ctx = None
        self.requires_grad = False
        return self

    def clone(self) -> Tensor:
        return _shp.clone(self)

    def contiguous(self) -> Tensor:
        return self

    # ------------------------------------------------------------------ in place
    def _inplace_check(self) -> None:
        if _GRAD_ENABLED[0] and self.requires_grad:
            kind = "a leaf tensor" if self._ctx is None else "a tensor in the graph"
            raise RuntimeError(
                f"in-place change of {kind} that requires grad would corrupt the graph; do "
                "it under `with st.no_grad():` (as optimizers do) or on a detached copy"
            )

    def _set(self, array: np.ndarray) -> Tensor:
        self._inplace_check()
        if not self._data.flags.writeable:
            raise RuntimeError(
                f"in-place change of a tensor of shape {self.shape} whose memory is a broadcast view "
                "(made by expand or a broadcast) or read-only: several elements share one memory "
                "location. clone() it first."
            )
        self._data[...] = array
        self._version += 1
        return self

    def zero_(self) -> Tensor:
        return self._set(0)

    def fill_(self, value: Any) -> Tensor:
        return self._set(_unwrap(value))

    def copy_(self, src: Any) -> Tensor:
        return self._set(_unwrap(src))

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        o = _unwrap(other)
        return self._set(self._data + (o if alpha == 1 else alpha * o))

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        o = _unwrap(other)
        return self._set(self._data - (o if alpha == 1 else alpha * o))

    def mul_(self, other: Any) -> Tensor:
        return self._set(self._data * _unwrap(other))

    def div_(self, other: Any) -> Tensor:
        return self._set(self._data / _unwrap(other))

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return self._set(np.clip(self._data, min, max))

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        from striate.random import default_generator

        return self._set(default_generator().uniform(a, b, self.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        from striate.random import default_generator

        return self._set(default_generator().normal(mean, std, self.shape))

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._inplace_check()
        if not self._data.flags.writeable:
            raise RuntimeError(
                f"item assignment into a tensor of shape {self.shape} whose memory is a broadcast "
                "view (made by expand) or read-only; clone() it first"
            )
        self._data[_unwrap_index(index)] = _unwrap(value)
        self._version += 1

    # ------------------------------------------------------------------ conversions
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, (np.dtype, type)) or (isinstance(a, str) and a not in ("cpu",)):
                dtype = a
        if dtype is None:
            return self
        return self.type(dtype)

    def type(self, dtype: Any) -> Tensor:
        dt = _resolve_dtype(dtype)
        if dt == self._data.dtype:
            return self
        return _shp.cast(self, dt)

    def float(self) -> Tensor:
        return self.type(float32)

    def double(self) -> Tensor:
        return self.type(float64)

    def long(self) -> Tensor:
        return self.type(int64)

    def int(self) -> Tensor:
        return self.type(int32)

    def bool(self) -> Tensor:
        return self.type(bool_)

    def cpu(self) -> Tensor:
        return self

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

    # comparisons give bool tensors outside the graph, as in PyTorch
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _make(self._data == _unwrap(other), False)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _make(self._data != _unwrap(other), False)

    def __lt__(self, other: Any) -> Tensor:
        return _make(self._data < _unwrap(other), False)

    def __le__(self, other: Any) -> Tensor:
        return _make(self._data <= _unwrap(other), False)

    def __gt__(self, other: Any) -> Tensor:
        return _make(self._data > _unwrap(other), False)

    def __ge__(self, other: Any) -> Tensor:
        return _make(self._data >= _unwrap(other), False)

    def __invert__(self) -> Tensor:
        return _make(~self._data, False)

    def __and__(self, other: Any) -> Tensor:
        return _make(self._data & _unwrap(other), False)

    def __or__(self, other: Any) -> Tensor:
        return _make(self._data | _unwrap(other), False)

    def eq(self, other: Any) -> Tensor:
        return self.__eq__(other)

    def ne(self, other: Any) -> Tensor:
        return self.__ne__(other)

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

    def sign(self) -> Tensor:
        return _make(np.sign(self._data), False)

    def relu(self) -> Tensor:
        return _act.relu(self)

    def sigmoid(self) -> Tensor:
        return _act.sigmoid(self)

    def tanh(self) -> Tensor:
        return _act.tanh(self)

    def softmax(self, dim: int) -> Tensor:
        return _act.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        return _act.log_softmax(self, dim)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        out = _red.sum(self, dim, keepdim)
        return out if dtype is None else out.type(dtype)

    def mean(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _red.mean(self, dim, keepdim)

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

    def all(self) -> Tensor:
        return _make(np.asarray(self._data.all()), False)

    def any(self) -> Tensor:
        return _make(np.asarray(self._data.any()), False)

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
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, got {self.ndim}")
        return self if self.ndim < 2 else _shp.transpose(self, 0, 1)

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


def _make(array: np.ndarray, requires_grad: bool) -> Tensor:
    """Wrap an array without copying or checking: the fast path every op uses."""
    t = object.__new__(Tensor)
    t._data = array
    t.requires_grad = requires_grad
    t.grad = None
    t._ctx = None
    t._version = 0
    t._hooks = None
    return t


_function._bind_tensor_factory(_make)


def _unwrap(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _unwrap_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_unwrap(i) for i in index)
    return _unwrap(index)


def _shape_args(shape: Sequence[Any]) -> tuple[int, ...]:
    """Accept both t.reshape(2, 3) and t.reshape((2, 3)), as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Iterable)) and not isinstance(
        shape[0], Tensor
    ):
        shape = tuple(shape[0])
    out = []
    for s in shape:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"sizes must be integers, got {s!r} in {tuple(shape)}")
        out.append(int(s))
    return tuple(out)


from striate.ops import activation as _act  # noqa: E402  (ops import Tensor: bind after it)
from striate.ops import elementwise as _ew  # noqa: E402
from striate.ops import index as _idx  # noqa: E402
from striate.ops import linalg as _la  # noqa: E402
from striate.ops import reduce as _red  # noqa: E402
from striate.ops import shape as _shp  # noqa: E402
