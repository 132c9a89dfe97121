"""Convolution layers: `Conv1d`, `Conv2d`, `ConvTranspose2d`.

As in the lectures (and every deep-learning library), "convolution" is cross-correlation: each
output value is the dot product of the kernel with the input patch under it, plus a bias:

    out[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] x[n, c, s i + d u - p, s j + d v - p]

Output size per spatial axis: (W - d (F - 1) - 1 + 2P) / S + 1, rounded down. The arithmetic is in
`F.conv2d` / `F.conv1d` / `F.conv_transpose2d`; these modules hold the weights and settings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import striate.nn.functional as F
from striate.autograd.tensor import Tensor
from striate.creation import empty
from striate.nn import init
from striate.nn.layers.linear import check_device, check_positive_int, reset_bias_uniform
from striate.nn.module import Module
from striate.nn.parameter import Parameter
from striate.ops import args

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def ntuple(value: Any, n: int, name: str, layer: str = "") -> tuple[int, ...]:
    """An int (repeated n times) or a length-n sequence of ints, as a tuple (`ops.args.int_tuple`)."""
    return args.int_tuple(value, n, name, layer or "nn", allow_single=False)


class _ConvNd(Module):
    """Shared construction, initialisation and repr of the convolution layers."""

    _dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any, transposed: bool, output_padding: Any, groups: int, bias: bool,
                 padding_mode: str, device: Any, dtype: Any) -> None:
        super().__init__()
        name, n = type(self).__name__, self._dims
        check_device(device)
        check_positive_int(in_channels, "in_channels", name)
        check_positive_int(out_channels, "out_channels", name)
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        kernel_size = ntuple(kernel_size, n, "kernel_size", name)
        stride = ntuple(stride, n, "stride", name)
        dilation = ntuple(dilation, n, "dilation", name)
        if min(kernel_size) <= 0 or min(stride) <= 0 or min(dilation) <= 0:
            raise ValueError(
                f"{name}: kernel_size, stride and dilation must be positive, got kernel_size={kernel_size}, "
                f"stride={stride}, dilation={dilation}"
            )
        if isinstance(padding, str):
            args.check_padding_string(padding, stride, name)
        else:
            padding = ntuple(padding, n, "padding", name)
            if min(padding) < 0:
                raise ValueError(f"{name}: padding must be non-negative, got {padding}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = ntuple(output_padding, n, "output_padding", name)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad takes (left, right) pairs starting from the LAST axis
        pairs = args.conv_padding(padding, kernel_size, dilation, stride, name)
        self._reversed_padding_repeated_twice = tuple(p for pair in reversed(pairs) for p in pair)
        if transposed:
            shape = (in_channels, out_channels // groups, *kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *kernel_size)
        self.weight = Parameter(empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform_, a=sqrt(5)),
        fan_in = in_channels/groups * kernel area; the bias from the same bound."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        reset_bias_uniform(self.bias, self.weight)

    def extra_repr(self) -> str:
        n = self._dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _conv_forward(self, input: Tensor, conv) -> Tensor:
        """Check the input, then convolve; a non-zero padding mode pads first (PyTorch's way)."""
        self._check_input(input)
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def _check_input(self, input: Tensor) -> None:
        n = self._dims
        if input.ndim not in (n + 1, n + 2):
            raise ValueError(
                f"{type(self).__name__}: expected a {n + 2}-D (batched) or {n + 1}-D (unbatched) input, "
                f"got shape {tuple(input.shape)}"
            )
        channels = input.shape[-n - 1]
        expected = self.in_channels
        if channels != expected:
            raise ValueError(
                f"{type(self).__name__}({self.in_channels}, {self.out_channels}): input of shape "
                f"{tuple(input.shape)} has {channels} channels at dim {input.ndim - n - 1}; expected "
                f"{expected}"
            )


class _Conv(_ConvNd):
    """A forward convolution layer (Conv1d, Conv2d): one constructor, the functional op per class."""

    _functional: Any

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0,
                         groups, bias, padding_mode, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self._functional)


class Conv2d(_Conv):
    """2-D convolution over an input (N, C_in, H, W) -> (N, C_out, H_out, W_out), with
    H_out = floor((H + 2 P - d (F - 1) - 1) / S) + 1.

    `weight` is (out_channels, in_channels / groups, kH, kW), `bias` (out_channels,).
    `padding` may be an int, a pair, 'valid' (0) or 'same' (output size = input size, stride 1);
    `padding_mode` 'reflect', 'replicate' or 'circular' pads with `F.pad` first, then convolves
    with padding 0, as PyTorch does.

        >>> conv = nn.Conv2d(3, 10, kernel_size=5, padding=2)   # 32x32x3 -> 32x32x10, 760 params
    """

    _dims = 2
    _functional = staticmethod(F.conv2d)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L) -> (N, C_out, L_out); `weight` is (out, in / groups, k)."""

    _dims = 1
    _functional = staticmethod(F.conv1d)


class ConvTranspose2d(_ConvNd):
    """Transposed ("fractionally strided") 2-D convolution: the gradient of `Conv2d` with respect
    to its input, used to upsample (U-Net). Output size per axis:

        H_out = (H - 1) S - 2 P + d (F - 1) + output_padding + 1

    `weight` is (in_channels, out_channels / groups, kH, kW). `forward(x, output_size=...)` picks
    the output_padding that produces the requested size, as PyTorch does.
    """

    _dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        if padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for {type(self).__name__}, got {padding_mode!r}'
            )
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a pair, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True,
                         output_padding, groups, bias, padding_mode, device, dtype)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op < 0 or op >= max(s, d):
                raise ValueError(
                    f"{type(self).__name__}: output_padding {self.output_padding} must be smaller than "
                    f"either stride {self.stride} or dilation {self.dilation}"
                )

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:
        if output_size is None:
            return self.output_padding
        n = self._dims
        output_size = tuple(int(s) for s in output_size)
        if len(output_size) == input.ndim:
            output_size = output_size[-n:]
        if len(output_size) != n:
            raise ValueError(
                f"ConvTranspose2d: output_size must have {n} or {input.ndim} elements, got {output_size}"
            )
        spatial = input.shape[-n:]
        min_sizes = [args.conv_transpose_output_size(spatial[d], self.kernel_size[d], self.stride[d],
                                                     self.padding[d], 0, self.dilation[d]) for d in range(n)]
        max_sizes = [min_sizes[d] + self.stride[d] - 1 for d in range(n)]
        for d in range(n):
            if not min_sizes[d] <= output_size[d] <= max_sizes[d]:
                raise ValueError(
                    f"requested an output size of {list(output_size)}, but valid sizes range from "
                    f"{min_sizes} to {max_sizes} (for an input of {list(spatial)})"
                )
        return tuple(output_size[d] - min_sizes[d] for d in range(n))

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        self._check_input(input)
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)
