"""`st.Tensor`: a NumPy array that remembers the operation that made it.

(Over 400 lines on purpose: PyTorch's non-operator Tensor surface, basics, in-place methods,
conversions and comparisons, is one class body; splitting it would scatter one class.)

A tensor holds its values in `array` (a NumPy array, float32 unless asked otherwise),
`requires_grad`, `.grad` (a Tensor, filled by `backward()`), and `_ctx`, the `Function` node
that produced it (None for a leaf). `_version` counts in-place modifications, so a backward
that needs an overwritten value can refuse rather than return a wrong gradient.

This module is the data structure only: the arithmetic, reduction and shape methods
(`t + u`, `t.sum()`, `t.view(...)`, `t.backward()`) are bound onto `Tensor` by
`striate.ops.tensor_methods`, the one module that imports both this class and the operations
(each op's forward and backward live side by side in `striate.ops`). So the dependency runs one
way: ops -> autograd.

Two names for code that builds operations (public, stable):

- `t.array`: the NumPy array holding the values (shared, not copied; `t.numpy()` returns it too);
- `wrap(array, requires_grad)`: a tensor around an array without copying or checking, the fast
  path every op uses for its result.

`t._data` and `_make` are the old private names of the same two things, kept as aliases.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from striate.autograd.grad_mode import _GRAD_ENABLED, _INFERENCE
from striate.autograd.size import Size
from striate.autograd.version import bump, counter, share_version
from striate.dtypes import (  # noqa: F401 - re-exported: the old home of these names
    BY_NUMPY,
    bool_,
    double,
    float16,
    float32,
    float64,
    from_any,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    of_numpy,
    to_numpy,
    uint8,
)
from striate.dtypes import dtype as _dtype_class
from striate.dtypes import float as float  # noqa: A004, PLC0414 - torch.float is float32

_FLOAT_KINDS = "f"
_NP_FLOAT32 = np.dtype(np.float32)
_NP_FLOAT64 = np.dtype(np.float64)
_NP_INT64 = np.dtype(np.int64)


def _resolve_dtype(dtype: Any) -> np.dtype | None:
    """The NumPy dtype arrays are stored in for a dtype argument (st.float32, np.float32,
    "float32", float, bool, ...); None stays None."""
    if dtype is None:
        return None
    if type(dtype) is _dtype_class:
        return dtype._storage()
    return to_numpy(dtype)


# The dtype Python floats become (`st.set_default_dtype`): float32 unless the user says. Kept as
# the NumPy dtype: every factory passes it to NumPy.
_DEFAULT_FLOAT = [_NP_FLOAT32]


def set_default_dtype(dtype: Any) -> None:
    """The dtype of tensors made from Python floats and of float factories (`st.zeros`, layer
    weights, ...): `st.float32` (the default) or `st.float64`, like `torch.set_default_dtype`."""
    d = _resolve_dtype(dtype)
    if d not in (_NP_FLOAT32, _NP_FLOAT64):
        raise TypeError(f"set_default_dtype takes st.float32 or st.float64, got {dtype!r}: only "
                        "these two floating point types can be striate's default")
    _DEFAULT_FLOAT[0] = d


def get_default_dtype() -> _dtype_class:
    """The current default floating point dtype (`striate.float32` unless `set_default_dtype`
    changed it)."""
    return from_any(_DEFAULT_FLOAT[0])


def default_float_numpy() -> np.dtype:
    """The default floating point dtype as NumPy's, for factories that hand it to NumPy."""
    return _DEFAULT_FLOAT[0]


