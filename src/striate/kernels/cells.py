"""The pointwise part of one recurrent step (LSTM and GRU gates), fused: the NumPy reference
twin here, the Numba twin in `cells_compiled.py`, picked by `st.config.get_kernels()` like every
kernel. Per step and (N, H) state the NumPy twin makes ~15 passes over temporaries; the Numba
twin one pass, which at the project's sizes (N = 32, H = 256-512) is most of a step's time
besides its one matrix product.

    lstm_forward(a, c_prev, c, h)            a (N, 4H): pre-activations in, gates i f g o out
    lstm_backward(a, c_prev, c, dh, dc, d)   -> dc_{t-1};  d (N, 4H): dL/d(pre-activations)
    gru_forward(xp, hh, h_prev, s, h)        s (N, 4H): r, z, n and hh_n saved
    gru_backward(s, h_prev, dh, dx, dr)      -> dh * z;  dx, dr (N, 3H): through W_ih and W_hh

The formulas are those of `striate.ops.recurrent` (LSTMLayer, GRULayer).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from striate import config
from striate.ops.activation import stable_sigmoid

_compiled: list[ModuleType] = []


class _Reference:
    @staticmethod
    def lstm_forward(a, c_prev, c, h):
        H = c.shape[-1]
        a[:, :2 * H] = stable_sigmoid(a[:, :2 * H])
        np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
        a[:, 3 * H:] = stable_sigmoid(a[:, 3 * H:])
        i, f, gg, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        np.multiply(f, c_prev, out=c)
        c += i * gg
        np.multiply(o, np.tanh(c), out=h)

    @staticmethod
    def lstm_backward(a, c_prev, c, dh, dc, d):
        H = c.shape[-1]
        i, f, gg, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        tc = np.tanh(c)
        dc_t = dc + dh * o * (1 - tc * tc)
        d[:, :H] = dc_t * gg * i * (1 - i)
        d[:, H:2 * H] = dc_t * c_prev * f * (1 - f)
        d[:, 2 * H:3 * H] = dc_t * i * (1 - gg * gg)
        d[:, 3 * H:] = dh * tc * o * (1 - o)
        return dc_t * f

    @staticmethod
    def gru_forward(xp, hh, h_prev, s, h):
        H = h.shape[-1]
        s[:, :2 * H] = stable_sigmoid(xp[:, :2 * H] + hh[:, :2 * H])
        r, z = s[:, :H], s[:, H:2 * H]
        s[:, 3 * H:] = hh[:, 2 * H:]
        n = s[:, 2 * H:3 * H]
        np.tanh(xp[:, 2 * H:] + r * hh[:, 2 * H:], out=n)
        h[...] = n + z * (h_prev - n)

    @staticmethod
    def gru_backward(s, h_prev, dh, dx, dr):
        H = dh.shape[-1]
        r, z, n, hn = s[:, :H], s[:, H:2 * H], s[:, 2 * H:3 * H], s[:, 3 * H:]
        da_n = dh * (1 - z) * (1 - n * n)
        dx[:, :H] = da_n * hn * r * (1 - r)
        dx[:, H:2 * H] = dh * (h_prev - n) * z * (1 - z)
        dx[:, 2 * H:] = da_n
        dr[:, :2 * H] = dx[:, :2 * H]
        dr[:, 2 * H:] = da_n * r
        return dh * z


reference = _Reference()


def impl():
    """The twin to use now: the NumPy reference or the Numba module (imported on first use)."""
    if config._state["kernels"] == "numpy":
        return reference
    if not _compiled:
        from striate.kernels import cells_compiled

        _compiled.append(cells_compiled)
    return _compiled[0]
