"""The error function erf(x) = 2/sqrt(pi) * integral_0^x e^(-t^2) dt, elementwise (exact GELU).

NumPy has no erf. Two twins, picked by `st.config.get_kernels()` like the other kernels: the
NumPy reference runs Python's `math.erf` (correctly rounded in float64) over the elements; the
Numba twin compiles the same call into a loop (~100x faster). Both compute in float64 and round
once to the input's dtype, so they agree bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from striate import config

_erf_scalar = np.frompyfunc(math.erf, 1, 1)
_compiled: list = []


def erf_reference(x: np.ndarray) -> np.ndarray:
    """erf over every element with Python's math.erf (the readable twin)."""
    x = np.asarray(x)
    return _erf_scalar(x.astype(np.float64)).astype(x.dtype) if x.size else x.copy()


def _erf_loop():
    if not _compiled:
        from numba import njit

        @njit(cache=True)
        def erf_flat(src, out):  # pragma: no cover - compiled
            for i in range(src.size):
                out[i] = math.erf(src[i])

        _compiled.append(erf_flat)
    return _compiled[0]


def erf_compiled(x: np.ndarray) -> np.ndarray:
    """erf over every element in a compiled loop (same float64 math.erf, then one rounding)."""
    x = np.asarray(x)
    src = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    out = np.empty_like(src)
    _erf_loop()(src, out)
    return out.reshape(x.shape).astype(x.dtype)


def erf(x: np.ndarray) -> np.ndarray:
    if config.get_kernels() == "numpy":
        return erf_reference(x)
    return erf_compiled(x)
