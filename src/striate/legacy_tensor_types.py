"""PyTorch's legacy typed constructors: `st.FloatTensor`, `st.DoubleTensor`, `st.LongTensor`,
`st.IntTensor`, `st.BoolTensor`, `st.ByteTensor`.

As in PyTorch, `st.FloatTensor(2, 3)` is an uninitialised tensor of that shape,
`st.FloatTensor([1, 2])` converts the data to the type, `st.FloatTensor()` is empty, and
`isinstance(t, st.FloatTensor)` asks whether t is a float32 tensor. They are factories that return
plain `st.Tensor`s (there is no subclass per dtype), with a metaclass for the isinstance check.
"""

from __future__ import annotations

from typing import Any

from striate import dtypes
from striate.autograd.tensor import Tensor, legacy_array


class _TypedTensorMeta(type):
    dtype: dtypes.dtype  # striate.float32, ... as torch.FloatTensor.dtype is torch.float32

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:  # type: ignore[override]
        from striate.creation import from_numpy
        from striate.device import check_device

        check_device(device, cls.__name__)
        return from_numpy(legacy_array(args, cls.dtype.numpy, cls.__name__))


class FloatTensor(metaclass=_TypedTensorMeta):
    """float32 tensors: FloatTensor(2, 3) (uninitialised), FloatTensor([1, 2]) (data)."""

    dtype = dtypes.float32


class DoubleTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.float64


class LongTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.int64


class IntTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.int32


class BoolTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.bool_


class ByteTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.uint8
