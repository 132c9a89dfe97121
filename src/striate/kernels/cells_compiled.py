"""Numba twins of `cells.py`'s reference (one pass over each (N, H) state; serial, nogil).

Sigmoid as 1/(1 + e^-x) for x >= 0 and e^x/(1 + e^x) below, so e^x never overflows.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True, nogil=True)
def lstm_forward(a, c_prev, c, h):
    N, H = c.shape
    for n in range(N):
        for j in range(H):
            i = _sigmoid(a[n, j])
            f = _sigmoid(a[n, H + j])
            g = math.tanh(a[n, 2 * H + j])
            o = _sigmoid(a[n, 3 * H + j])
            a[n, j], a[n, H + j], a[n, 2 * H + j], a[n, 3 * H + j] = i, f, g, o
            cv = f * c_prev[n, j] + i * g
            c[n, j] = cv
            h[n, j] = o * math.tanh(cv)


@njit(cache=True, nogil=True)
def lstm_backward(a, c_prev, c, dh, dc, d):
    N, H = c.shape
    dc_prev = np.empty_like(dc)
    for n in range(N):
        for j in range(H):
            i, f, g, o = a[n, j], a[n, H + j], a[n, 2 * H + j], a[n, 3 * H + j]
            tc = math.tanh(c[n, j])
            dct = dc[n, j] + dh[n, j] * o * (1 - tc * tc)
            d[n, j] = dct * g * i * (1 - i)
            d[n, H + j] = dct * c_prev[n, j] * f * (1 - f)
            d[n, 2 * H + j] = dct * i * (1 - g * g)
            d[n, 3 * H + j] = dh[n, j] * tc * o * (1 - o)
            dc_prev[n, j] = dct * f
    return dc_prev


@njit(cache=True, nogil=True)
def gru_forward(xp, hh, h_prev, s, h):
    N, H = h.shape
    for n in range(N):
        for j in range(H):
            r = _sigmoid(xp[n, j] + hh[n, j])
            z = _sigmoid(xp[n, H + j] + hh[n, H + j])
            hn = hh[n, 2 * H + j]
            nv = math.tanh(xp[n, 2 * H + j] + r * hn)
            s[n, j], s[n, H + j], s[n, 2 * H + j], s[n, 3 * H + j] = r, z, nv, hn
            h[n, j] = nv + z * (h_prev[n, j] - nv)


@njit(cache=True, nogil=True)
def gru_backward(s, h_prev, dh, dx, dr):
    N, H = dh.shape
    dh_z = np.empty_like(dh)
    for n in range(N):
        for j in range(H):
            r, z, nv, hn = s[n, j], s[n, H + j], s[n, 2 * H + j], s[n, 3 * H + j]
            g = dh[n, j]
            da_n = g * (1 - z) * (1 - nv * nv)
            dx[n, j] = da_n * hn * r * (1 - r)
            dx[n, H + j] = g * (h_prev[n, j] - nv) * z * (1 - z)
            dx[n, 2 * H + j] = da_n
            dr[n, j] = dx[n, j]
            dr[n, H + j] = dx[n, H + j]
            dr[n, 2 * H + j] = da_n * r
            dh_z[n, j] = g * z
    return dh_z
