"""ONNX operators run with striate's operations (for `st.onnx.load`).

One function per operator: `run(module, node, args) -> Tensor`, where `args` are the node's
inputs as tensors (None for an omitted optional input) and `module.constant(name, what)` gives
an input that must be plain numbers (a shape, axes, pads). Only the attribute values the
exporter writes and the common defaults are accepted; anything else is refused by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import striate.nn.functional as F
from striate.ops.activation import log_softmax, softmax
from striate.ops.activation_extra import SELU_ALPHA, SELU_SCALE, hardtanh
from striate.ops.elementwise import abs as st_abs
from striate.ops.elementwise import exp, log, maximum, minimum, neg, sqrt
from striate.ops.linalg import matmul
from striate.ops.reduce import amax, mean
from striate.ops.reduce import sum as st_sum
from striate.ops.shape import cast, cat, permute, reshape


class OnnxImportError(ValueError):
    """An ONNX file, operator or attribute that `st.onnx.load` cannot turn into striate code."""


class Node:
    __slots__ = ("op", "inputs", "outputs", "attrs", "name", "doc")

    def __init__(
        self, op: str, inputs: list[str], outputs: list[str], attrs: dict[str, Any], name: str, doc: str = ""
    ) -> None:
        self.op, self.inputs, self.outputs, self.attrs, self.name = op, inputs, outputs, attrs, name
        self.doc = doc

    @classmethod
    def from_proto(cls, n: Any, onnx: Any) -> Node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
        attrs = {k: [b.decode() for b in v] if isinstance(v, list) and v and isinstance(v[0], bytes) else v
                 for k, v in attrs.items()}  # e.g. an RNN's activations
        return cls(n.op_type, list(n.input), list(n.output), attrs, n.name or n.op_type, n.doc_string)

    def get(self, key: str, default: Any) -> Any:
        return self.attrs.get(key, default)

    def refuse(self, what: str) -> OnnxImportError:
        return OnnxImportError(f"node {self.name!r} ({self.op}): {what}")


Runner = Callable[[Any, Node, list], Any]
RUNNERS: dict[str, Runner] = {}


def runs(*ops: str) -> Callable[[Runner], Runner]:
    def register(fn: Runner) -> Runner:
        for op in ops:
            RUNNERS[op] = fn
        return fn

    return register


def _const(module: Any, node: Node, i: int, what: str) -> np.ndarray | None:
    if i >= len(node.inputs) or node.inputs[i] == "":
        return None
    return module.constant(node.inputs[i], what)


def _symmetric(node: Node, rank: int = 2) -> tuple[list[int], list[int] | None]:
    """ONNX pads (begins..., ends...) as PyTorch's symmetric padding, or the F.pad widths if not."""
    if node.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise node.refuse(f"auto_pad={node.get('auto_pad', '')} is not supported; write explicit pads")
    pads = list(node.get("pads", [0] * 2 * rank))
    begins, ends = pads[:rank], pads[rank:]
    if begins == ends:
        return begins, None
    widths = []
    for b, e in zip(reversed(begins), reversed(ends)):
        widths += [b, e]
    return [0] * rank, widths


@runs("Conv")
def _conv(m, node, args):
    x, w, b = (args + [None])[:3]
    if x.ndim not in (3, 4):
        raise node.refuse("only 1-D and 2-D convolutions ((N, C, L) or (N, C, H, W)) are supported")
    rank = x.ndim - 2
    pads, widths = _symmetric(node, rank)
    if widths is not None:
        x = F.pad(x, widths)
    conv = F.conv2d if rank == 2 else F.conv1d
    options = {"stride": tuple(node.get("strides", [1] * rank)), "padding": tuple(pads),
               "dilation": tuple(node.get("dilations", [1] * rank)), "groups": int(node.get("group", 1))}
    return conv(x, w, b, **options)


@runs("ConvTranspose")
def _conv_transpose(m, node, args):
    x, w, b = (args + [None])[:3]
    pads, widths = _symmetric(node)
    if widths is not None or "output_shape" in node.attrs:
        raise node.refuse("asymmetric pads or output_shape are not supported")
    return F.conv_transpose2d(
        x,
        w,
        b,
        stride=tuple(node.get("strides", [1, 1])),
        padding=tuple(pads),
        output_padding=tuple(node.get("output_padding", [0, 0])),
        groups=int(node.get("group", 1)),
        dilation=tuple(node.get("dilations", [1, 1])),
    )


