"""The printed table of `st.summary`, its bookkeeping (modes, hooks, random stream) and its CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import striate as st
import striate.nn as nn
from striate import models
from striate.summary import summary_cli

HEADER = ["Layer (type)", "Output Shape", "Param #", "Connections", "MACs", "RF", "Jump"]


@pytest.fixture(scope="module")
def lenet_table():
    return str(st.summary(models.lenet5("classic"), (1, 32, 32)))


def test_lenet5_table(lenet_table):
    lines = lenet_table.splitlines()
    assert lines[0].startswith('Model: "LeNet5"') and "[1, 32, 32]" in lines[0]
    header = lines[2]
    positions = [header.index(col) for col in HEADER]
    assert positions == sorted(positions)
    expected_rows = {
        "C1 (Conv2d)": ["[6, 28, 28]", "156", "122,304"],
        "S2 (TrainableSubsampling)": ["[6, 14, 14]", "12", "5,880"],
        "C3 (PartiallyConnectedConv2d)": ["[16, 10, 10]", "1,516", "151,600"],
        "S4 (TrainableSubsampling)": ["[16, 5, 5]", "32", "2,000"],
        "C5 (Conv2d)": ["[120, 1, 1]", "48,120", "48,120"],
        "F6 (Linear)": ["[84]", "10,164", "10,164"],
        "output (EuclideanRBF)": ["[10]", "840"],
    }
    for label, cells in expected_rows.items():
        (line,) = [ln for ln in lines if ln.startswith(label + " ")]
        tokens = re.split(r"\s{2,}", line[len(label):].strip())
        for cell in cells:
            assert cell in tokens, (label, cell, line)
    for total in ["Total params: 60,000", "Trainable params: 60,000", "Non-trainable params: 0",
                  "Connections: 340,908"]:
        assert total in lenet_table
    assert "Warnings" not in lenet_table
    # columns line up: every row is as wide as the header bar or narrower
    bar = lines[1]
    assert set(bar) == {"="} and all(len(ln) <= len(bar) for ln in lines[3:3 + 13])


def test_alexnet_table():
    text = str(st.summary(models.alexnet(), (3, 227, 227)))
    lines = text.splitlines()
    assert all(col in lines[2] for col in HEADER)
    conv1 = next(ln for ln in lines if ln.startswith("features.0 (Conv2d)"))
    assert "[96, 55, 55]" in conv1 and "34,944" in conv1 and "105,705,600" in conv1
    pool1 = next(ln for ln in lines if ln.startswith("features.2 (MaxPool2d)"))
    assert re.split(r"\s{2,}", pool1)[1:4] == ["[96, 27, 27]", "0", "0"]
    assert "Total params: 62,378,344" in text
    assert "Mult-adds (MACs): 1,135,256,096 (1.14 G)" in text


def test_summary_restores_modes_leaves_no_hooks_no_grads_and_keeps_the_random_stream():
    model = models.mnist_convnet()
    model.train()
    model.layer2.eval()  # a mixed state must come back exactly
    st.manual_seed(5)
    before = st.get_rng_state()
    s = st.summary(model, (1, 28, 28))
    assert st.get_rng_state() == before
    assert model.training and model.layer1.training and not model.layer2.training
    assert all(not m._forward_hooks for m in model.modules())
    assert all(p.grad is None for p in model.parameters())
    assert s.output_shape == (10,)
    # running statistics untouched (eval mode during the pass)
    np.testing.assert_array_equal(model.layer1[1].running_mean.numpy(), np.zeros(16, np.float32))


def test_summary_totals_and_memory():
    s = st.summary(models.mnist_convnet(), (1, 28, 28))
    assert s.total_params == s.trainable_params == 29_034 and s.non_trainable_params == 0
    assert s.buffer_elements == 2 * (16 + 32)  # running mean and var (float buffers only)
    assert s.activation_bytes == 4 * sum(int(np.prod(r.output_shape)) for r in s.rows)
    assert s.param_bytes == 4 * (29_034 + 96)
    assert s.total_macs == sum(r.macs for r in s.rows)
    frozen = models.mnist_convnet()
    frozen.layer1.requires_grad_(False)
    f = st.summary(frozen, (1, 28, 28))
    assert f.non_trainable_params == 416 + 32 and f.trainable_params == 29_034 - 448
    assert "frozen" in str(f)


def test_summary_of_an_mlp_and_of_shared_modules():
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    s = st.summary(mlp, (1, 28, 28))
    assert [r.output_shape for r in s.rows] == [(784,), (32,), (32,), (10,)]
    assert s.rows[1].connections == 32 * 785
    assert s.rows[1].receptive_field == (28, 28)  # a fully connected unit sees the whole image
    flat = st.summary(nn.Linear(20, 5), (20,))
    assert flat.rows[0].receptive_field is None and flat.total_params == 105

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)

        def forward(self, x):
            return self.conv(self.conv(x))

    t = st.summary(Twice(), (2, 8, 8))
    assert [r.params for r in t.rows] == [38, 0] and t.rows[1].shared
    assert [r.receptive_field for r in t.rows] == [(3, 3), (5, 5)]
    assert t.total_params == 38 and "(shared)" in str(t)


def test_receptive_field_through_branches():
    s = st.summary(models.resnet18_cifar(), (3, 32, 32))
    # the block output sums the 3x3-3x3 path and the 1x1 shortcut: the wider field wins
    # stem 3 + layer1's four 3x3 convs (+2 each) = 11; layer2.0.conv1 (stride 2) 13, conv2 13 + 2*2 = 17
    assert s["layer1.1.conv2"].receptive_field == (11, 11)
    assert s["layer2.0.conv2"].receptive_field == (17, 17) and s["layer2.0.conv2"].jump == (2, 2)
    assert s["layer2.0.downsample.0"].receptive_field == (11, 11)  # the 1x1 shortcut adds nothing
    assert s["layer2.1.conv1"].receptive_field == (21, 21)  # after the sum: 17 (the wider) + 2*2
    u = st.summary(models.unet(base=4, depth=2), (1, 16, 16))
    assert u["ups.0.up"].jump == (2, 2) and u["outc"].jump == (1, 1)
    assert u.output_shape == (2, 16, 16)


def test_summary_input_errors():
    model = models.lenet5("modern")
    with pytest.raises(TypeError, match="input_size"):
        st.summary(model, "1x32x32")
    with pytest.raises(ValueError, match="without the batch dimension"):
        st.summary(model, (1, 0, 32))
    with pytest.raises(RuntimeError, match=r"input of shape \(1, 1, 28, 28\)"):
        st.summary(model, (1, 28, 28))
    with pytest.raises(TypeError, match="nn.Module"):
        st.summary(lambda x: x, (1, 2, 2))


def test_to_dict_is_json():
    data = st.summary(models.lenet5("classic"), (1, 32, 32)).to_dict()
    text = json.dumps(data)
    assert data["total_params"] == 60_000 and data["rows"][0]["connections"] == 122_304
    assert json.loads(text)["rows"][0]["receptive_field"] == [5, 5]


def test_summary_cli(capsys):
    assert summary_cli(["lenet5", "--variant", "classic"]) == 0
    out = capsys.readouterr().out
    assert "122,304" in out and "Total params: 60,000" in out
    assert summary_cli(["--conv", "7", "3", "3"]) == 0
    expected = "(7 - 3)/3 + 1 = 2.33: the last column of the input is never seen"
    assert capsys.readouterr().out.strip() == expected
    assert summary_cli(["--list"]) == 0
    assert "resnet18_cifar" in capsys.readouterr().out.split()
    assert summary_cli(["mnist_convnet", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == "mnist_convnet" and data["rows"][0]["output_shape"] == [16, 28, 28]
