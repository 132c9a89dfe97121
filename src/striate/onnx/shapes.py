"""ONNX operators on shapes and indices, for files from other exporters (`st.onnx.load`).

PyTorch's exporter computes `x.view(x.size(0), -1)` with Shape -> Gather -> Unsqueeze -> Concat,
an LSTM's zero initial state with Shape ... ConstantOfShape or Expand, and `out[:, -1]` with
Gather. Values computed from shapes are NumPy integer arrays (see OnnxModule.forward): these
operators accept them and stay in NumPy; on tensors they use striate's differentiable indexing.
"""

from __future__ import annotations

import numpy as np

from striate.creation import from_numpy
from striate.onnx.runners import _const, runs


@runs("Expand")
def _expand(m, node, args):
    shape = [int(s) for s in _const(m, node, 1, "expand shape")]
    x = args[0]
    if isinstance(x, np.ndarray):
        return np.broadcast_to(x, np.broadcast_shapes(x.shape, tuple(shape))).copy()
    target = np.broadcast_shapes(tuple(x.shape), tuple(shape))  # ONNX broadcasts both ways
    return x.expand(*target) if target != tuple(x.shape) else x


@runs("Shape")
def _shape(m, node, args):
    shape = np.asarray(args[0].shape, dtype=np.int64)
    return shape[node.get("start", 0):node.get("end", None)]


@runs("Gather")
def _gather(m, node, args):
    """np.take(data, indices, axis): on shapes in NumPy; on a tensor as x[:, ..., indices]."""
    data, indices = args[0], args[1]
    if not isinstance(indices, np.ndarray):
        raise node.refuse("Gather indices computed from tensor values are not supported")
    axis = int(node.get("axis", 0))
    if isinstance(data, np.ndarray):
        return np.asarray(np.take(data, indices, axis=axis))
    axis %= data.ndim
    index = int(indices) if indices.ndim == 0 else indices.astype(np.int64)
    return data[(slice(None),) * axis + (index,)]


@runs("ConstantOfShape")
def _constant_of_shape(m, node, args):
    import onnx

    shape = tuple(int(s) for s in np.atleast_1d(args[0]))
    value = node.attrs.get("value")
    fill = np.zeros(1, np.float32) if value is None else onnx.numpy_helper.to_array(value).reshape(-1)
    full = np.full(shape, fill[0], dtype=fill.dtype)
    return full if full.dtype.kind in "iub" else from_numpy(full)
