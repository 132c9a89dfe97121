"""ONNX nodes for the autograd graph's operations (the functional code inside `forward()`).

Each converter receives the graph builder, the recorded `Function` node (whose attributes hold
what its backward needs: axes, slopes, saved shapes), the ONNX names of its inputs, the input
tensors, the output tensor and the output's ONNX name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from striate.onnx.graph import ExportError, GraphBuilder
from striate.ops.activation_extra import SELU_ALPHA, SELU_SCALE

Converter = Callable[[GraphBuilder, Any, list, tuple, Any, str], None]
FUNCTIONS: dict[str, Converter] = {}


def converts(*names: str) -> Callable[[Converter], Converter]:
    def register(fn: Converter) -> Converter:
        for name in names:
            FUNCTIONS[name] = fn
        return fn

    return register


_SIMPLE = {
    "Add": "Add",
    "Sub": "Sub",
    "Mul": "Mul",
    "Div": "Div",
    "ReLU": "Relu",
    "Sigmoid": "Sigmoid",
    "Tanh": "Tanh",
    "Exp": "Exp",
    "Log": "Log",
    "Sqrt": "Sqrt",
    "Neg": "Neg",
    "Abs": "Abs",
    "Clone": "Identity",
    "MatMul": "MatMul",
    "Maximum": "Max",
    "Minimum": "Min",
}


@converts(*_SIMPLE)
def _simple(g, fn, ins, parents, out_t, out):
    g.node(_SIMPLE[type(fn).__name__], ins, out)


@converts("LeakyReLU")
def _leaky_relu(g, fn, ins, parents, out_t, out):
    g.node("LeakyRelu", ins, out, alpha=float(fn.slope))


@converts("Hardtanh")
def _hardtanh(g, fn, ins, parents, out_t, out):  # ReLU6, Hardtanh: Clip(x, min, max) (issue 21, MobileNetV2)
    dt = parents[0].dtype
    bounds = [g.const(np.asarray(fn.lo, dt), "clip_min"), g.const(np.asarray(fn.hi, dt), "clip_max")]
    g.node("Clip", [ins[0], *bounds], out)


@converts("ELU")
def _elu(g, fn, ins, parents, out_t, out):
    g.node("Elu", ins, out, alpha=float(fn.alpha))


@converts("SELU", "CELU")
def _scaled_elu(g, fn, ins, parents, out_t, out):  # issue 21 (i21-nn-a)
    if type(fn).__name__ == "SELU":
        g.node("Selu", ins, out, alpha=SELU_ALPHA, gamma=SELU_SCALE)
    else:
        g.node("Celu", ins, out, alpha=float(1 / fn.inp))


@converts("Softsign")
def _softsign(g, fn, ins, parents, out_t, out):
    g.node("Softsign", ins, out)


@converts("Softmax", "LogSoftmax")
def _softmax(g, fn, ins, parents, out_t, out):
    g.node(type(fn).__name__, ins, out, axis=int(fn.axis))


@converts("PowScalar")
def _pow(g, fn, ins, parents, out_t, out):
    g.node("Pow", [ins[0], g.const(np.asarray(fn.p, parents[0].dtype), "exponent")], out)


@converts("Reshape")
def _reshape(g, fn, ins, parents, out_t, out):
    g.node("Reshape", [ins[0], g.ints(g.batch_shape(out_t.shape, parents[0].shape))], out)


@converts("Permute")
def _permute(g, fn, ins, parents, out_t, out):
    g.node("Transpose", ins, out, perm=[int(i) for i in np.argsort(fn.inverse)])


@converts("Cat")
def _cat(g, fn, ins, parents, out_t, out):
    g.node("Concat", ins, out, axis=int(fn.axis))


@converts("Cast")
def _cast(g, fn, ins, parents, out_t, out):
    onnx = g.onnx
    g.node("Cast", ins, out, to=onnx.helper.np_dtype_to_tensor_dtype(out_t.dtype))


@converts("Sum", "Mean")
def _reduce(g, fn, ins, parents, out_t, out):
    axes = list(range(parents[0].ndim)) if fn.axes is None else [int(a) for a in np.atleast_1d(fn.axes)]
    keep = int(bool(fn.keepdim))
    if type(fn).__name__ == "Sum" or g.opset >= 18:
        g.node("Reduce" + type(fn).__name__, [ins[0], g.ints(axes, "axes")], out, keepdims=keep)
    else:  # ReduceMean takes its axes as an attribute before opset 18
        g.node("ReduceMean", ins, out, axes=axes, keepdims=keep)


@converts("Linear")
def _linear(g, fn, ins, parents, out_t, out):
    if parents[0].ndim == 2:
        g.node("Gemm", ins, out, transB=1)
        return
    wt = g.node("Transpose", [ins[1]], perm=[1, 0])
    if len(ins) == 2:
        g.node("MatMul", [ins[0], wt], out)
    else:
        g.node("Add", [g.node("MatMul", [ins[0], wt]), ins[2]], out)


@converts("Conv2dIm2col", "Conv2dWinograd", "Conv2dReference", "Conv2dDepthwise")  # ops.conv's paths
def _conv(g, fn, ins, parents, out_t, out):
    x, w = parents[0], parents[1]
    kh, kw, sh, sw, dh, dw, oh, ow = fn.geometry
    top, bottom, left, right = fn.pads
    group = int(x.shape[1] // w.shape[1])
    if x.ndim == 3:  # conv1d ran as a height-1 2-D convolution
        g.node("Conv", ins, out, kernel_shape=[kw], strides=[sw], dilations=[dw], pads=[left, right],
               group=group)
        return
    g.node("Conv", ins, out, kernel_shape=[kh, kw], strides=[sh, sw], dilations=[dh, dw],
           pads=[top, left, bottom, right], group=group)


@converts("WindowMax")
def _max_pool(g, fn, ins, parents, out_t, out):
    window = getattr(fn, "window", None)
    if window is None:
        raise ExportError(
            "an adaptive or 1-D max pooling called in forward() cannot be exported; "
            "use nn.MaxPool2d / nn.AdaptiveMaxPool2d modules"
        )
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil = window
    check_pool_shape(parents[0].shape, out_t.shape, window)
    g.node(
        "MaxPool",
        ins,
        out,
        kernel_shape=[kh, kw],
        strides=[sh, sw],
        pads=[ph, pw, ph, pw],
        dilations=[dh, dw],
        ceil_mode=int(ceil),
    )


def check_pool_shape(in_shape, out_shape, window) -> None:
    """ONNX's ceil_mode keeps a last window that starts in the right padding; PyTorch drops it."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil = window
    for n, k, s, p, d, o in (
        (in_shape[2], kh, sh, ph, dh, out_shape[2]),
        (in_shape[3], kw, sw, pw, dw, out_shape[3]),
    ):
        onnx_out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
        if onnx_out != o:
            raise ExportError(
                f"pooling with ceil_mode over {n} pixels (kernel {k}, stride {s}, padding {p}) "
                f"gives {o} outputs in PyTorch and {onnx_out} in ONNX; change padding or ceil_mode"
            )


