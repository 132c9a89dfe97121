"""ONNX export of the new layers where ONNX has the operation: the padding layers (Pad) and
PixelShuffle (DepthToSpace, CRD); the others are refused with the layer's name."""

from __future__ import annotations

import numpy as np
import pytest
from onnxhelpers import check_round_trip, onnx, session

import striate as st
import striate.nn as nn


@pytest.mark.parametrize(
    "pad",
    [
        nn.ZeroPad2d((1, 2, 0, 1)),
        nn.ConstantPad2d(1, 0.5),
        nn.ReflectionPad2d(2),
        nn.ReplicationPad2d((1, 0, 2, 1)),
    ],
    ids=lambda m: type(m).__name__,
)
def test_padding_then_conv_round_trip(pad, tmp_path):
    model = nn.Sequential(pad, nn.Conv2d(2, 3, 3))
    proto, _ = check_round_trip(model, (2, 6, 5), tmp_path)
    assert "Pad" in {n.op_type for n in proto.graph.node}


def test_pixel_shuffle_is_depth_to_space(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.PixelShuffle(2))
    proto, _ = check_round_trip(model, (3, 4, 5), tmp_path)
    assert "DepthToSpace" in {n.op_type for n in proto.graph.node}


def test_depth_to_space_dcr_loads(tmp_path):
    """A DCR DepthToSpace (TensorFlow's channel order) from another exporter runs in st.onnx.load."""
    x = np.random.default_rng(0).standard_normal((1, 8, 2, 3)).astype(np.float32)
    node = onnx.helper.make_node("DepthToSpace", ["input"], ["output"], blocksize=2, mode="DCR")
    graph = onnx.helper.make_graph(
        [node],
        "d2s",
        [onnx.helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, x.shape)],
        [onnx.helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, (1, 2, 4, 6))],
    )
    path = tmp_path / "d2s.onnx"
    onnx.save(onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)]), str(path))
    expected = session(path).run(None, {"input": x})[0]
    assert np.array_equal(st.onnx.load(path)(st.tensor(x)).numpy(), expected)


@pytest.mark.parametrize(
    "layer, shape",
    [(nn.PixelUnshuffle(2), (2, 4, 4)), (nn.Unfold(2), (2, 4, 4))],
    ids=lambda v: type(v).__name__,
)
def test_other_layers_are_refused_by_name(layer, shape, tmp_path):
    model = nn.Sequential(nn.Conv2d(2, 2, 1), layer)
    with pytest.raises(st.onnx.ExportError, match=f"module '1' \\({type(layer).__name__}\\)"):
        st.onnx.export(model, st.randn(1, *shape), tmp_path / "m.onnx")
