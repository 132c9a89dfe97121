"""Shared checks for the ONNX tests: export, check, run in onnxruntime at two batch sizes, load back."""

from __future__ import annotations

import numpy as np
import pytest

import striate as st
from harness import assert_close

onnx = pytest.importorskip("onnx", reason="the ONNX tests need onnx: pip install 'striate[onnx]'")
ort = pytest.importorskip(
    "onnxruntime", reason="the ONNX tests need onnxruntime: pip install 'striate[onnx]'"
)


def randomise_norm_stats(model) -> None:
    """Give batch norm layers trained-looking statistics, so eval mode is not an identity."""
    rng = np.random.default_rng(0)
    for m in model.modules():
        if getattr(m, "running_mean", None) is not None:
            n = m.running_mean.shape[0]
            m.running_mean._data[...] = rng.uniform(-0.3, 0.3, n)
            m.running_var._data[...] = rng.uniform(0.5, 1.5, n)
            if getattr(m, "weight", None) is not None:
                m.weight._data[...] = rng.uniform(0.6, 1.6, n)
                m.bias._data[...] = rng.uniform(-0.2, 0.2, n)


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def check_round_trip(model, shape, tmp_path, rtol=1e-5, batches=(1, 3), example_batch=2):
    """Export at `example_batch`; the full checker, onnxruntime and st.onnx.load agree with striate at
    `batches`."""
    model.eval()
    path = tmp_path / "model.onnx"
    proto = st.onnx.export(model, st.randn(example_batch, *shape), path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    sess = session(path)
    loaded = st.onnx.load(path)
    for n in batches:
        x = st.randn(n, *shape)
        with st.no_grad():
            expected = model(x).numpy()
            again = loaded(x).numpy()
        got = sess.run(None, {"input": x.numpy()})[0]
        assert_close(got, expected, rtol, f"onnxruntime, batch {n}")
        assert_close(again, expected, rtol, f"st.onnx.load, batch {n}")
    return proto, loaded
