"""Models in and out as ONNX: `st.onnx.export(model, example_input, path)` and `st.onnx.load(path)`.

    st.onnx.export(net, st.randn(1, 1, 32, 32), "lenet.onnx")    # runs in onnxruntime, opens in Netron
    net2 = st.onnx.load("lenet.onnx")                             # a striate Module: run it, fine-tune it

Both need the optional extra: pip install 'striate[onnx]' (onnx; onnxruntime to run the file).
`striate.onnx.export` explains how the graph is found, `striate.onnx.load` which operators load.
"""

from __future__ import annotations

from striate.onnx.export import export, to_model_proto
from striate.onnx.graph import ExportError
from striate.onnx.load import OnnxImportError, OnnxModule, load

__all__ = ["ExportError", "OnnxImportError", "OnnxModule", "export", "load", "to_model_proto"]
