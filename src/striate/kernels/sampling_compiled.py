"""Numba twins of `striate.sampling_math`'s float32 paths: PyTorch's uniform and Box-Muller
arithmetic one value at a time (the NumPy twins make ~40 array passes; a 100M-weight VGG layer
took minutes to initialise).

Same answers as the NumPy twins, including the single rounding of every fused multiply-add:
`_fma32` adds in float64 (the float32 product is exact there) and settles the one case a
second rounding can get wrong, a sum on an exact float32 midpoint, by the sign of the sum's
rounding error. Imported only when a compiled sampling kernel first runs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from striate.sampling_math import (
    _COS_P,
    _FOUR_OVER_PI,
    _LOG_P,
    _LOG_Q1,
    _LOG_Q2,
    _MIN_NORMAL,
    _MINUS_DP,
    _SIN_P,
    _SQRTHF,
)

_ONE = np.float32(1.0)
_HALF = np.float32(0.5)
_MINUS_TWO = np.float32(-2.0)
_TWO_PI = np.float32(2.0 * math.pi)
_TWO_M24 = np.float32(2.0**-24)
_MASK24 = np.uint64((1 << 24) - 1)
P0, P1, P2, P3, P4, P5, P6, P7, P8 = _LOG_P
DP1, DP2, DP3 = _MINUS_DP
S0, S1, S2 = _SIN_P
C0, C1, C2 = _COS_P


@njit(cache=True, nogil=True)
def _fma32(a, b, c):
    p = np.float64(a) * np.float64(b)  # exact: 24 x 24 bits
    cc = np.float64(c)
    s = p + cc
    near = np.float32(s)
    back = np.float64(near)
    diff = s - back
    if diff != 0.0:
        other = back + 2.0 * diff  # the other float32 neighbour iff s is their midpoint
        if np.float64(np.float32(other)) == other:
            bb = s - p
            err = (p - (s - bb)) + (cc - bb)  # s + err == p + c exactly
            if err != 0.0 and (err > 0.0) == (other > back):
                return np.float32(other)
    return near


@njit(cache=True, nogil=True)
def _log_cephes(x):
    if x <= 0:
        return np.float32(np.nan)
    x = max(x, _MIN_NORMAL)
    mant, ex = math.frexp(np.float64(x))  # x = mant * 2**ex, mant in [0.5, 1): the bit trick
    xm = np.float32(mant)
    e = np.float32(ex)
    if xm < _SQRTHF:
        e = e - _ONE
        xm = (xm - _ONE) + xm
    else:
        xm = xm - _ONE
    z = xm * xm
    y = _fma32(P0, xm, P1)
    y = _fma32(y, xm, P2)
    y = _fma32(y, xm, P3)
    y = _fma32(y, xm, P4)
    y = _fma32(y, xm, P5)
    y = _fma32(y, xm, P6)
    y = _fma32(y, xm, P7)
    y = _fma32(y, xm, P8)
    y = y * xm
    y = _fma32(y, z, e * _LOG_Q1)
    y = _fma32(-z, _HALF, y)
    return _fma32(e, _LOG_Q2, xm + y)


@njit(cache=True, nogil=True)
def _sincos_cephes(x):
    sin_negative = x < 0
    x = abs(x)
    octant = np.int32(x * _FOUR_OVER_PI)
    octant = (octant + 1) & ~1
    y = np.float32(octant)
    if (octant & 4) != 0:
        sin_negative = not sin_negative
    cos_negative = ((~(octant - 2)) & 4) != 0
    x = _fma32(y, DP1, x)
    x = _fma32(y, DP2, x)
    x = _fma32(y, DP3, x)
    z = x * x
    yc = _fma32(C0, z, C1)
    yc = _fma32(yc, z, C2)
    yc = yc * z
    yc = _fma32(yc, z, -(z * _HALF))
    yc = yc + _ONE
    ys = _fma32(S0, z, S1)
    ys = _fma32(ys, z, S2)
    ys = _fma32(ys * z, x, x)
    if (octant & 2) == 0:
        sin, cos = ys, yc
    else:
        sin, cos = yc, ys
    return (-sin if sin_negative else sin), (-cos if cos_negative else cos)


@njit(cache=True, nogil=True)
def uniform_f32(bits, low, span):
    out = np.empty(bits.shape[0], np.float32)
    for i in range(bits.shape[0]):
        x = np.float32(bits[i] & _MASK24) * _TWO_M24
        out[i] = _fma32(x, span, low)
    return out


@njit(cache=True, nogil=True)
def box_muller_f32(blocks, mean, std):
    out = np.empty_like(blocks)
    for b in range(blocks.shape[0]):
        for j in range(8):
            radius = np.sqrt(_MINUS_TWO * _log_cephes(_ONE - blocks[b, j]))
            sin, cos = _sincos_cephes(_TWO_PI * blocks[b, j + 8])
            out[b, j] = _fma32(radius * cos, std, mean)
            out[b, j + 8] = _fma32(radius * sin, std, mean)
    return out
