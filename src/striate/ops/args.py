"""Arguments of windowed operations, checked and normalised in one place.

Convolution, pooling, the `nn` layers and `st.summary` all take PyTorch's forms: an int or a
tuple per spatial dimension, padding as numbers, 'valid' or 'same'. They all size their output
with seed 002's formula

    output = (W - F + 2P) / S + 1        floored; with dilation D the filter spans D*(F - 1) + 1

which lives here once (`conv_output_size`, `pool_output_size` for ceil_mode, and
`conv_transpose_output_size` for its adjoint).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from striate.autograd.tensor import Tensor

IntOrPair = int | Sequence[int]


def int_tuple(value: Any, n: int, what: str, op: str, allow_single: bool = True) -> tuple[int, ...]:
    """An int or a length-n sequence of ints, as an n-tuple (PyTorch's _pair / _single).

    `allow_single=True` also repeats a length-1 sequence n times, as the functional API does.
    """
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    if isinstance(value, str):
        raise TypeError(f"{op}: {what} must be an int or a tuple of {n} ints, got {value!r}")
    try:
        items = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: {what} must be an int or a tuple of {n} ints, got {value!r}") from None
    if len(items) == 1 and allow_single:
        return items * n
    if len(items) != n:
        raise ValueError(f"{op}: {what} must have {n} values (one per spatial dimension): {what} must "
                         f"be an int or a sequence of {n} ints, got {value!r}")
    return items


def positive(values: tuple[int, ...], what: str, op: str) -> tuple[int, ...]:
    """`values` unchanged when all are >= 1, else a ValueError naming the argument."""
    if any(v <= 0 for v in values):
        raise ValueError(f"{op}: {what} must be positive, got {values}; use {what}=1 for the default")
    return values


def same_padding(kernel: Sequence[int], dilation: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """(before, after) per dimension so that a stride-1 output keeps the input's size.

    The total is D*(F - 1); when it is odd PyTorch puts the extra pixel after (bottom/right).
    """
    return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))


def check_padding_string(padding: str, stride: Sequence[int], op: str) -> None:
    """'valid' and 'same' are the padding strings; 'same' needs stride 1."""
    if padding not in ("valid", "same"):
        raise ValueError(f"{op}: invalid padding string {padding!r}: padding must be an int, a tuple, "
                         "'valid' or 'same'")
    if padding == "same" and any(s != 1 for s in stride):
        raise ValueError(
            f"{op}: padding='same' is not supported for strided convolutions (stride={tuple(stride)}); "
            "use stride=1 or give the padding as numbers"
        )


def conv_padding(padding: Any, kernel: tuple[int, ...], dilation: tuple[int, ...],
                 stride: tuple[int, ...], op: str) -> tuple[tuple[int, int], ...]:
    """(before, after) padding per spatial dimension from an int, a tuple, 'valid' or 'same'."""
    n = len(kernel)
    if isinstance(padding, str):
        check_padding_string(padding, stride, op)
        return ((0, 0),) * n if padding == "valid" else same_padding(kernel, dilation)
    pads = int_tuple(padding, n, "padding", op)
    if any(p < 0 for p in pads):
        raise ValueError(f"{op}: padding must be non-negative, got {pads}; crop with F.pad(x, negative pads)")
    return tuple((p, p) for p in pads)


def conv_output_size(size: int, kernel: int, stride: int = 1, pad_before: int = 0,
                     pad_after: int | None = None, dilation: int = 1) -> int:
    """Seed 002's (W - F + 2P)/S + 1, floored, with dilation and uneven padding."""
    pad_after = pad_before if pad_after is None else pad_after
    return (size + pad_before + pad_after - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape: floor (or ceil) of (n + 2p - d(k-1) - 1)/s, plus 1."""
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1  # the last window would start in the right padding: drop it
    return out


def conv_transpose_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """(H - 1)*S - 2P + D*(F - 1) + output_padding + 1: the size conv2d maps back to H."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def check_tensor(t: Any, what: str, op: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {what} must be a striate Tensor, got {type(t).__name__}")


def check_conv_inputs(x: Tensor, weight: Tensor, bias: Tensor | None, dims: int, op: str) -> bool:
    """Validate ranks and dtypes of a convolution's tensors; True when x has no batch dimension."""
    check_tensor(x, "input", op)
    check_tensor(weight, "weight", op)
    if weight.ndim != dims + 2:
        raise ValueError(
            f"{op}: weight must have {dims + 2} dimensions (out_channels, in_channels/groups, "
            f"{'kH, kW' if dims == 2 else 'kL'}), got shape {weight.shape}"
        )
    if x.ndim not in (dims + 1, dims + 2):
        layout = "(N, C, H, W) or (C, H, W)" if dims == 2 else "(N, C, L) or (C, L)"
        raise ValueError(f"{op}: expected a {dims + 2}-D input {layout}, got shape {x.shape}")
    if x.dtype != weight.dtype or x.dtype.kind != "f":
        raise TypeError(
            f"{op}: input ({x.dtype}) and weight ({weight.dtype}) must be the same floating dtype; "
            "convert one with .float() or .double()"
        )
    if bias is not None:
        check_tensor(bias, "bias", op)
        if bias.dtype != x.dtype:
            raise TypeError(f"{op}: bias dtype {bias.dtype} differs from input dtype {x.dtype}")
    return x.ndim == dims + 1
