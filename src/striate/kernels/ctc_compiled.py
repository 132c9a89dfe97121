"""Numba kernel of CTC's forward-backward recursions (the NumPy twin is
`striate.ops.ctc.recursions_numpy`; same inputs, same answers). One sample at a time, frame by
frame, position by position, with a scalar log-sum-exp; serial and nogil like every kernel."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_NEG_INF = -np.inf


@njit(cache=True, nogil=True, inline="always")
def _lse3(a, b, c):
    # the largest term contributes exp(0) = 1, so only the other two need an exp
    if a >= b and a >= c:
        m, u, v = a, b, c
    elif b >= c:
        m, u, v = b, a, c
    else:
        m, u, v = c, a, b
    if m == _NEG_INF:
        return _NEG_INF
    return m + math.log1p(math.exp(u - m) + math.exp(v - m))


@njit(cache=True, nogil=True)
def ctc_recursions(y, skip, input_lengths, end):
    """log alpha and log beta (T, N, S) from y (T, N, S) = log_probs at the extended labels."""
    T, N, S = y.shape
    alpha = np.full((T, N, S), _NEG_INF)
    beta = np.full((T, N, S), _NEG_INF)
    for n in range(N):
        if T == 0:
            break
        alpha[0, n, 0] = y[0, n, 0]
        if end[n] > 1 and S > 1:
            alpha[0, n, 1] = y[0, n, 1]
        for t in range(1, T):
            for s in range(S):
                a1 = alpha[t - 1, n, s - 1] if s >= 1 else _NEG_INF
                a2 = alpha[t - 1, n, s - 2] if s >= 2 and skip[n, s] else _NEG_INF
                alpha[t, n, s] = y[t, n, s] + _lse3(alpha[t - 1, n, s], a1, a2)
        last = input_lengths[n] - 1
        if last < 0:
            continue
        beta[last, n, end[n] - 1] = y[last, n, end[n] - 1]
        if end[n] > 1:
            beta[last, n, end[n] - 2] = y[last, n, end[n] - 2]
        for t in range(last - 1, -1, -1):
            for s in range(S):
                b1 = beta[t + 1, n, s + 1] if s + 1 < S else _NEG_INF
                b2 = beta[t + 1, n, s + 2] if s + 2 < S and skip[n, s + 2] else _NEG_INF
                beta[t, n, s] = y[t, n, s] + _lse3(beta[t + 1, n, s], b1, b2)
    return alpha, beta
