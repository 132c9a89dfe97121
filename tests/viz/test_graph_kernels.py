"""The autograd graph of seed 003's f = (x + y) z, the lecture's kernels through F.conv2d, and the
receptive-field box from the summary checked against the input gradient of one unit."""

from __future__ import annotations

import numpy as np
import pytest

import striate as st
import striate.nn as nn
from striate.viz.kernels import LECTURE_KERNELS, receptive_field_box


def seed003():
    x, y, z = (st.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    q = x + y
    return x, y, z, q, q * z


def test_graph_of_seed003_has_values_and_gradients(tmp_path):
    x, y, z, q, f = seed003()
    g = st.viz.graph(f, names={"x": x, "y": y, "z": z, "q": q, "f": f})
    labels = sorted(tuple(v) for v in g.labels.values())
    assert labels == sorted([("x = -2", "grad -4"), ("y = 5", "grad -4"), ("z = -4", "grad 3"),
                             ("q = 3", "grad -4"), ("f = -12", "grad 1"), ("+",), ("*",)])
    assert len(g.edges) == 6
    assert x.grad is None, "drawing the graph must not write .grad"
    svg = g.svg()
    assert svg.startswith("<svg") and "q = 3" in svg and "grad 3" in svg
    g.save(tmp_path / "g.svg")
    assert (tmp_path / "g.svg").read_text() == svg
    assert "rankdir=LR" in g.dot()
    f.backward()
    with pytest.raises(RuntimeError, match="freed"):
        st.viz.graph(f)


def test_graph_of_a_small_network_shows_shapes(monkeypatch):
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    out = net(st.randn(2, 3)).sum()
    g = st.viz.graph(out)
    # nn.Sequential fuses Linear + ReLU into one node (striate.nn.layers.fused): its label says so
    assert any("LinearReLU" in v for v in g.labels.values())
    assert any(v[0].startswith("input = shape (2, 3)") for v in g.labels.values())
    monkeypatch.setattr(st.tuning, "FUSE_SEQUENTIAL", False)  # unfused: ReLU is its own node
    assert any("relu" in v for v in st.viz.graph(net(st.randn(2, 3)).sum()).labels.values())


def test_lecture_kernels_match_a_direct_correlation():
    from skimage import data

    img = data.camera()[::8, ::8].astype(np.float32) / 255
    out = st.viz.apply_kernels(img)
    assert set(out) == set(LECTURE_KERNELS)
    np.testing.assert_allclose(out["identity"], img, rtol=1e-6)
    padded = np.pad(img, 1)
    k = LECTURE_KERNELS["sobel x"]
    ref = sum(k[i, j] * padded[i:i + img.shape[0], j:j + img.shape[1]] for i in range(3) for j in range(3))
    np.testing.assert_allclose(out["sobel x"], ref, rtol=1e-5, atol=1e-6)
    rgb = st.viz.apply_kernels(data.astronaut()[::16, ::16].transpose(2, 0, 1) / 255.0)
    assert rgb["sharpen"].shape == (3, 32, 32)


@pytest.mark.parametrize("unit", [(0, 0), (2, 3), (3, 1)])
def test_receptive_field_box_is_the_gradient_support(unit):
    st.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Conv2d(2, 2, 3, stride=2),
                          nn.AvgPool2d(2), nn.Conv2d(2, 2, 5, padding=2))
    for p in model.parameters():  # positive weights and inputs: every path carries gradient
        p.data = st.tensor(np.abs(p.numpy()) + 0.1)
    x = st.tensor(np.random.default_rng(0).random((1, 1, 28, 28)).astype(np.float32) + 0.1,
                  requires_grad=True)
    model(x)[0, 0, unit[0], unit[1]].backward()
    rows, cols = np.nonzero(x.grad.numpy()[0, 0])
    box = receptive_field_box(model, (1, 28, 28), "4", unit)
    assert box == ((rows.min(), rows.max() + 1), (cols.min(), cols.max() + 1))


def test_receptive_field_box_contains_the_gradient_on_a_zoo_model():
    model = st.models.mnist_convnet().eval()
    x = st.tensor(np.random.default_rng(1).standard_normal((1, 1, 28, 28)).astype(np.float32),
                  requires_grad=True)
    model.layer2[0](model.layer1(x))[0, 3, 5, 6].backward()
    rows, cols = np.nonzero(x.grad.numpy()[0, 0])
    (r0, r1), (c0, c1) = receptive_field_box(model, (1, 28, 28), "layer2.0", (5, 6))
    assert r0 <= rows.min() and rows.max() < r1 and c0 <= cols.min() and cols.max() < c1
    rf = st.summary(model, (1, 28, 28))["layer2.0"].receptive_field
    assert (r1 - r0, c1 - c0) == tuple(rf) == (14, 14)  # 5, +1 by the 2x2 pool, +4 x jump 2
