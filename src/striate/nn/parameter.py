"""`nn.Parameter`: a tensor that a `Module` registers as a learnable weight.

Assigning a `Parameter` to a module attribute (`self.weight = nn.Parameter(...)`) is what
puts it into `module.parameters()`, the list an optimizer updates. Otherwise it is an ordinary
`Tensor` that requires a gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor, _default_array, _resolve_dtype, float32


class Parameter(Tensor):
    """A learnable tensor: `requires_grad=True` unless told otherwise.

    Built from a Tensor or a NumPy array it shares that memory (no copy), like
    `torch.nn.Parameter`; float arrays keep their dtype, other data follow `st.tensor`'s rules.

        >>> w = nn.Parameter(st.zeros(3, 2))
        >>> w.requires_grad
        True
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            arr = np.empty(0, float32)
        elif isinstance(data, Tensor):
            arr = data.array
        elif isinstance(data, np.ndarray) and data.dtype.kind == "f":
            arr = data
        else:
            arr = _default_array(data, None)
        self.array = arr
        self.grad = None
        self._ctx = None
        self._vc = None
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


# ---------------------------------------------------------------- lazy parameters (issue 21)
def _uninitialized_error(what: str) -> ValueError:
    return ValueError(
        f"Attempted to use an uninitialized parameter in {what}. This error happens when you are "
        "using a LazyModule (nn.LazyLinear, nn.LazyConv2d, ...) before its first forward: call the "
        "model once on a dummy batch (model(example_input)) to initialize the parameters, then "
        "build the optimizer, count parameters or save the model"
    )


class _UninitializedArray:
    """The `array` of an uninitialized tensor: reading it raises the lazy-module error; the
    (empty) array that carries the dtype stays in Tensor's own slot."""

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        raise _uninitialized_error("an operation (the tensor has no shape or values yet)")

    def __set__(self, obj: Any, value: Any) -> None:
        _TENSOR_ARRAY.__set__(obj, value)


_TENSOR_ARRAY = Tensor.__dict__["array"]


class UninitializedTensorMixin:
    """Shared by `UninitializedParameter` and `UninitializedBuffer`: a tensor whose shape is
    not known yet. Lazy layers hold these until their first forward, which calls
    `materialize(shape)`; the object then becomes `cls_to_become` (the same object, so every
    reference to it stays valid), as in PyTorch."""

    __slots__ = ()
    array = _UninitializedArray()
    cls_to_become: type = Tensor

    def _start_empty(self, requires_grad: bool, dtype: Any) -> None:
        _TENSOR_ARRAY.__set__(self, np.empty(0, _resolve_dtype(dtype) or float32))
        self.grad = None
        self._ctx = None
        self._vc = None  # version 0 (a counter is made on first need)
        self._hooks = None
        self.requires_grad = bool(requires_grad)

    @property
    def shape(self) -> Any:
        raise _uninitialized_error("`.shape`")

    def set_lazy_dtype(self, dtype: Any) -> None:
        """`module.double()` / `.to(dtype)` before the first forward: the weights will have `dtype`."""
        _TENSOR_ARRAY.__set__(self, np.empty(0, _resolve_dtype(dtype)))

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Allocate (uninitialised) memory of `shape` and become `cls_to_become`; the layer's
        `reset_parameters` fills it."""
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
        dt = _resolve_dtype(dtype) or _TENSOR_ARRAY.__get__(self).dtype
        _TENSOR_ARRAY.__set__(self, np.empty(shape, dt))
        self.__class__ = self.cls_to_become

    def __deepcopy__(self, memo: dict) -> Any:
        """A fresh uninitialized tensor of the same kind (`copy.deepcopy` of a lazy model)."""
        if id(self) not in memo:
            dtype = _TENSOR_ARRAY.__get__(self).dtype
            memo[id(self)] = type(self)(requires_grad=self.requires_grad, dtype=dtype)
        return memo[id(self)]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """`torch.nn.UninitializedParameter`: a lazy layer's weight before its first forward."""

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        self._start_empty(requires_grad, dtype)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """`torch.nn.UninitializedBuffer`: lazy batch norm's running statistics before the first
    forward; becomes an ordinary Tensor."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> None:
        self._start_empty(requires_grad, dtype)


def is_lazy(value: Any) -> bool:
    """True for a parameter or buffer a lazy layer has not initialized yet."""
    return isinstance(value, UninitializedTensorMixin)
