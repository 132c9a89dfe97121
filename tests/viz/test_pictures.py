"""Filters grid, activation maps and statistics, overlays and resizing (against F.interpolate),
PNG writing, and the message when a plotting library is missing."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import striate as st
import striate.nn as nn
from harness import assert_close
from striate.viz.conv_filters import filter_grid


@pytest.mark.parametrize("space, size", [((7,), (11,)), ((9, 3), (13, 5)), ((12, 12), (4, 6))])
def test_resize_matches_interpolate(space, size):
    maps = np.random.default_rng(0).random((2, *space))
    mode = "linear" if len(space) == 1 else "bilinear"
    ref = tF.interpolate(torch.from_numpy(maps)[:, None], size=size, mode=mode,
                         align_corners=False)[:, 0].numpy()
    assert_close(st.viz.resize(maps, size), ref, 1e-10, "resize")


def test_filter_grid_layouts():
    rgb = filter_grid(np.random.default_rng(0).standard_normal((10, 3, 5, 5)))
    assert rgb.shape == (3 * 6 + 1, 4 * 6 + 1, 3) and rgb.min() >= 0 and rgb.max() <= 1
    many = filter_grid(np.random.default_rng(0).standard_normal((4, 6, 3, 3)))
    assert many.shape == (4 * 4 + 1, 6 * 4 + 1, 3)
    one_d = filter_grid(np.random.default_rng(0).standard_normal((4, 2, 7)))
    assert one_d.shape == (4 * 2 + 1, 2 * 8 + 1, 3)
    # each filter normalised on its own: every tile spans 0..1
    assert np.isclose(rgb[1:6, 1:6].min(), 0) and np.isclose(rgb[1:6, 1:6].max(), 1)


def test_filters_figure_title_and_bad_model():
    pytest.importorskip("matplotlib")
    model = st.models.lenet5(variant="modern")
    fig = st.viz.filters(model)
    assert "conv1: Conv2d weight (6, 1, 5, 5)" in fig.axes[0].get_title()
    assert "conv2" in st.viz.filters(model, layer="conv2").axes[0].get_title()
    with pytest.raises(ValueError, match="no convolution layer"):
        st.viz.filters(nn.Sequential(nn.Linear(2, 2)))


def test_activations_hooks_and_statistics():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 6 * 6, 3))
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8)).astype(np.float32)
    acts = st.viz.activations(model, x)
    assert [a.name for a in acts.layers] == ["0", "1", "2", "3"]
    relu = acts["1"].output
    with st.no_grad():
        ref = st.relu(model[0](st.tensor(x))).numpy()
    np.testing.assert_array_equal(relu, ref)
    assert acts["1"].dead_fraction == pytest.approx(float((ref <= 0).all(axis=0).mean()))
    assert acts["0"].dead_fraction is None and acts["1"].maps.shape == (4, 6, 6)
    assert "dead" in acts.table() and len(acts.stats()) == 4
    only = st.viz.activations(model, x, layers="0")
    assert [a.name for a in only.layers] == ["0"]
    pytest.importorskip("matplotlib")
    assert len(acts.figure("1").axes) == 4


def test_overlay_and_png(tmp_path):
    pytest.importorskip("PIL")
    image = np.random.default_rng(0).random((1, 16, 16))
    cam = np.zeros((4, 4))
    cam[1, 2] = 1
    rgb = st.viz.overlay(image, cam, alpha=0.5)
    assert rgb.shape == (16, 16, 3) and rgb.min() >= 0 and rgb.max() <= 1
    st.viz.save_png(rgb, tmp_path / "o.png", scale=2)
    from PIL import Image

    assert Image.open(tmp_path / "o.png").size == (32, 32)


def test_missing_library_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what an absent package looks like to import
    with pytest.raises(ImportError, match=r"needs matplotlib: pip install 'striate\[viz\]'"):
        st.viz.filters(st.models.lenet5())
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"needs Pillow: pip install 'striate\[viz\]'"):
        st.viz.save_png(np.zeros((2, 2)), "never.png")