def _default_array(data: Any, dtype: np.dtype | None) -> np.ndarray:
    """PyTorch's inference rules: a NumPy array or a tensor keeps its dtype; Python floats take
    the default dtype (float32), Python ints int64, bools stay bool."""
    keep = isinstance(data, (np.ndarray, np.generic, Tensor))
    if isinstance(data, Tensor):
        data = data.array
    elif isinstance(data, (list, tuple)) and data and any(isinstance(d, Tensor) for d in data):
        data = [d.array if isinstance(d, Tensor) else d for d in data]
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
    if keep and kind in "fiub":
        return np.array(arr, copy=True)
    if kind == "f":
        return np.array(arr, dtype=_DEFAULT_FLOAT[0], copy=True)
    if kind in "iu":
        return np.array(arr, dtype=_NP_INT64)
    if kind == "b":
        return np.array(arr, copy=True)
    if arr.dtype == object and arr.size == 0:
        return np.zeros(arr.shape, _DEFAULT_FLOAT[0])
    raise TypeError(f"cannot make a tensor from data of dtype {arr.dtype}: use numbers or arrays")


_LEGACY = object()  # Tensor(...) called without dtype/requires_grad: torch.Tensor's legacy forms


def legacy_array(args: tuple, dtype: np.dtype, name: str, keep_tensor_dtype: bool = False) -> np.ndarray:
    """The array of `torch.Tensor(...)`-style constructors: `()` -> empty 1-D, ints -> that shape
    (uninitialised), one sequence or array -> its values converted to `dtype`, one Tensor -> its
    memory (its own dtype for plain `Tensor`, converted for the typed ones)."""
    if not args:
        return np.empty((0,), dtype)
    if builtins.all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)) for a in args):
        if builtins.any(a < 0 for a in args):
            raise RuntimeError(f"{name}(): sizes must be non-negative, got {tuple(int(a) for a in args)}")
        return np.empty(tuple(int(a) for a in args), dtype)
    if len(args) == 1 and type(args[0]).__name__ == "Size":  # st.Size: a shape, as torch.Size
        return np.empty(tuple(args[0]), dtype)
    if len(args) > 1:
        raise TypeError(f"{name}(): sizes must be ints, got {args!r}; for data pass one list, e.g. "
                        f"{name}([1.0, 2.0])")
    data = args[0]
    if isinstance(data, Tensor):
        if keep_tensor_dtype or data.dtype == dtype:
            return data.array
        return data.array.astype(dtype)
    if not isinstance(data, (list, tuple, np.ndarray)) or (isinstance(data, np.ndarray) and data.ndim == 0):
        raise TypeError(f"{name}(): data must be a sequence (got {type(data).__name__}); use "
                        f"{name}([value]) or st.tensor(value) for a 0-d tensor")
    return _default_array(data, dtype)


