"""The error function erf(x) = 2/sqrt(pi) * integral_0^x e^(-t^2) dt and the standard normal
CDF Phi(x) = erfc(-x / sqrt 2) / 2 (exact GELU), elementwise.

NumPy has no erf. Two twins, picked by `st.config.get_kernels()` like the other kernels: the
NumPy reference runs Python's `math.erf` (correctly rounded in float64) over the elements; the
Numba twin compiles the same call into a loop (~100x faster). Both compute in float64 and round
once to the input's dtype, so they agree bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from striate import config

_SQRT_HALF = math.sqrt(0.5)
_erf_scalar = np.frompyfunc(math.erf, 1, 1)
_cdf_scalar = np.frompyfunc(lambda v: 0.5 * math.erfc(-v * _SQRT_HALF), 1, 1)
_compiled: list = []


def erf_reference(x: np.ndarray) -> np.ndarray:
    """erf over every element with Python's math.erf (the readable twin)."""
    x = np.asarray(x)
    return _erf_scalar(x.astype(np.float64)).astype(x.dtype) if x.size else x.copy()


def normal_cdf_reference(x: np.ndarray) -> np.ndarray:
    """Phi(x) = erfc(-x / sqrt 2) / 2 with Python's math.erfc: no cancellation for x << 0, where
    (1 + erf(x / sqrt 2)) / 2 loses the digits."""
    x = np.asarray(x)
    return _cdf_scalar(x.astype(np.float64)).astype(x.dtype) if x.size else x.copy()


def _loops():
    if not _compiled:
        from numba import njit

        @njit(cache=True)
        def erf_flat(src, out):  # pragma: no cover - compiled
            for i in range(src.size):
                out[i] = math.erf(src[i])

        @njit(cache=True)
        def cdf_flat(src, out):  # pragma: no cover - compiled
            for i in range(src.size):
                out[i] = 0.5 * math.erfc(-src[i] * 0.7071067811865476)

        _compiled.extend([erf_flat, cdf_flat])
    return _compiled


def _run_compiled(which: int, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    src = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    out = np.empty_like(src)
    _loops()[which](src, out)
    return out.reshape(x.shape).astype(x.dtype)


def erf_compiled(x: np.ndarray) -> np.ndarray:
    """erf over every element in a compiled loop (same float64 math.erf, then one rounding)."""
    return _run_compiled(0, x)


def normal_cdf_compiled(x: np.ndarray) -> np.ndarray:
    """Phi over every element in a compiled loop (same float64 math.erfc, then one rounding)."""
    return _run_compiled(1, x)


def erf(x: np.ndarray) -> np.ndarray:
    if config.get_kernels() == "numpy":
        return erf_reference(x)
    return erf_compiled(x)


def normal_cdf(x: np.ndarray) -> np.ndarray:
    if config.get_kernels() == "numpy":
        return normal_cdf_reference(x)
    return normal_cdf_compiled(x)
