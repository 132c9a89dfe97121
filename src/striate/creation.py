"""Tensor factories: `st.tensor`, `st.zeros`, `st.randn`, ... with PyTorch's signatures."""

from __future__ import annotations

from typing import Any

import numpy as np

from striate import sampling
from striate.autograd.grad_mode import _INFERENCE
from striate.autograd.tensor import (
    Tensor,
    _resolve_dtype,
    _shape_args,
    default_float_numpy,
    get_default_dtype,
    wrap,
)
from striate.device import check_device


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of `data`. Its dtype, unless `dtype` says: a NumPy array's or
    tensor's own (float64 stays float64, as in PyTorch); the default dtype (float32) for Python
    floats; int64 for Python ints. `pin_memory` is accepted and changes nothing (page-locked
    memory only speeds up copies to a GPU, and striate runs on the CPU)."""
    check_device(device, "st.tensor")
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """`data` as a tensor, without a copy where possible: a tensor of the right dtype is returned
    as is, a NumPy array of the right dtype is shared (its dtype kept, as `torch.as_tensor`)."""
    check_device(device, "st.as_tensor")
    want = _resolve_dtype(dtype)
    if isinstance(data, Tensor) and (want is None or data.dtype == want):
        return data
    if (isinstance(data, np.ndarray) and data.dtype.kind in "fiub"
            and (want is None or data.dtype == want)):
        return _new(data, False)
    return Tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing `array`'s memory and keeping its dtype (as `torch.from_numpy`)."""
    return wrap(np.asarray(array), False)


def _new(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = wrap(array, False)
    if _INFERENCE[0]:
        t._inference = True
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size(size: tuple[Any, ...], op: str) -> tuple[int, ...]:
    """`f(2, 3)` or `f((2, 3))` as a shape; negative sizes get a clear error."""
    shape = _shape_args(size)
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: sizes must be non-negative, got {shape}")
    return shape


def _dt(dtype: Any) -> np.dtype:
    return _resolve_dtype(dtype) or default_float_numpy()


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    check_device(device, "st.zeros")
    return _new(np.zeros(_size(size, "zeros"), _dt(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    check_device(device, "st.ones")
    return _new(np.ones(_size(size, "ones"), _dt(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          pin_memory: bool = False) -> Tensor:
    check_device(device, "st.empty")
    return _new(np.empty(_size(size, "empty"), _dt(dtype)), requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    check_device(device, "st.full")
    if dtype is None:
        dtype = np.asarray(fill_value).dtype
        dtype = get_default_dtype() if dtype.kind == "f" else (np.int64 if dtype.kind in "iu" else dtype)
    return _new(np.full(_size((size,), "full"), fill_value, _resolve_dtype(dtype)), requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    check_device(device, "st.zeros_like")
    return _new(np.zeros(t.shape, _resolve_dtype(dtype) or t.dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    check_device(device, "st.ones_like")
    return _new(np.ones(t.shape, _resolve_dtype(dtype) or t.dtype), requires_grad)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    check_device(device, "st.full_like")
    return _new(np.full(t.shape, fill_value, _resolve_dtype(dtype) or t.dtype), requires_grad)


def empty_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    check_device(device, "st.empty_like")
    return _new(np.empty(t.shape, _resolve_dtype(dtype) or t.dtype), requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from start (inclusive) to end (exclusive); integers stay int64 like PyTorch."""
    check_device(device, "st.arange")
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = get_default_dtype() if is_float else np.int64
    return _new(np.arange(start, end, step, dtype=_resolve_dtype(dtype)), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    check_device(device, "st.linspace")
    return _new(np.linspace(start, end, steps, dtype=_dt(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    check_device(device, "st.eye")
    return _new(np.eye(n, m, dtype=_dt(dtype)), requires_grad)


def randn(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          generator: Any = None, pin_memory: bool = False) -> Tensor:
    """Standard normal samples; after `st.manual_seed(n)` the same values as `torch.randn`."""
    check_device(device, "st.randn")
    values = sampling.normal(_size(size, "randn"), 0.0, 1.0, _dt(dtype), generator)
    return _new(values, requires_grad)


def rand(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         generator: Any = None, pin_memory: bool = False) -> Tensor:
    """Uniform samples in [0, 1); after `st.manual_seed(n)` the same values as `torch.rand`."""
    check_device(device, "st.rand")
    values = sampling.uniform(_size(size, "rand"), 0.0, 1.0, _dt(dtype), generator)
    return _new(values, requires_grad)


def normal(mean: float, std: float, size: Any, dtype: Any = None, device: Any = None,
           requires_grad: bool = False, generator: Any = None) -> Tensor:
    """N(mean, std^2) samples of `size` (the float-arguments form of `torch.normal`)."""
    check_device(device, "st.normal")
    values = sampling.normal(_size((size,), "normal"), float(mean), float(std), _dt(dtype), generator)
    return _new(values, requires_grad)


def _integer_grad_check(dtype: np.dtype, requires_grad: bool) -> None:
    if requires_grad and np.dtype(dtype).kind != "f":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients "
                           f"(got requires_grad=True with dtype {np.dtype(dtype)}); pass a float dtype")


def randint(low: int, high: int | None = None, size: Any = (), generator: Any = None, dtype: Any = None,
            device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers in [low, high) (`randint(high, size)` starts at 0), as `torch.randint`
    (requires_grad only with a float dtype, as there)."""
    check_device(device, "st.randint")
    if high is None:
        low, high = 0, low
    want = _resolve_dtype(dtype) or np.int64
    _integer_grad_check(want, requires_grad)
    values = sampling.randint(low, high, _size((size,), "randint"), np.int64, generator)
    return _new(values.astype(want), requires_grad)


def randperm(n: int, *, generator: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of 0..n-1, as `torch.randperm` (requires_grad with a float dtype)."""
    check_device(device, "st.randperm")
    want = _resolve_dtype(dtype) or np.int64
    _integer_grad_check(want, requires_grad)
    return _new(sampling.randperm(n, want, generator), requires_grad)


def randn_like(t: Tensor, generator: Any = None, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    check_device(device, "st.randn_like")
    return randn(*t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad,
                 generator=generator)


def rand_like(t: Tensor, generator: Any = None, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    check_device(device, "st.rand_like")
    return rand(*t.shape, dtype=dtype or t.dtype, device=device, requires_grad=requires_grad,
                generator=generator)
