"""nn.LayerNorm as ONNX's LayerNormalization (opset 17) and back.

    y = (x - mean(x)) / sqrt(var(x) + eps) * scale + B      over the last k axes (axis = -k)

Export reads normalized_shape and eps from the module (the graph node does not keep eps);
import runs F.layer_norm over the axes from `axis` on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import striate.nn.functional as F
from striate.nn.layers.normalization import LayerNorm
from striate.onnx.graph import ExportError, GraphBuilder
from striate.onnx.runners import runs


def export_layer_norm(g: GraphBuilder, m: LayerNorm, ins: list, inputs: tuple, out_t: Any, out: str) -> None:
    if g.opset < 17:
        raise ExportError("ONNX's LayerNormalization needs opset 17 or later")
    shape = tuple(m.normalized_shape)
    dtype = inputs[0].dtype
    scale = g.value(m.weight) if m.weight is not None else g.const(np.ones(shape, dtype), "ln_scale")
    args = [ins[0], scale] + ([g.value(m.bias)] if m.bias is not None else [])
    g.node("LayerNormalization", args, out, axis=-len(shape), epsilon=float(m.eps))


@runs("LayerNormalization")
def run_layer_norm(m, node, args):
    x, scale, bias = (args + [None, None])[:3]
    if node.get("stash_type", 1) != 1 or (len(node.outputs) > 1 and any(node.outputs[1:])):
        raise node.refuse("only stash_type=1 and the single output Y are supported")
    axis = int(node.get("axis", -1)) % x.ndim
    return F.layer_norm(x, tuple(x.shape[axis:]), scale, bias, float(node.get("epsilon", 1e-5)))
