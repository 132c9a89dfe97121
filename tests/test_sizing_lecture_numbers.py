"""The numbers the lectures print, each reproduced by `st.summary` or its arithmetic helpers."""

from __future__ import annotations

import numpy as np
import pytest

import striate as st
import striate.nn as nn
from striate.models.layers import LECUN_C3_TABLE, PartiallyConnectedConv2d
from striate.summary import conv_layer, conv_output_size, conv_params, pool_layer, pool_output_size


# ----------------------------------------------------------------------------- seed 003 arithmetic
def test_ten_5x5_filters_on_32x32x3_pad_2():
    layer = conv_layer((3, 32, 32), out_channels=10, kernel_size=5, stride=1, padding=2)
    assert layer.output_shape == (10, 32, 32)
    assert (layer.params, layer.weights, layer.biases) == (760, 750, 10)
    assert conv_params(3, 10, 5) == 760
    row = st.summary(nn.Conv2d(3, 10, 5, stride=1, padding=2), (3, 32, 32)).rows[0]
    assert row.output_shape == (10, 32, 32) and row.params == 760


@pytest.mark.parametrize("stride, size", [(1, 5), (2, 3)])
def test_7x7_input_3x3_filter_fits(stride, size):
    out = conv_output_size(7, 3, stride)
    assert out.fits and out.size == size and out.exact == size and out.unseen == 0


def test_7x7_input_3x3_filter_stride_3_does_not_fit():
    out = conv_output_size(7, 3, 3)
    assert not out.fits
    assert out.value == pytest.approx(2.3333333)
    assert out.size == 2  # what PyTorch computes (floor); the helper says what is lost
    assert out.unseen == 1
    assert out.message == "(7 - 3)/3 + 1 = 2.33: the last column of the input is never seen"


def test_summary_flags_a_stride_that_does_not_fit_instead_of_flooring_silently():
    model = nn.Sequential(nn.Conv2d(1, 4, kernel_size=3, stride=3))
    s = st.summary(model, (1, 7, 7))
    row = s.rows[0]
    assert row.output_shape == (4, 2, 2)
    assert row.warning is not None and "(7 - 3)/3 + 1 = 2.33" in row.warning and "never seen" in row.warning
    assert s.warnings == [row.warning]
    assert "2.33" in str(s) and "[!]" in str(s)
    # a fitting stride raises no flag
    assert st.summary(nn.Conv2d(1, 4, 3, stride=2), (1, 7, 7)).warnings == []


def test_padding_only_misfit_is_a_note_not_a_warning():
    out = conv_output_size(224, 7, 2, 3)
    assert not out.fits and out.unseen == 0 and "no input is lost" in out.message
    s = st.summary(nn.Conv2d(3, 8, 7, stride=2, padding=3), (3, 224, 224))
    assert s.warnings == [] and s.rows[0].note and "112.5" in s.rows[0].note


def test_pool_ceil_mode_and_dilation_and_errors():
    assert pool_output_size(112, 3, 2, ceil_mode=True).size == 56  # GoogLeNet's maxpool1
    assert pool_output_size(112, 3, 2).size == 55
    assert conv_output_size(10, 3, 1, 0, D=2).size == 6  # dilated 3x3 spans 5
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv_output_size(3, 5)
    with pytest.raises(TypeError, match="stride"):
        conv_output_size(7, 3, 1.5)
    with pytest.raises(ValueError, match="stride"):
        conv_output_size(7, 3, 0)


def test_helpers_reachable_from_st_summary():
    assert st.summary.conv_output_size(7, 3, 2).size == 3
    assert st.summary.conv_params(3, 10, 5) == 760