class Tensor:
    """An n-dimensional array with automatic differentiation (define-by-run).

    `Tensor(2, 3)` is an uninitialised float32 tensor of shape (2, 3) and `Tensor([1, 2])` float32
    data, as `torch.Tensor`; `st.tensor(data)` infers the dtype (ints stay int64)."""

    __slots__ = ("array", "requires_grad", "grad", "_ctx", "_vc", "_hooks", "_inference",
                 "__weakref__",
                 "_view")  # a view's ViewInfo (autograd.version.track_view); unset elsewhere
    __array_priority__ = 1000  # make ndarray (op) Tensor defer to Tensor's reflected ops

    def __init__(self, *args: Any, dtype: Any = _LEGACY, requires_grad: bool = False) -> None:
        if dtype is _LEGACY and not requires_grad:  # torch.Tensor(2, 3) / torch.Tensor([1, 2])
            self.array = legacy_array(args, _NP_FLOAT32, "Tensor", keep_tensor_dtype=True)
        else:  # Tensor(data, dtype=..., requires_grad=...): st.tensor's inference rules
            if len(args) != 1:
                raise TypeError(f"Tensor(data, dtype=..., requires_grad=...) takes one data argument, "
                                f"got {len(args)}; use st.tensor(data, dtype=...)")
            self.array = _default_array(args[0], _resolve_dtype(None if dtype is _LEGACY else dtype))
        self.grad: Tensor | None = None
        self._ctx = None
        self._vc = None
        self._hooks: list | None = None
        self.requires_grad = False
        if _INFERENCE[0]:
            self._inference = True
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ basics
    @property
    def _data(self) -> np.ndarray:
        """Old private name of `array` (kept so that older code keeps working)."""
        return self.array

    @_data.setter
    def _data(self, value: np.ndarray) -> None:
        self.array = value

    @property
    def shape(self) -> Size:
        return Size(self.array.shape)

    @property
    def dtype(self) -> _dtype_class:
        """`striate.float32`, ... (a `st.dtype`, which NumPy also takes as its own dtype)."""
        d = self.array.dtype
        try:
            return BY_NUMPY[d]
        except KeyError:  # another byte order, or a type striate has no name for
            return of_numpy(d)

    def is_floating_point(self) -> bool:
        """True for float16/32/64 tensors (`t.dtype.is_floating_point`), as in torch."""
        return self.array.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self.array.dtype.kind == "c"

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def device(self) -> Any:
        from striate.device import CPU

        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's memory, outside the graph (PyTorch's `.data`)."""
        return wrap(self.array, False)

    @data.setter
    def data(self, value: Any) -> None:
        arr = value.array if isinstance(value, Tensor) else np.asarray(value)
        self.array = arr
        self._version += 1

    def size(self, dim: int | None = None) -> Size | int:
        if dim is None:
            return Size(self.array.shape)
        return self.array.shape[dim]

    def dim(self) -> int:
        return self.array.ndim

    def numel(self) -> int:
        return self.array.size

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array sharing this tensor's memory (no copy).

        Unlike PyTorch, a tensor that requires grad may be read this way too; writing into the
        array bypasses the in-place checks, as writing into `.data` does in PyTorch."""
        return self.array

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.array.dtype:
            return self.array.astype(dtype)
        if copy:
            return self.array.copy()
        return self.array

    def tolist(self):
        return self.array.tolist()

    def item(self):
        if self.array.size != 1:
            raise ValueError(
                f"item() needs a tensor with exactly one element, this one has shape {self.shape} "
                f"({self.array.size} elements)"
            )
        return self.array.reshape(()).item()

    def __float__(self) -> float:
        return builtins.float(self.item())  # the module's `float` is st.float32

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iu":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.array.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.array.reshape(()))

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        from striate.autograd.printing import tensor_repr

        return tensor_repr(self, _DEFAULT_FLOAT[0])

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.array.dtype.kind not in _FLOAT_KINDS:
            raise RuntimeError(
                f"only floating point tensors can require gradients; this one is "
                f"{self.dtype}. Convert it first, e.g. t.float()."
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad can only be switched off on a leaf; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def register_hook(self, hook) -> None:
        """Call `hook(tensor)` each time gradient is accumulated into this leaf's `.grad`."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)

    def detach(self) -> Tensor:
        """A tensor sharing this one's memory (and version counter), outside the graph."""
        out = wrap(self.array, False)
        share_version(out, self)
        return out

    def detach_(self) -> Tensor:
        self._ctx = None
        self.requires_grad = False
        return self

    def contiguous(self) -> Tensor:
        return self

    # ------------------------------------------------------------------ in place
    # The public in-place methods (add_, mul_, zero_, +=, x[i] = v, ...) record themselves in the
    # graph, so they live with the operations in `striate.ops.inplace`. `_set` is the plain
    # write for buffers outside the graph (running statistics, initialisers).
    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory (shared with its views) has seen."""
        box = self._vc
        return 0 if box is None else box.value

    @_version.setter
    def _version(self, value: int) -> None:
        counter(self).value = value

    def _set(self, array: np.ndarray) -> Tensor:
        """Overwrite the values outside the graph (a tensor that needs no gradient record)."""
        if _GRAD_ENABLED[0] and self.requires_grad:
            what = ("a leaf Variable that requires grad is being used in an in-place operation"
                    if self._ctx is None else "this in-place fill of a tensor in the graph is "
                    "not recorded by striate")
            raise RuntimeError(f"{what}. Do the change under `with st.no_grad():` (as optimizers "
                               "do) or on a detached copy")
        check_writeable(self)
        self.array[...] = array
        bump(self)
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
        """Fill with U(a, b), drawn as PyTorch draws them (see `striate.sampling`)."""
        from striate import sampling

        values = np.empty_like(self.array)  # same layout: PyTorch fills in memory order
        sampling.fill_uniform_(values, a, b, generator)
        return self._set(values)

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
        """Fill with N(mean, std^2), drawn as PyTorch draws them (see `striate.sampling`)."""
        from striate import sampling

        values = np.empty_like(self.array)
        sampling.fill_normal_(values, mean, std, generator)
        return self._set(values)

    def is_inference(self) -> bool:
        """True for a tensor made inside `st.inference_mode()`."""
        try:
            return self._inference
        except AttributeError:
            return False

    # ------------------------------------------------------------------ conversions
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """`to(dtype)`, `to('cpu')`, `to(other)`, `to(device=..., dtype=...)`: a tensor of that
        dtype (self when nothing changes); a device other than the CPU is a clear error."""
        from striate.device import parse_to

        dtype = parse_to(args, kwargs, "Tensor")
        return self if dtype is None else self.type(dtype)

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

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """Always an error: striate has no CUDA backend (see `st.cuda.is_available()`)."""
        from striate.device import check_device

        check_device("cuda" if device is None or isinstance(device, int) else device, "Tensor.cuda()")
        return self

    # comparisons give bool tensors outside the graph, as in PyTorch
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return wrap(self.array == _unwrap(other), False)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return wrap(self.array != _unwrap(other), False)

    def __lt__(self, other: Any) -> Tensor:
        return wrap(self.array < _unwrap(other), False)

    def __le__(self, other: Any) -> Tensor:
        return wrap(self.array <= _unwrap(other), False)

    def __gt__(self, other: Any) -> Tensor:
        return wrap(self.array > _unwrap(other), False)

    def __ge__(self, other: Any) -> Tensor:
        return wrap(self.array >= _unwrap(other), False)

    def __invert__(self) -> Tensor:
        return wrap(~self.array, False)

    def __and__(self, other: Any) -> Tensor:
        return wrap(self.array & _unwrap(other), False)

    def __or__(self, other: Any) -> Tensor:
        return wrap(self.array | _unwrap(other), False)

    def eq(self, other: Any) -> Tensor:
        return self.__eq__(other)

    def ne(self, other: Any) -> Tensor:
        return self.__ne__(other)

    def sign(self) -> Tensor:
        return wrap(np.sign(self.array), False)

    def all(self) -> Tensor:
        return wrap(np.asarray(self.array.all()), False)

    def any(self) -> Tensor:
        return wrap(np.asarray(self.array.any()), False)

def wrap(array: np.ndarray, requires_grad: bool = False) -> Tensor:
    """A tensor around `array` without copying or checking: the fast path every op uses for its
    result (the caller guarantees a NumPy array of a supported dtype)."""
    t = object.__new__(Tensor)
    t.array = array
    t.requires_grad = requires_grad
    t.grad = None
    t._ctx = None
    t._vc = None
    t._hooks = None
    return t


_make = wrap  # the old private name


def check_writeable(t: Tensor) -> None:
    a = t.array
    if not a.flags.writeable and any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape)):
        raise RuntimeError(  # PyTorch's words (expand, broadcast_to)
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        )
    if not a.flags.writeable:
        raise RuntimeError(
            f"in-place change of a tensor of shape {t.shape} whose memory is a broadcast view "
            "(made by expand or a broadcast) or read-only: several elements share one memory "
            "location. clone() it first."
        )


def _unwrap(x: Any) -> Any:
    return x.array if isinstance(x, Tensor) else x


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


