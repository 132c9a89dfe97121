"""ONNX export of issue 21's new layers (i21-nn-a): SELU, CELU and Softsign export and load back
(onnxruntime agrees); GroupNorm, InstanceNorm, Tanhshrink and Threshold are refused with an
error naming the layer; AlphaDropout is the identity in evaluation."""

from __future__ import annotations

import pytest
from onnxhelpers import check_round_trip

import striate as st
import striate.nn as nn


def test_selu_celu_softsign_round_trip(tmp_path):
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.SELU(), nn.AlphaDropout(0.2), nn.Conv2d(4, 4, 1),
                          nn.CELU(0.7), nn.Conv2d(4, 3, 1), nn.Softsign(), nn.Flatten(),
                          nn.Linear(3 * 4 * 4, 5), nn.SELU(inplace=True))
    proto, _ = check_round_trip(model, (2, 6, 6), tmp_path)
    ops = {n.op_type for n in proto.graph.node}
    assert {"Selu", "Celu", "Softsign"} <= ops


@pytest.mark.parametrize("layer, name", [
    (nn.GroupNorm(2, 4), "GroupNorm"), (nn.InstanceNorm2d(4), "InstanceNorm2d"),
    (nn.Tanhshrink(), "Tanhshrink"), (nn.Threshold(0.1, 0.0), "Threshold"),
])
def test_layers_without_converter_are_refused_by_name(layer, name, tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), layer).eval()
    with pytest.raises(st.onnx.ExportError, match=rf"module '1' \({name}\) cannot be exported"):
        st.onnx.export(model, st.randn(2, 1, 6, 6), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