# ----------------------------------------------------------------------------- AlexNet (seed 003)
ALEXNET_TABLE = [  # name, (C, H, W), params: seed 003's "full (simplified) AlexNet architecture"
    ("features.0", "CONV1", (96, 55, 55), 34_944),
    ("features.2", "MAX POOL1", (96, 27, 27), 0),
    ("features.3", "NORM1", (96, 27, 27), 0),
    ("features.4", "CONV2", (256, 27, 27), 614_656),
    ("features.6", "MAX POOL2", (256, 13, 13), 0),
    ("features.7", "NORM2", (256, 13, 13), 0),
    ("features.8", "CONV3", (384, 13, 13), 885_120),
    ("features.10", "CONV4", (384, 13, 13), 1_327_488),
    ("features.12", "CONV5", (256, 13, 13), 884_992),
    ("features.14", "MAX POOL3", (256, 6, 6), 0),
    ("classifier.1", "FC6", (4096,), 37_752_832),
    ("classifier.4", "FC7", (4096,), 16_781_312),
    ("classifier.6", "FC8", (1000,), 4_097_000),
]


@pytest.fixture(scope="module")
def alexnet_summary():
    return st.summary(st.models.alexnet(), (3, 227, 227))


def test_alexnet_conv1_and_pool1_by_hand():
    conv1 = conv_layer((3, 227, 227), 96, 11, stride=4)
    assert conv1.output_shape == (96, 55, 55)
    assert (conv1.weights, conv1.biases, conv1.params) == (34_848, 96, 34_944)
    assert conv_output_size(227, 11, 4).message == "(227 - 11)/4 + 1 = 55"
    pool1 = pool_layer(conv1.output_shape, 3, 2)
    assert pool1.output_shape == (96, 27, 27) and pool1.params == 0


@pytest.mark.parametrize("name, label, shape, params", ALEXNET_TABLE, ids=[r[1] for r in ALEXNET_TABLE])
def test_alexnet_table(alexnet_summary, name, label, shape, params):
    row = alexnet_summary[name]
    assert row.output_shape == shape, label
    assert row.params == params, label
    assert row.warning is None


def test_alexnet_totals_and_receptive_fields(alexnet_summary):
    s = alexnet_summary
    assert s.total_params == s.trainable_params == 62_378_344
    assert s.warnings == []
    assert s["features.0"].receptive_field == (11, 11) and s["features.0"].jump == (4, 4)
    assert s["features.2"].receptive_field == (19, 19)
    assert s["features.14"].receptive_field == (195, 195) and s["features.14"].jump == (32, 32)
    # LeCun connections of CONV1: 55*55*96*(11*11*3 + 1); MACs without the bias
    assert s["features.0"].connections == 55 * 55 * 96 * (11 * 11 * 3 + 1)
    assert s["features.0"].macs == 55 * 55 * 96 * 11 * 11 * 3


# ----------------------------------------------------------------------------- LeNet-5 (seed 002)
LENET_TABLE = [  # name, output (C, H, W), trainable params, connections (LeCun et al. 1998)
    ("C1", (6, 28, 28), 156, 122_304),
    ("S2", (6, 14, 14), 12, 5_880),
    ("C3", (16, 10, 10), 1_516, 151_600),
    ("S4", (16, 5, 5), 32, 2_000),
    ("C5", (120, 1, 1), 48_120, 48_120),
    ("F6", (84,), 10_164, 10_164),
]


@pytest.fixture(scope="module")
def lenet_summary():
    return st.summary(st.models.lenet5("classic"), (1, 32, 32))


@pytest.mark.parametrize("name, shape, params, connections", LENET_TABLE, ids=[r[0] for r in LENET_TABLE])
def test_lenet5_layer(lenet_summary, name, shape, params, connections):
    row = lenet_summary[name]
    assert row.output_shape == shape
    assert row.params == params
    assert row.connections == connections


def test_lenet5_output_and_totals(lenet_summary):
    out = lenet_summary["output"]
    assert out.type == "EuclideanRBF" and out.output_shape == (10,)
    assert out.params == 0 and out.buffers == 84 * 10  # fixed prototypes, as in the paper
    assert lenet_summary.total_params == 60_000  # "60,000 trainable free parameters"
    assert lenet_summary.total_connections == 340_908  # "340,908 connections"
    rf = {name: lenet_summary[name].receptive_field for name in ("C1", "S2", "C3", "S4", "C5")}
    assert rf == {"C1": (5, 5), "S2": (6, 6), "C3": (14, 14), "S4": (16, 16), "C5": (32, 32)}


