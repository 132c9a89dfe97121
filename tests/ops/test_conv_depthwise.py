"""The depthwise convolution path (`ops.conv_depthwise`) against PyTorch and against its twin.

Forced on (`st.config.use_conv_path("depthwise")`) for a seeded sweep of depthwise layers
(groups = channels, 1-3 filters per channel, kernels 1-5, stride 1-3, dilation 1-2, padding
0-2 / 'same' / pairs, with and without bias) and single-channel first layers (C = 1, groups = 1,
which the path computes with m = O), on both kernel sets, two threads and one image per chunk
(every chunk and thread boundary crossed). The harness checks forward, every gradient in float32
(1e-5) and float64 (1e-10) and a float64 gradcheck on the small rows.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as TF
from test_conv import _conv_row

import striate as st
import striate.nn.functional as F
from harness import check_case
from striate import tuning
from striate.kernels import depthwise_compiled, reference
from striate.ops import conv


def _sweep_depthwise(n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    rows = []
    while len(rows) < n:
        N, C, m = int(rng.integers(1, 5)), int(rng.integers(1, 9)), int(rng.integers(1, 4))
        first_layer = len(rows) % 5 == 4  # C = 1, groups = 1: LeNet's first layer
        C, G = (1, 1) if first_layer else (C, C)
        kh, kw = (int(v) for v in rng.integers(1, 6, 2))
        sh, sw = (int(v) for v in rng.integers(1, 4, 2))
        dh, dw = (int(v) for v in rng.integers(1, 3, 2))
        H, W = (int(v) for v in rng.integers(1, 20, 2))
        kind = rng.choice(["int", "pair", "same"])
        if kind == "same":
            sh = sw = 1
            padding = "same"
            ph = pw = 0
        else:
            ph, pw = (int(v) for v in rng.integers(0, 3, 2))
            padding = ph if kind == "int" else (ph, pw)
            ph, pw = (ph, ph) if kind == "int" else (ph, pw)
        if H + 2 * ph < dh * (kh - 1) + 1 or W + 2 * pw < dw * (kw - 1) + 1:
            continue
        bias = bool(rng.integers(0, 2))
        kwargs = {"stride": (sh, sw), "padding": padding, "dilation": (dh, dw), "groups": G}
        name = (f"dw_N{N}C{C}m{m}x{H}x{W}_k{kh}x{kw}_s{sh}{sw}_d{dh}{dw}_p{padding}"
                f"{'_b' if bias else ''}").replace(" ", "")
        small = ((1, C, min(H, 5), min(W, 5)), (C * m, 1, kh, kw))  # for the gradcheck
        if min(H, 5) + 2 * ph < dh * (kh - 1) + 1 or min(W, 5) + 2 * pw < dw * (kw - 1) + 1:
            small = None
        rows.append(_conv_row(name, (N, C, H, W), (C * m, 1, kh, kw), bias, kwargs, F.conv2d, TF.conv2d,
                              small=small))
    return rows


DEPTHWISE_ROWS = _sweep_depthwise(30, seed=14)


@pytest.mark.parametrize("case", DEPTHWISE_ROWS, ids=str)
@pytest.mark.parametrize("kernels", ["numba", "numpy"])
def test_depthwise_parity(case, kernels, monkeypatch):
    monkeypatch.setattr(tuning, "CHUNK_BYTES", 1)
    monkeypatch.setitem(st.config._state, "threads", 2)
    with st.config.use_kernels(kernels), st.config.use_conv_path("depthwise"):
        check_case(case)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("seed", range(6))
def test_depthwise_kernel_twins(dtype, rtol, seed):
    """The Numba kernels and their NumPy twins agree (they differ only by FMA rounding and the
    order of the weight gradient's sum)."""
    rng = np.random.default_rng(seed)
    N, C, m = int(rng.integers(1, 4)), int(rng.integers(1, 6)), int(rng.integers(1, 4))
    kh, kw, sh, sw, dh, dw = (int(v) for v in rng.integers(1, 4, 6))
    oh, ow = (int(v) for v in rng.integers(1, 9, 2))
    hp, wp = (oh - 1) * sh + dh * (kh - 1) + 1 + int(rng.integers(0, 2)), (ow - 1) * sw + dw * (kw - 1) + 1
    xp, w = (rng.standard_normal(s).astype(dtype) for s in ((N, C, hp, wp), (C, m, kh, kw)))
    bias, g = (rng.standard_normal(s).astype(dtype) for s in ((C * m,), (N, C * m, oh, ow)))
    outs = []
    for impl in (reference, depthwise_compiled):
        y, gxp = np.empty((N, C * m, oh, ow), dtype), np.zeros_like(xp)
        impl.depthwise_forward(xp, w, bias, sh, sw, dh, dw, y)
        gw = impl.depthwise_backward(g, xp, w, sh, sw, dh, dw, gxp)
        gw_only = impl.depthwise_backward(g, xp, w, sh, sw, dh, dw, None)
        np.testing.assert_array_equal(gw, gw_only)
        outs.append((y, gw, gxp))
    for got, want in zip(outs[1], outs[0]):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())
    # the definition at one output pixel (the far corner, the last filter)
    i, j = np.meshgrid(np.arange(kh), np.arange(kw), indexing="ij")
    corner = xp[N - 1, C - 1][(oh - 1) * sh + i * dh, (ow - 1) * sw + j * dw]
    expected = bias[-1] + (w[C - 1, m - 1] * corner).sum()
    np.testing.assert_allclose(outs[0][0][N - 1, -1, -1, -1], expected, rtol=rtol * 10)


def test_depthwise_is_chosen_for_depthwise_layers_only():
    geometry = conv.ConvGeometry(3, 3, 1, 1, 1, 1, 16, 16)
    assert conv.conv_path(geometry, 32, 32, 32) == "depthwise"
    assert conv.conv_path(geometry, 32, 32, 64) == "depthwise"  # two filters per channel
    assert conv.conv_path(geometry, 1, 32, 32) != "depthwise"
    assert conv.conv_path(geometry, 8, 32, 32) != "depthwise"  # 4 channels per group: im2col
    forced = st.config.use_conv_path("depthwise")
    with forced, pytest.raises(ValueError, match="depthwise path was forced.*groups == in_channels"):
        F.conv2d(st.randn(1, 4, 5, 5), st.randn(4, 2, 3, 3), groups=2)


def test_depthwise_layers_export_to_onnx(tmp_path):
    """The ONNX exporter knows the new path's Function (a grouped Conv node), and onnxruntime and
    st.onnx.load give the same outputs."""
    ort = pytest.importorskip("onnxruntime", reason="needs onnxruntime: pip install 'striate[onnx]'")
    import striate.nn as nn

    net = nn.Sequential(nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=4), nn.ReLU(),
                        nn.Conv2d(8, 8, (3, 1), padding=(1, 0), groups=8, bias=False))
    net.eval()
    path = tmp_path / "depthwise.onnx"
    proto = st.onnx.export(net, st.randn(2, 4, 9, 9), path)
    assert [n.op_type for n in proto.graph.node].count("Conv") == 2
    x = st.randn(3, 4, 9, 9)
    with st.no_grad():
        expected = net(x).numpy()
        again = st.onnx.load(path)(x).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x.numpy()})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(again, expected, rtol=1e-5, atol=1e-5)