@converts("AdaptiveAvgPool2d")
def _adaptive_avg(g, fn, ins, parents, out_t, out):
    g.dtype = parents[0].dtype
    adaptive_pool(g, "Average", parents[0].shape, out_t.shape, ins, out)


def adaptive_pool(g: GraphBuilder, kind: str, in_shape, out_shape, ins, out) -> None:
    (H, W), (OH, OW) = in_shape[2:], out_shape[2:]
    if (OH, OW) == (1, 1):
        g.node(f"Global{kind}Pool", ins, out)
    elif H % OH == 0 and W % OW == 0:
        g.node(f"{kind}Pool", ins, out, kernel_shape=[H // OH, W // OW], strides=[H // OH, W // OW])
    elif kind == "Average":  # unequal windows: y = (Rh / rows) @ x @ (Rw / cols)^T, as striate computes it
        dtype = np.dtype(np.float32) if g.dtype is None else g.dtype
        rows, cols = _mean_matrix(H, OH, dtype), _mean_matrix(W, OW, dtype)
        right = g.node("MatMul", [ins[0], g.const(np.ascontiguousarray(cols.T), "pool_cols")])
        g.node("MatMul", [g.const(rows, "pool_rows"), right], out)
    else:
        raise ExportError(
            f"adaptive max pooling from {H}x{W} to {OH}x{OW} has unequal windows, which ONNX "
            "cannot express; use an input size divisible by the output size"
        )


def _mean_matrix(n: int, out: int, dtype) -> np.ndarray:
    """Row i averages positions [floor(i n / out), ceil((i + 1) n / out)): PyTorch's adaptive windows."""
    i = np.arange(out)
    start, end = (i * n) // out, -((-(i + 1) * n) // out)
    pos = np.arange(n)
    member = ((pos >= start[:, None]) & (pos < end[:, None])).astype(np.float64)
    return (member / member.sum(1, keepdims=True)).astype(dtype)


@converts("AvgPool2d")
def _avg_pool(g, fn, ins, parents, out_t, out):
    raise ExportError("avg_pool2d called in forward() cannot be exported; use the nn.AvgPool2d module")


@converts("RNNLayer", "LSTMLayer", "GRULayer")
def _recurrent(g, fn, ins, parents, out_t, out):
    raise ExportError(
        "a recurrent layer run outside nn.RNN/LSTM/GRU.forward (striate.ops.recurrent called directly, or "
        "a subclass with its own forward()) cannot be exported; call the nn.RNN/LSTM/GRU module on tensors"
    )


@converts("GetItem")
def _getitem(g, fn, ins, parents, out_t, out):
    """Slices -> Slice; an integer index i as the slice i:i+1, then Squeeze of that axis."""
    index = fn.index if isinstance(fn.index, tuple) else (fn.index,)
    ints = (int, np.integer)
    if not fn.basic or not all(isinstance(i, (slice, *ints)) for i in index):
        raise ExportError(f"indexing with {fn.index!r} cannot be exported; only slices and integers "
                          "(x[:, :, a:b], x[:, 1]) can")
    starts, ends, axes, steps, dropped = [], [], [], [], []
    for axis, sl in enumerate(index):
        n = parents[0].shape[axis]
        if isinstance(sl, ints):
            dropped.append(axis)
            sl = slice(int(sl) % n, int(sl) % n + 1)
        start, stop, step = sl.indices(n)
        if (start, stop, step) != (0, n, 1):
            if axis == 0 and g.batch is not None:
                raise ExportError("indexing the batch axis cannot be exported with dynamic_batch=True")
            starts.append(start), ends.append(stop), axes.append(axis), steps.append(step)
    if not axes:
        g.node("Identity", ins, out)
        return
    sliced = g.node(
        "Slice",
        [
            ins[0],
            g.ints(starts, "starts"),
            g.ints(ends, "ends"),
            g.ints(axes, "axes"),
            g.ints(steps, "steps"),
        ],
        None if dropped else out,
    )
    if dropped:
        g.node("Squeeze", [sliced, g.ints(dropped, "axes")], out)


@converts("Stack")
def _stack(g, fn, ins, parents, out_t, out):
    axes = g.ints([int(fn.axis)], "axes")
    g.node("Concat", [g.node("Unsqueeze", [name, axes]) for name in ins], out, axis=int(fn.axis))


@converts("Pad")
def _pad(g, fn, ins, parents, out_t, out):
    widths = fn.widths  # NumPy-style ((before, after), ...) per axis
    mode = {
        "constant": "constant",
        "reflect": "reflect",
        "replicate": "edge",
        "edge": "edge",
        "circular": "wrap",
        "wrap": "wrap",
    }.get(str(fn.mode))
    if mode is None or (mode == "wrap" and g.opset < 19):
        raise ExportError(f"padding mode {fn.mode!r} needs opset 19 or is not in ONNX")
    pads = [int(b) for b, _ in widths] + [int(a) for _, a in widths]
    inputs = [ins[0], g.ints(pads, "pads")]
    if mode == "constant":  # the node keeps no fill value: read it off a padded place of the output
        axis = next((i for i, (b, a) in enumerate(widths) if b > 0 or a > 0), None)
        if axis is not None and out_t.numel():
            where = [0] * out_t.ndim
            where[axis] = 0 if widths[axis][0] > 0 else -1
            inputs.append(g.const(np.asarray(out_t._data[tuple(where)], out_t.dtype), "pad_value"))
    g.node("Pad", inputs, out, mode=mode)


@converts("PixelShuffle")
def _pixel_shuffle(g, fn, ins, parents, out_t, out):
    """PixelShuffle's channel order c*r*r + i*r + j is ONNX DepthToSpace's CRD mode."""
    if parents[0].ndim != 4:
        raise ExportError(f"PixelShuffle exports for 4-D (N, C, H, W) inputs only, got {parents[0].ndim}-D")
    g.node("DepthToSpace", ins, out, blocksize=int(fn.r), mode="CRD")


@converts("BatchNorm")
def _batch_norm(g, fn, ins, parents, out_t, out):
    """F.batch_norm called in forward() (modules use BatchNormalization): (x - mean) * scale + shift."""
    if fn.training:
        raise ExportError("batch norm with batch statistics (training=True) cannot be exported")
    x = parents[0]
    per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    scale = fn.invstd if fn.weight is None else fn.invstd * fn.weight
    centred = g.node("Sub", [ins[0], g.const(fn.mean.astype(x.dtype).reshape(per_channel), "bn_mean")])
    scaled = g.node("Mul", [centred, g.const(scale.astype(x.dtype).reshape(per_channel), "bn_scale")])
    has_bias = len(parents) == 3 or (len(parents) == 2 and fn.weight is None)
    if not has_bias:
        g.node("Identity", [scaled], out)
        return
    shift = g.node("Reshape", [ins[-1], g.ints(per_channel)])
    g.node("Add", [scaled, shift], out)
