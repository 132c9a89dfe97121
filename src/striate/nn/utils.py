"""`nn.utils`: gradient clipping and flattening parameters into one vector.

Clipping by norm (Pascanu et al. 2013) rescales all gradients together when their joint norm
exceeds `max_norm`, keeping the direction of the step:

    total = || (||g_1||_p, ..., ||g_k||_p) ||_p,   g_i <- g_i * min(1, max_norm / (total + 1e-6))
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from striate.autograd.tensor import Tensor, _make
from striate.nn import rnn_utils as rnn  # noqa: F401 - nn.utils.rnn (issue 17: packed sequences)
from striate.ops.shape import cat

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _as_list(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _vector_norm(x: np.ndarray, p: float) -> np.ndarray:
    flat = x.reshape(-1)
    if flat.size == 0:
        return np.zeros((), x.dtype)
    if p == 2.0:
        return np.sqrt(np.dot(flat, flat))
    if math.isinf(p):
        a = np.abs(flat)
        return a.max() if p > 0 else a.min()
    if p == 1.0:
        return np.abs(flat).sum(dtype=x.dtype)
    if p == 0.0:
        return np.asarray(np.count_nonzero(flat), x.dtype)
    return (np.abs(flat) ** x.dtype.type(p)).sum(dtype=x.dtype) ** x.dtype.type(1.0 / p)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale the gradients of `parameters` in place so their joint p-norm is at most `max_norm`.

    Returns the joint norm before clipping (a 0-d tensor in the gradients' dtype), as PyTorch.
    `foreach` is accepted for compatibility; it changes nothing here.
    """
    params = _as_list(parameters)
    grads = [p.grad._data for p in params if p.grad is not None]
    norm_type = float(norm_type)
    if norm_type < 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be >= 0 or inf, got {norm_type}")
    if not grads:
        return _make(np.zeros((), np.float32), False)
    dtype = grads[0].dtype
    norms = np.array([_vector_norm(g, norm_type) for g in grads], dtype=dtype)
    total = np.asarray(_vector_norm(norms, norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    clip_coef = dtype.type(max_norm) / (total + dtype.type(1e-6))
    clip_coef = np.minimum(clip_coef, dtype.type(1.0))
    for g in grads:
        g *= clip_coef
    return _make(total, False)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    return cat([p.reshape(-1) for p in parameters], 0)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D `vec` into `parameters` (inverse of parameters_to_vector)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"expected a 1-D Tensor for vec, got {type(vec).__name__}")
    params = list(parameters)
    needed = sum(p.numel() for p in params)
    if needed != vec.numel():
        raise ValueError(f"vector_to_parameters: vec has {vec.numel()} elements, parameters need {needed}")
    offset = 0
    for p in params:
        n = p.numel()
        p._data[...] = vec._data[offset:offset + n].reshape(p.shape)
        p._version += 1
        offset += n