@runs("MaxPool", "AveragePool")
def _pool(m, node, args):
    if len(node.outputs) > 1 and node.outputs[1]:
        raise node.refuse("the Indices output is not supported")
    kernel = tuple(node.attrs["kernel_shape"])
    rank = len(kernel)
    pads, widths = _symmetric(node, rank)
    if widths is not None or rank not in (1, 2):
        raise node.refuse("only 1-D and 2-D pooling with symmetric pads is supported")
    stride = tuple(node.get("strides", [1] * rank))
    dilation = tuple(node.get("dilations", [1] * rank))
    ceil = bool(node.get("ceil_mode", 0))
    x = args[0].unsqueeze(2) if rank == 1 else args[0]  # 1-D pooling as height-1 2-D pooling
    if rank == 1:
        kernel, stride, pads, dilation = (1, *kernel), (1, *stride), (0, *pads), (1, *dilation)
    if node.op == "MaxPool":
        y = F.max_pool2d(x, kernel, stride, tuple(pads), dilation, ceil_mode=ceil)
    else:
        y = F.avg_pool2d(x, kernel, stride, tuple(pads), ceil_mode=ceil,
                         count_include_pad=bool(node.get("count_include_pad", 0)))
    return y.squeeze(2) if rank == 1 else y


@runs("GlobalAveragePool")
def _gap(m, node, args):
    return F.adaptive_avg_pool2d(args[0], 1)


@runs("GlobalMaxPool")
def _gmp(m, node, args):
    return F.adaptive_max_pool2d(args[0], 1)


@runs("BatchNormalization")
def _batch_norm(m, node, args):
    x, scale, bias, running_mean, running_var = args[:5]
    if node.get("training_mode", 0):
        raise node.refuse("training_mode=1 files are not supported")
    return F.batch_norm(
        x,
        running_mean,
        running_var,
        scale,
        bias,
        training=m.training,
        momentum=1.0 - float(node.get("momentum", 0.9)),
        eps=float(node.get("epsilon", 1e-5)),
    )


@runs("LRN")
def _lrn(m, node, args):
    return F.local_response_norm(
        args[0],
        int(node.attrs["size"]),
        float(node.get("alpha", 1e-4)),
        float(node.get("beta", 0.75)),
        float(node.get("bias", 1.0)),
    )


@runs("Gemm")
def _gemm(m, node, args):
    a, b, c = (args + [None])[:3]
    if node.get("transA", 0):
        a = a.transpose(0, 1)
    alpha, beta = float(node.get("alpha", 1.0)), float(node.get("beta", 1.0))
    if node.get("transB", 0) and alpha == 1.0 and beta == 1.0 and (c is None or c.ndim == 1):
        return F.linear(a, b, c)
    y = matmul(a, b.transpose(0, 1) if node.get("transB", 0) else b)
    y = y * alpha if alpha != 1.0 else y
    return y if c is None else y + (c * beta if beta != 1.0 else c)


_BINARY = {
    "Add": lambda a, b: a + b,
    "Sub": lambda a, b: a - b,
    "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b,
    "MatMul": matmul,
    "Max": maximum,
    "Min": minimum,
    "Pow": lambda a, b: a**b,
}


@runs(*_BINARY)
def _binary(m, node, args):
    if len(args) != 2:
        raise node.refuse(f"{len(args)} inputs (two are supported)")
    return _BINARY[node.op](args[0], args[1])


_UNARY = {
    "Relu": F.relu,
    "Sigmoid": F.sigmoid,
    "Tanh": F.tanh,
    "Exp": exp,
    "Log": log,
    "Sqrt": sqrt,
    "Neg": neg,
    "Abs": st_abs,
    "Identity": lambda x: x,
}


@runs(*_UNARY)
def _unary(m, node, args):
    return _UNARY[node.op](args[0])


@runs("LeakyRelu")
def _leaky(m, node, args):
    return F.leaky_relu(args[0], float(node.get("alpha", 0.01)))


@runs("Clip")
def _clip(m, node, args):  # what ReLU6 / Hardtanh export to (issue 21, MobileNetV2)
    lo, hi = _const(m, node, 1, "Clip's min"), _const(m, node, 2, "Clip's max")
    return hardtanh(args[0], -math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))


@runs("Elu")
def _elu(m, node, args):
    return F.elu(args[0], float(node.get("alpha", 1.0)))


@runs("Selu", "Celu", "Softsign")
def _selu_celu_softsign(m, node, args):  # issue 21 (i21-nn-a); ONNX's defaults are SELU's constants
    if node.op == "Softsign":
        return F.softsign(args[0])
    if node.op == "Celu":
        return F.celu(args[0], float(node.get("alpha", 1.0)))
    alpha, gamma = float(node.get("alpha", SELU_ALPHA)), float(node.get("gamma", SELU_SCALE))
    if np.allclose((alpha, gamma), (SELU_ALPHA, SELU_SCALE), rtol=1e-7, atol=0):  # float32 attributes
        return F.selu(args[0])
    return F.elu(args[0], alpha) * gamma


@runs("Softmax", "LogSoftmax")
def _softmax(m, node, args):
    fn = softmax if node.op == "Softmax" else log_softmax
    return fn(args[0], dim=int(node.get("axis", -1)))


