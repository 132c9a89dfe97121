"""ONNX nodes for the layers whose settings live on the module rather than in the graph.

Most layers need nothing here: a Conv2d records a Pad (for non-zero padding modes) and a convolution Function
node, a Linear a Linear node, activations their own nodes, and `striate.onnx.functions`
converts those. The layers below either compute their result from values the graph node does
not keep (batch norm's running statistics, LRN's k, average pooling's divisor rule, the
transposed convolution's output padding) or pool adaptively.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from striate.nn.layers.conv import ConvTranspose2d
from striate.nn.layers.normalization import LayerNorm, LocalResponseNorm, _BatchNorm
from striate.nn.layers.pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d
from striate.nn.layers.recurrent import RNNBase
from striate.onnx.functions import adaptive_pool, check_pool_shape
from striate.onnx.graph import ExportError, GraphBuilder
from striate.onnx.layer_norm import export_layer_norm
from striate.onnx.recurrent import export_recurrent

ModuleConverter = Callable[[GraphBuilder, Any, list, tuple, Any, str], None]


def _pair(v: Any) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _batch_norm(g: GraphBuilder, m: _BatchNorm, ins, inputs, out_t, out) -> None:
    if m.running_mean is None:
        raise ExportError("it normalizes with batch statistics even in eval mode (track_running_stats=False)")
    x = inputs[0]
    channels = m.num_features
    weight = g.value(m.weight) if m.weight is not None else g.const(np.ones(channels, x.dtype), "bn_scale")
    bias = g.value(m.bias) if m.bias is not None else g.const(np.zeros(channels, x.dtype), "bn_bias")
    g.node(
        "BatchNormalization",
        [ins[0], weight, bias, g.value(m.running_mean), g.value(m.running_var)],
        out,
        epsilon=float(m.eps),
    )


def _lrn(g: GraphBuilder, m: LocalResponseNorm, ins, inputs, out_t, out) -> None:
    if inputs[0].ndim != 4:
        raise ExportError("ONNX's LRN takes (N, C, H, W) inputs only")
    g.node("LRN", ins, out, size=int(m.size), alpha=float(m.alpha), beta=float(m.beta), bias=float(m.k))


def _avg_pool(g: GraphBuilder, m: AvgPool2d | AvgPool1d, ins, inputs, out_t, out) -> None:
    if getattr(m, "divisor_override", None) is not None:
        raise ExportError("ONNX's AveragePool has no divisor_override")
    one_d = isinstance(m, AvgPool1d)
    k, p = _pair(m.kernel_size[0] if one_d else m.kernel_size), _pair(m.padding[0] if one_d else m.padding)
    s = k if m.stride is None or m.stride == () else _pair(m.stride[0] if one_d else m.stride)
    if one_d:  # checked as a height-1 2-D pooling
        k, s, p = (1, k[0]), (1, s[0]), (0, p[0])
        check_pool_shape((*inputs[0].shape[:2], 1, inputs[0].shape[2]), (*out_t.shape[:2], 1, out_t.shape[2]),
                         (k, s, p, (1, 1), bool(m.ceil_mode)))
        k, s, pads = k[1:], s[1:], [p[1], p[1]]
    else:
        check_pool_shape(inputs[0].shape, out_t.shape, (k, s, p, (1, 1), bool(m.ceil_mode)))
        pads = [p[0], p[1], p[0], p[1]]
    g.node("AveragePool", ins, out, kernel_shape=list(k), strides=list(s), pads=pads,
           ceil_mode=int(bool(m.ceil_mode)), count_include_pad=int(bool(m.count_include_pad)))


def _adaptive(kind: str) -> ModuleConverter:
    def convert(g: GraphBuilder, m, ins, inputs, out_t, out) -> None:
        if getattr(m, "return_indices", False):
            raise ExportError("return_indices=True has no ONNX equivalent here")
        g.dtype = inputs[0].dtype
        adaptive_pool(g, kind, inputs[0].shape, out_t.shape, ins, out)

    return convert


def _conv_transpose(g: GraphBuilder, m: ConvTranspose2d, ins, inputs, out_t, out) -> None:
    x = inputs[0]
    if x.ndim != 4:
        raise ExportError("only batched (N, C, H, W) inputs can be exported")
    k, s, p, d = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding), _pair(m.dilation)
    # the output size decides output_padding (it may have come from forward's output_size)
    op = [
        out_t.shape[2 + i] - ((x.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1)
        for i in range(2)
    ]
    args = [ins[0], g.value(m.weight)] + ([g.value(m.bias)] if m.bias is not None else [])
    g.node(
        "ConvTranspose",
        args,
        out,
        kernel_shape=list(k),
        strides=list(s),
        pads=[p[0], p[1], p[0], p[1]],
        dilations=list(d),
        group=int(m.groups),
        output_padding=op,
    )


MODULES: dict[type, ModuleConverter] = {
    _BatchNorm: _batch_norm,
    LocalResponseNorm: _lrn,
    AvgPool2d: _avg_pool,
    AvgPool1d: _avg_pool,
    AdaptiveAvgPool2d: _adaptive("Average"),
    AdaptiveMaxPool2d: _adaptive("Max"),
    ConvTranspose2d: _conv_transpose,
    LayerNorm: export_layer_norm,
    RNNBase: export_recurrent,  # several outputs: gets the tuple of (output, h_n[, c_n]) and their names
}


def module_converter(module: Any) -> ModuleConverter | None:
    for cls in type(module).__mro__:
        # a subclass with its own forward() computes something else: trace it instead
        if cls in MODULES and type(module).forward is cls.forward:
            return MODULES[cls]
    return None