def test_c3_follows_table_i():
    assert [len(c) for c in LECUN_C3_TABLE] == [3] * 6 + [4] * 9 + [6]
    assert sum(len(c) for c in LECUN_C3_TABLE) == 60
    for j in range(6):  # maps 0-5: three contiguous S2 maps (cyclically)
        assert set(LECUN_C3_TABLE[j]) == {j % 6, (j + 1) % 6, (j + 2) % 6}
    for j in range(6, 12):  # maps 6-11: four contiguous
        assert set(LECUN_C3_TABLE[j]) == {(j - 6 + i) % 6 for i in range(4)}
    assert [set(c) for c in LECUN_C3_TABLE[12:15]] == [{0, 1, 3, 4}, {1, 2, 4, 5}, {0, 2, 3, 5}]
    # Table I as printed in the paper: rows are S2 maps, columns C3 maps
    paper_rows = ["X...XXX..XXXX.XX", "XX...XXX..XXXX.X", "XXX...XXX..X.XXX",
                  ".XXX..XXXX..X.XX", "..XXX..XXXX.XX.X", "...XXX..XXXX.XXX"]
    for s2, line in enumerate(paper_rows):
        assert {c3 for c3, ch in enumerate(line) if ch == "X"} == {
            c3 for c3, inputs in enumerate(LECUN_C3_TABLE) if s2 in inputs}
    layer = PartiallyConnectedConv2d()
    dense = layer.dense_weight().numpy()
    used = np.abs(dense).sum(axis=(2, 3)) > 0
    assert used.sum() == 60
    for o, inputs in enumerate(LECUN_C3_TABLE):
        assert set(np.flatnonzero(used[o])) == set(inputs)


# ----------------------------------------------------------------------------- seed 002's ConvNets
def test_mnist_convnet_shapes():
    s = st.summary(st.models.mnist_convnet(), (1, 28, 28))
    assert s["layer1.0"].output_shape == (16, 28, 28)
    assert s["layer1.3"].output_shape == (16, 14, 14)
    assert s["layer2.0"].output_shape == (32, 14, 14)
    assert s["layer2.3"].output_shape == (32, 7, 7)
    assert s["fc"].output_shape == (10,) and s["fc"].params == 7 * 7 * 32 * 10 + 10
    assert s.warnings == []


def test_lenet5_modern_shapes():
    s = st.summary(st.models.lenet5("modern"), (1, 32, 32))
    shapes = [(r.name, r.output_shape) for r in s.rows if r.params]
    assert shapes == [("conv1", (6, 28, 28)), ("conv2", (16, 10, 10)), ("fc1", (120,)), ("fc2", (84,)),
                      ("fc3", (10,))]
    assert s["pool2"].output_shape == (16, 5, 5)
    assert s.total_params == 156 + 2_416 + 48_120 + 10_164 + 850


def test_small_kernels_in_series_see_as_far_as_one_large():
    """Seed 002, "Why the smaller kernels?": two 3x3 see 5x5, three see 7x7."""
    c = 8
    stack = nn.Sequential(*[nn.Conv2d(c, c, 3, padding=1, bias=False) for _ in range(3)])
    s = st.summary(stack, (c, 16, 16))
    assert [r.receptive_field for r in s.rows] == [(3, 3), (5, 5), (7, 7)]
    one_7x7 = st.summary(nn.Conv2d(c, c, 7, padding=3, bias=False), (c, 16, 16)).rows[0]
    assert one_7x7.receptive_field == (7, 7)
    assert sum(r.params for r in s.rows) == 27 * c * c < one_7x7.params == 49 * c * c
