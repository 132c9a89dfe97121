"""Weight initialisation, as `torch.nn.init`: every function fills a tensor in place and returns it.

Random draws come from striate's generator (seeded by `st.manual_seed`) with PyTorch's sampling
formulas (`striate.sampling`), in the tensor's own dtype: after the same seed, `uniform_`,
`normal_` and everything built on them (the default initialisation of every layer, Xavier,
Kaiming) give PyTorch's values bit for bit. `trunc_normal_` (PyTorch: inverse-CDF through
erfinv; here: rejection) and `orthogonal_` (the QR factorisation of NumPy's LAPACK) follow the
same distributions but not the same values.

Why the scales: a unit's pre-activation sums `fan_in` products w x. With Var(w) = s^2 and inputs
of unit variance, Var(sum) = fan_in s^2, so s = gain / sqrt(fan_in) keeps the variance of the
signal constant from layer to layer (Kaiming/He, for ReLU gain = sqrt(2)); Xavier/Glorot averages
the forward and backward conditions: s = gain sqrt(2 / (fan_in + fan_out)). A uniform
distribution on [-b, b] has standard deviation b / sqrt(3), hence b = sqrt(3) s.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from striate import sampling
from striate.autograd.tensor import Tensor
from striate.random import Generator, resolve

__all__ = [
    "calculate_gain",
    "constant_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps the signal's variance through `nonlinearity`:
    linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2), leaky_relu sqrt(2 / (1 + slope^2)), selu 3/4."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """fan_in = in_channels * kernel area, fan_out = out_channels * kernel area, for a weight
    laid out as (out, in, k1, k2, ...)."""
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tuple(tensor.shape)})"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _draw_dtype(tensor: Tensor) -> np.dtype:
    if tensor.array.dtype.kind != "f":
        raise TypeError(f"initialisation needs a floating point tensor, got {tensor.dtype}")
    return tensor.array.dtype if tensor.array.dtype == np.float64 else np.dtype(np.float32)


def _fill(tensor: Tensor, values: Any) -> Tensor:
    tensor.array[...] = values
    tensor._version += 1
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with U(a, b)."""
    values = np.empty_like(tensor._data, dtype=_draw_dtype(tensor))  # PyTorch fills in memory order
    sampling.fill_uniform_(values, a, b, generator)
    return _fill(tensor, values)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std^2)."""
    values = np.empty_like(tensor._data, dtype=_draw_dtype(tensor))
    sampling.fill_normal_(values, mean, std, generator)
    return _fill(tensor, values)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std^2) conditioned on [a, b] (values outside are redrawn)."""
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    lo, hi = (a - mean) / std, (b - mean) / std
    dt = _draw_dtype(tensor)
    gen = resolve(generator)
    z = sampling.normal((tensor.numel(),), 0.0, 1.0, dt, gen)
    bad = np.flatnonzero((z < lo) | (z > hi))
    for _ in range(1000):  # each round keeps P(inside) of the redrawn values; converges fast
        if bad.size == 0:
            break
        z[bad] = sampling.normal((bad.size,), 0.0, 1.0, dt, gen)
        bad = bad[(z[bad] < lo) | (z[bad] > hi)]
    if bad.size:
        raise ValueError(
            f"trunc_normal_: [a, b] = [{a}, {b}] holds almost no mass of N({mean}, {std}^2); widen it"
        )
    return _fill(tensor, z.reshape(tensor.shape) * dt.type(std) + dt.type(mean))


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (2-D tensors only)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_ needs a 2-D tensor, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape, dtype=tensor.dtype))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    """U(-b, b) with b = gain sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    """N(0, s^2) with s = gain sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    if 0 in tensor.shape:
        return None  # nothing to fill (PyTorch warns and returns)
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """U(-b, b) with b = gain sqrt(3 / fan) (He et al. 2015); gain from `calculate_gain(nonlinearity, a)`.

    PyTorch's default for Linear and Conv weights is `kaiming_uniform_(w, a=sqrt(5))`, i.e.
    b = 1 / sqrt(fan_in).
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """N(0, s^2) with s = gain / sqrt(fan) (He et al. 2015)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0,
                generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix (Saxe et al. 2013) over the tensor flattened to (rows, rest),
    from the QR decomposition of a Gaussian matrix with the signs of R's diagonal fixed."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = sampling.normal((rows, cols), 0.0, 1.0, _draw_dtype(tensor), generator)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))
