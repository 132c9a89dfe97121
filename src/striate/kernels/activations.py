"""Fused activation kernels: value and derivative of GELU, SiLU and Hardswish in one pass.

The NumPy twins (`*_reference`) are the formulas of `striate.ops.activation_smooth`, several array
passes each; the Numba twins walk the elements once, computing in float64 and rounding once, and
keep the derivative so that the backward is one multiply (g * dz/dx). `st.config.get_kernels()`
picks the twin, as for the other kernels; tests compare the twins and both against PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from striate import config
from striate.kernels.special import normal_cdf

_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_compiled: dict = {}


def gelu_reference(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """gelu(x) = x Phi(x);  gelu'(x) = Phi(x) + x phi(x)."""
    t = x.dtype.type
    cdf = normal_cdf(x)
    pdf = t(_INV_SQRT_2PI) * np.exp(t(-0.5) * x * x)
    return x * cdf, cdf + x * pdf


def silu_reference(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """silu(x) = x / (1 + e^-x) (PyTorch's formula);  silu' = s (1 + x (1 - s)), s = sigmoid(x)."""
    with np.errstate(over="ignore"):
        denom = 1 + np.exp(-x)
    s = 1 / denom
    return x / denom, s * (1 + x * (1 - s))


def hardswish_reference(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """hardswish(x) = x relu6(x + 3) / 6;  0 below -3, 1 above 3, x/3 + 1/2 in between."""
    t = x.dtype.type
    out = x * np.clip(x + 3, 0, 6) / t(6)
    mid = x / t(3) + t(0.5)
    return out, np.where(x < -3, t(0), np.where(x <= 3, mid, t(1))).astype(x.dtype)


def _loops() -> dict:
    if not _compiled:
        from numba import njit

        @njit(cache=True)
        def gelu_flat(x, out, dout):  # pragma: no cover - compiled
            for i in range(x.size):
                v = np.float64(x[i])
                cdf = 0.5 * math.erfc(-v * 0.7071067811865476)
                out[i] = v * cdf
                dout[i] = cdf + v * 0.3989422804014327 * math.exp(-0.5 * v * v)

        @njit(cache=True)
        def silu_flat(x, out, dout):  # pragma: no cover - compiled
            for i in range(x.size):
                v = np.float64(x[i])
                s = 1.0 / (1.0 + math.exp(-v)) if v > -700.0 else 0.0
                out[i] = v * s
                dout[i] = s * (1.0 + v * (1.0 - s))

        @njit(cache=True)
        def hardswish_flat(x, out, dout):  # pragma: no cover - compiled
            for i in range(x.size):
                v = x[i]
                if v < -3:
                    out[i] = 0.0
                    dout[i] = 0.0
                elif v <= 3:
                    out[i] = v * (v + 3) / 6
                    dout[i] = v / 3 + 0.5
                else:
                    out[i] = v
                    dout[i] = 1.0

        _compiled.update(gelu=gelu_flat, silu=silu_flat, hardswish=hardswish_flat)
    return _compiled


def _fused(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    flat = np.ascontiguousarray(x).reshape(-1)
    out, dout = np.empty_like(flat), np.empty_like(flat)
    _loops()[name](flat, out, dout)
    return out.reshape(x.shape), dout.reshape(x.shape)


def gelu_compiled(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _fused("gelu", x)


def silu_compiled(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _fused("silu", x)


def hardswish_compiled(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _fused("hardswish", x)


_TWINS = {"gelu": (gelu_reference, gelu_compiled), "silu": (silu_reference, silu_compiled),
          "hardswish": (hardswish_reference, hardswish_compiled)}


def with_derivative(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(activation(x), activation'(x)) from the active kernel twin."""
    reference, compiled = _TWINS[name]
    if config.get_kernels() == "numpy" or x.size == 0:
        return reference(x)
    return compiled(x)
