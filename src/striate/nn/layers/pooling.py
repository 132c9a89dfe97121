"""Pooling layers: `MaxPool2d`, `AvgPool2d`, `LPPool2d`, `AdaptiveAvgPool2d`, `AdaptiveMaxPool2d`,
and the 1-D `MaxPool1d`, `AvgPool1d`.

Pooling summarises each F x F window (stride S) of every channel separately: max pooling keeps
the strongest activation, average pooling the mean, LP pooling (sum x^p)^(1/p). It has no
parameters. Output size per axis: floor((W + 2P - d (F - 1) - 1) / S) + 1 (ceil with `ceil_mode`).
The arithmetic is in `F.max_pool2d` and friends; these modules hold the settings.
"""

from __future__ import annotations

from typing import Any

import striate.nn.functional as F
from striate.autograd.tensor import Tensor
from striate.nn.module import Module


def _check_4d(layer: Module, input: Tensor) -> None:
    if input.ndim not in (3, 4):
        raise ValueError(
            f"{type(layer).__name__}: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, got shape "
            f"{tuple(input.shape)}"
        )


class MaxPool2d(Module):
    """out[n, c, i, j] = max over the F x F window at (S i - P, S j - P) (dilation d).

    `stride` defaults to `kernel_size`; with `return_indices=True` forward returns
    (values, flat indices into each H x W plane), as `F.max_pool2d`.

        >>> nn.MaxPool2d(kernel_size=2, stride=2)   # 28x28x16 -> 14x14x16
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        _check_4d(self, input)
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """out[n, c, i, j] = mean of the F x F window; with `count_include_pad=False` padded zeros
    are left out of the count. `stride` defaults to `kernel_size`."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        _check_4d(self, input)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class LPPool2d(Module):
    """out = (sum over the window of x^p)^(1/p): p = 1 is sum pooling, p -> inf max pooling."""

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        _check_4d(self, input)
        return F.lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (H_out, W_out) whatever the input size: output cell
    i covers rows floor(i H / H_out) .. ceil((i + 1) H / H_out) - 1."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        _check_4d(self, input)
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size, with the windows of `AdaptiveAvgPool2d`."""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        _check_4d(self, input)
        if self.return_indices:
            return F.adaptive_max_pool2d(input, self.output_size, return_indices=True)
        return F.adaptive_max_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


def _single(value: Any) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


class MaxPool1d(MaxPool2d):
    """Max pooling over (N, C, L): out[n, c, i] = max of the window of length F at S i - P."""

    def forward(self, input: Tensor) -> Any:
        if input.ndim not in (2, 3):
            raise ValueError(f"MaxPool1d: expected (N, C, L) or (C, L) input, got {tuple(input.shape)}")
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool1d(Module):
    """Average pooling over (N, C, L); settings are kept as 1-tuples, as PyTorch prints them."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (2, 3):
            raise ValueError(f"AvgPool1d: expected (N, C, L) or (C, L) input, got {tuple(input.shape)}")
        return F.avg_pool1d(input, self.kernel_size[0], self.stride[0], self.padding[0], self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
