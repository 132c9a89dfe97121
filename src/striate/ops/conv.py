"""Convolution (seed 001's cross-correlation): the public functions and the choice of path.

Seed 001 slides a filter over the image and takes a dot product at every position:

    Y[n, o, y, x] = b[o] + sum_{c, i, j} W[o, c, i, j] * X[n, c, S*y + D*i - P, S*x + D*j - P]

and seed 002 sizes the result, floored as PyTorch does (`ops.args.conv_output_size`):

    output = (W - F + 2P) / S + 1        (with dilation D the filter spans D*(F - 1) + 1 pixels)

That formula, written out in plain NumPy with its backward, is `conv_reference.Conv2dReference`
(read it first). The same math runs on one of three paths, chosen by `conv_path`:

- `conv_reference`: the definition, term by term (`st.config.use_reference()`);
- `conv_im2col`: every receptive field copied into a column, so the layer is one matrix
  product per image (the general fast path);
- `conv_winograd`: Winograd's minimal filtering for stride-1 3x3 and 5x5 layers with enough
  channels, 2.25-2.8x fewer multiplications;
- `conv_depthwise`: a direct loop for depthwise layers (groups = in_channels), no im2col.

The thresholds live in `striate.tuning`; `st.config.use_conv_path(...)` forces a path. The
transposed convolution is `conv_transpose`; batch plumbing (chunks, threads) is `conv_chunks`.
"""

from __future__ import annotations

from typing import Any

from striate import config
from striate.autograd.tensor import Tensor
from striate.ops import args, conv_depthwise, fusion, winograd
from striate.ops.args import IntOrPair
from striate.ops.conv_chunks import ConvGeometry
from striate.ops.conv_depthwise import Conv2dDepthwise
from striate.ops.conv_im2col import Conv2dIm2col
from striate.ops.conv_reference import Conv2dReference
from striate.ops.conv_transpose import ConvTranspose2d, conv_transpose2d
from striate.ops.conv_winograd import Conv2dWinograd
from striate.ops.limits import check_output_size

_FUNCTIONS = {"im2col": Conv2dIm2col, "winograd": Conv2dWinograd, "reference": Conv2dReference,
              "depthwise": Conv2dDepthwise}


def conv_path(geometry: ConvGeometry, groups: int, in_channels: int, out_channels: int) -> str:
    """"reference", "winograd", "depthwise" or "im2col": the path a 2-D convolution of this shape takes."""
    if config.get_reference():
        return "reference"
    forced = config.get_conv_path()
    if forced == "winograd" and not winograd.supports(geometry, groups):
        raise ValueError(
            f"the Winograd path was forced (st.config.use_conv_path('winograd')) but it only "
            f"computes 3x3 and 5x5 layers with stride 1, dilation 1 and one group, not {geometry} "
            f"with groups={groups}; use 'auto' or 'im2col' for this layer"
        )
    if forced == "depthwise" and not conv_depthwise.supports(groups, in_channels):
        raise ValueError(
            f"the depthwise path was forced (st.config.use_conv_path('depthwise')) but it only computes "
            f"layers with groups == in_channels, not groups={groups} with {in_channels} input channels; "
            "use 'auto' or 'im2col' for this layer"
        )
    if forced != "auto":
        return forced
    if conv_depthwise.applies(groups, in_channels, out_channels):
        return "depthwise"
    return "winograd" if winograd.applies(geometry, groups, in_channels, out_channels) else "im2col"


def _check_channels(x: Tensor, weight: Tensor, bias: Tensor | None, groups: int, op: str) -> None:
    C, (O, Cg) = x.array.shape[1], weight.array.shape[:2]  # the arrays' tuples: no st.Size per read
    if groups <= 0:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups}")
    if C % groups or O % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide both in_channels ({C}) and out_channels ({O}) "
            f"(weight shape {weight.shape})"
        )
    if Cg * groups != C:
        raise ValueError(
            f"{op}: input has {C} channels but weight expects {Cg * groups} (weight shape "
            f"{weight.shape}, groups={groups}); the weight's dimension 1 must be in_channels/groups"
        )
    if bias is not None and bias.array.shape != (O,):
        raise ValueError(f"{op}: bias must have shape ({O},) (one per output channel), got {bias.shape}")