@runs("Dropout")
def _dropout(m, node, args):
    if len(node.outputs) > 1 and node.outputs[1]:
        raise node.refuse("the mask output is not supported")
    ratio = _const(m, node, 1, "dropout ratio")
    return F.dropout(args[0], 0.5 if ratio is None else float(ratio), training=m.training)


@runs("Reshape")
def _reshape(m, node, args):
    x = args[0]
    shape = [int(s) for s in _const(m, node, 1, "reshape target")]
    if not node.get("allowzero", 0):
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return reshape(x, tuple(shape))


@runs("Flatten")
def _flatten(m, node, args):
    x = args[0]
    axis = int(node.get("axis", 1)) % max(x.ndim, 1)
    return reshape(x, (int(np.prod(x.shape[:axis], dtype=np.int64)), -1))


@runs("Transpose")
def _transpose(m, node, args):
    perm = node.get("perm", list(range(args[0].ndim))[::-1])
    return permute(args[0], tuple(int(p) for p in perm))


@runs("Concat")
def _concat(m, node, args):
    if all(isinstance(a, np.ndarray) for a in args):
        return np.concatenate([np.atleast_1d(a) for a in args], axis=int(node.attrs["axis"]))
    return cat(list(args), dim=int(node.attrs["axis"]))


@runs("Cast")
def _cast(m, node, args):
    import onnx

    if isinstance(args[0], np.ndarray):
        return args[0].astype(onnx.helper.tensor_dtype_to_np_dtype(int(node.attrs["to"])))

    return cast(args[0], np.dtype(onnx.helper.tensor_dtype_to_np_dtype(int(node.attrs["to"]))))


@runs("DepthToSpace")
def _depth_to_space(m, node, args):
    """CRD is PixelShuffle; DCR (TensorFlow's order) splits the channels (r, r, C) instead."""
    r, x = int(node.attrs["blocksize"]), args[0]
    if node.get("mode", "DCR") == "CRD":
        return F.pixel_shuffle(x, r)
    n, c, h, w = x.shape
    y = permute(reshape(x, (n, r, r, c // (r * r), h, w)), (0, 3, 4, 1, 5, 2))
    return reshape(y, (n, c // (r * r), h * r, w * r))


@runs("Pad")
def _pad(m, node, args):
    pads = [int(p) for p in _const(m, node, 1, "pads")]
    value = _const(m, node, 2, "pad value")
    if _const(m, node, 3, "pad axes") is not None:
        raise node.refuse("the axes input is not supported")
    rank = len(pads) // 2
    widths = []
    for b, e in zip(reversed(pads[:rank]), reversed(pads[rank:])):
        widths += [b, e]
    mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}[
        node.get("mode", "constant")
    ]
    while len(widths) > 2 and widths[-2:] == [0, 0]:
        widths = widths[:-2]  # F.pad pads trailing axes; leading zero pairs are implied
    if mode == "constant":
        return F.pad(args[0], widths, value=0.0 if value is None else float(value))
    return F.pad(args[0], widths, mode=mode)


@runs("ReduceSum", "ReduceMean", "ReduceMax")
def _reduce(m, node, args):
    axes = node.get("axes", None)
    given = _const(m, node, 1, "reduce axes")
    if given is not None:
        axes = [int(a) for a in given]
    keep = bool(node.get("keepdims", 1))
    fn = {"ReduceSum": st_sum, "ReduceMean": mean, "ReduceMax": amax}[node.op]
    if not axes:
        if node.get("noop_with_empty_axes", 0):
            return args[0]
        axes = list(range(args[0].ndim))
    return fn(args[0], dim=tuple(int(a) for a in axes), keepdim=keep)


@runs("Slice")
def _slice(m, node, args):
    x = args[0]
    starts, ends = _const(m, node, 1, "slice starts"), _const(m, node, 2, "slice ends")
    axes = _const(m, node, 3, "slice axes")
    steps = _const(m, node, 4, "slice steps")
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * x.ndim
    for a, s, e, k in zip(axes, starts, ends, steps):
        n = x.shape[int(a)]
        index[int(a)] = slice(int(max(min(s, n), -n)), int(max(min(e, n), -n - 1)), int(k))
    return x[tuple(index)]


@runs("Unsqueeze", "Squeeze")
def _squeeze(m, node, args):
    axes = node.get("axes", None)
    given = _const(m, node, 1, "axes")
    axes = [int(a) for a in (given if given is not None else axes or [])]
    x = args[0]
    if isinstance(x, np.ndarray):
        if node.op == "Unsqueeze":
            return np.expand_dims(x, tuple(axes))
        return np.squeeze(x, tuple(axes) or None)
    if node.op == "Unsqueeze":
        for a in sorted(a % (x.ndim + len(axes)) for a in axes):
            x = x.unsqueeze(a)
        return x
    axes = (
        sorted((a % x.ndim for a in axes), reverse=True)
        if axes
        else [i for i in reversed(range(x.ndim)) if x.shape[i] == 1]
    )
    for a in axes:
        x = x.squeeze(a)
    return x
