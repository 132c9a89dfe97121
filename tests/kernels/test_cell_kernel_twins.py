"""The fused LSTM/GRU step kernels: the Numba twin equals the NumPy reference (float32 and
float64), and a whole bidirectional layer's outputs and gradients agree under both settings."""

import numpy as np
import pytest

import striate as st
import striate.nn as nn
from striate.kernels import cells, cells_compiled

RTOL = {np.float32: 2e-6, np.float64: 1e-13}


def _twins(name, make, dtype):
    outs = []
    for module in (cells.reference, cells_compiled):
        arrays = make(np.random.default_rng(0), dtype)
        ret = getattr(module, name)(*arrays)
        outs.append([*arrays, ret] if ret is not None else arrays)
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=RTOL[dtype], atol=RTOL[dtype])


N, H = 5, 7


def _lstm_fwd(r, dt):
    return [r.standard_normal((N, 4 * H)).astype(dt) * 3, r.standard_normal((N, H)).astype(dt),
            np.zeros((N, H), dt), np.zeros((N, H), dt)]


def _lstm_bwd(r, dt):
    a = r.uniform(0.01, 0.99, (N, 4 * H)).astype(dt)
    a[:, 2 * H:3 * H] = r.uniform(-0.99, 0.99, (N, H))
    return [a, *[r.standard_normal((N, H)).astype(dt) for _ in range(4)], np.zeros((N, 4 * H), dt)]


def _gru_fwd(r, dt):
    return [r.standard_normal((N, 3 * H)).astype(dt) * 3, r.standard_normal((N, 3 * H)).astype(dt),
            r.standard_normal((N, H)).astype(dt), np.zeros((N, 4 * H), dt), np.zeros((N, H), dt)]


def _gru_bwd(r, dt):
    s = r.uniform(0.01, 0.99, (N, 4 * H)).astype(dt)
    return [s, r.standard_normal((N, H)).astype(dt), r.standard_normal((N, H)).astype(dt),
            np.zeros((N, 3 * H), dt), np.zeros((N, 3 * H), dt)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,make", [("lstm_forward", _lstm_fwd), ("lstm_backward", _lstm_bwd),
                                       ("gru_forward", _gru_fwd), ("gru_backward", _gru_bwd)])
def test_numba_twin_equals_numpy_reference(name, make, dtype):
    _twins(name, make, dtype)


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_layer_same_under_both_kernel_settings(cls):
    st.manual_seed(0)
    m = getattr(nn, cls)(3, 6, num_layers=2, bidirectional=True)
    x = np.random.default_rng(1).standard_normal((9, 4, 3)).astype(np.float32)
    results = []
    for kernels in ("numpy", "numba"):
        with st.config.use_kernels(kernels):
            m.zero_grad()
            xs = st.from_numpy(x.copy()).requires_grad_(True)
            packed = nn.utils.rnn.pack_padded_sequence(xs, [9, 4, 7, 2], enforce_sorted=False)
            out, _ = m(packed)
            y = nn.utils.rnn.pad_packed_sequence(out)[0]
            (y * y).sum().backward()
            results.append([y.numpy(), xs.grad.numpy(), *[p.grad.numpy() for p in m.parameters()]])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