def _check_fits(x: Tensor, kernel: tuple[int, ...], dilation: tuple[int, ...],
                pads: tuple[tuple[int, int], ...], op: str) -> None:
    names = ("height", "width") if len(kernel) == 2 else ("length",)
    for axis, (n, k, d, (p0, p1), name) in enumerate(zip(x.array.shape[2:], kernel, dilation, pads, names)):
        span = d * (k - 1) + 1
        if span > n + p0 + p1:
            what = f"kernel {k}" if d == 1 else f"dilated kernel {span} ({k} taps, dilation {d})"
            raise ValueError(
                f"{op}: {what} > padded input {n + p0 + p1} along {name} (input {n}, padding "
                f"{p0}+{p1}, axis {axis + 2} of shape {tuple(x.shape)}); use a smaller kernel or "
                "dilation, or more padding"
            )


def _conv(x: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any, dilation: Any,
          groups: int, dims: int, op: str) -> Tensor:
    unbatched = args.check_conv_inputs(x, weight, bias, dims, op)
    if 0 in weight.array.shape:  # PyTorch rejects these too (and gives odd shapes for 0 in_channels)
        raise ValueError(f"{op}: weight of shape {weight.shape} is empty; the kernel, in_channels and "
                         "out_channels must all be at least 1")
    if unbatched:
        x = x.unsqueeze(0)
    if 0 in x.array.shape[2:] and x.array.shape[0] and x.array.shape[1]:  # as PyTorch
        raise ValueError(f"{op}: input of shape {x.shape} has an empty spatial dimension (only an empty "
                         "batch or channel dimension is allowed)")
    kernel, x_shape = weight.array.shape[2:], x.array.shape  # tuples (Tensor.shape builds an st.Size)
    stride_t = args.positive(args.int_tuple(stride, dims, "stride", op), "stride", op)
    dilation_t = args.positive(args.int_tuple(dilation, dims, "dilation", op), "dilation", op)
    pads = args.conv_padding(padding, kernel, dilation_t, stride_t, op)
    check_output_size(x_shape[:2] + tuple(n + b + a for n, (b, a) in zip(x_shape[2:], pads)), op,
                      f"padding={padding!r}")
    groups = int(groups)
    _check_channels(x, weight, bias, groups, op)
    _check_fits(x, kernel, dilation_t, pads, op)
    if dims == 1:  # conv1d: a 2-D convolution over a height-1 image
        x, weight = x.unsqueeze(2), weight.unsqueeze(2)
        x_shape = x.array.shape
        kernel, stride_t, dilation_t, pads = (1, *kernel), (1, *stride_t), (1, *dilation_t), ((0, 0), *pads)
    out_size = tuple(args.conv_output_size(n, k, s, p0, p1, d) for n, k, s, (p0, p1), d in
                     zip(x_shape[2:], kernel, stride_t, pads, dilation_t))
    geometry = ConvGeometry(*kernel, *stride_t, *dilation_t, *out_size)
    path = conv_path(geometry, groups, x_shape[1], weight.array.shape[0])
    options = {"geometry": geometry, "pads": pads[0] + pads[1]}
    if path != "winograd":
        options["groups"] = groups
    inputs = (x, weight) if bias is None else (x, weight, bias)
    cls = _FUNCTIONS[path]
    if fusion.take_relu():  # nn.Sequential's Conv2d -> ReLU as one node (`striate.ops.fusion`)
        cls = fusion.relu_fused(cls)
    out = cls.apply(*inputs, **options)
    if dims == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrPair = 1,
           padding: IntOrPair | str = 0, dilation: IntOrPair = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of an (N, C, H, W) input with (O, C/groups, kH, kW) filters.

    Output height (width likewise), floored as in PyTorch:

        OH = (H + 2P - D*(kH - 1) - 1) / S + 1          (seed 002: (W - F + 2P)/S + 1)

    `padding` is an int, a pair, 'valid' (no padding) or 'same' (output size = input size;
    stride 1 only; an odd total padding puts the extra pixel at the bottom/right).

    >>> import striate as st, striate.nn.functional as F
    >>> x = st.tensor([[[[0, 0, 0], [0, 1, 0], [0, 0, 0.]]]])
    >>> F.conv2d(x, st.ones(1, 1, 2, 2)).shape
    (1, 1, 2, 2)
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrPair = 1,
           padding: IntOrPair | str = 0, dilation: IntOrPair = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of an (N, C, L) input with (O, C/groups, k) filters.

    OL = (L + 2P - D*(k - 1) - 1) / S + 1; padding as in conv2d ('valid', 'same', int).
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


__all__ = ["ConvTranspose2d", "Conv2dIm2col", "Conv2dReference", "Conv2dWinograd", "conv1d", "conv2d",
           "Conv2dDepthwise", "conv_path", "conv_transpose2d"]
